// Why the domain rejects a command. Each code has a stable slug (the last
// segment of an HTTP problem's `type`) and says whether a retry can help.
#pragma once

#include <string_view>
#include <system_error>

#include "tessera/base/error.h"

namespace tessera::domain {

enum class errc {
  validation = 1,
  code_malformed,
  code_unknown,
  code_exhausted,
  code_expired,
  code_not_yet_valid,
  code_archived,
  code_restricted,
  code_assigned_elsewhere,
  code_used,
  session_full,
  session_not_open,
  capacity_below_occupancy,
  invitation_not_pending,
  invitation_bound,
  contract_unknown,
  session_unknown,
  already_exists,
  invitation_unknown,
  registration_unknown,
  registration_not_active,
  code_invited,
  batch_not_ready,  // its codes are still being generated: retry the call later
  batch_unknown,
};

const tessera::error_category& domain_category() noexcept;
std::error_code make_error_code(errc e) noexcept;

// The stable slug of a code, e.g. "code-exhausted".
std::string_view slug(errc e) noexcept;

}  // namespace tessera::domain

template <>
struct std::is_error_code_enum<tessera::domain::errc> : std::true_type {};
