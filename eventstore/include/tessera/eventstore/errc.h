// Errors of the event store, as std::error_code values that know whether a
// retry can help (tessera::retry_advice).
#pragma once

#include <system_error>

#include "tessera/base/error.h"

namespace tessera::eventstore {

enum class errc {
  version_conflict = 1,    // a stream's version is not the expected one: decide again
  io_error,                // the disk or RocksDB failed: the call may succeed later
  corruption,              // the log does not read back as written: do not retry
  invalid_argument,        // the request is malformed (empty stream id, no events)
  idempotency_key_reused,  // the key was recorded for a request with another fingerprint
};

const tessera::error_category& eventstore_category() noexcept;
std::error_code make_error_code(errc e) noexcept;

}  // namespace tessera::eventstore

template <>
struct std::is_error_code_enum<tessera::eventstore::errc> : std::true_type {};
