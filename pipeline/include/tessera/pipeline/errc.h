// Errors of the command pipeline itself (the domain's and the log's have
// their own categories).
#pragma once

#include <system_error>

#include "tessera/base/error.h"

namespace tessera::pipeline {

enum class errc {
  // The caller's If-Match named another version of the stream: read again,
  // then decide whether to retry.
  precondition_failed = 1,
  // The idempotency key was first used for another request (another
  // fingerprint): a client bug; retrying cannot help.
  idempotency_key_reused,
};

const tessera::error_category& pipeline_category() noexcept;
std::error_code make_error_code(errc e) noexcept;

}  // namespace tessera::pipeline

template <>
struct std::is_error_code_enum<tessera::pipeline::errc> : std::true_type {};
