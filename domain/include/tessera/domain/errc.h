// Why the domain rejects a command. Each code has a stable slug (the last
// segment of an HTTP problem's `type`) and says whether a retry can help.
#pragma once

#include <string>
#include <string_view>
#include <system_error>

namespace tessera {

// What a caller should do with an error, in the spirit of abseil's status codes.
enum class retry {
  no,       // the request itself is wrong or conflicts with settled state
  command,  // decide again on fresh state (e.g. a version conflict)
  call,     // the same call may succeed later (e.g. a broker or disk is down)
};

// Every Tessera error category derives from this, so any std::error_code from
// any module can be asked whether to retry.
class error_category : public std::error_category {
 public:
  virtual retry advice(int condition) const noexcept = 0;
};

retry retry_advice(const std::error_code& ec) noexcept;

}  // namespace tessera

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
};

const tessera::error_category& domain_category() noexcept;
std::error_code make_error_code(errc e) noexcept;

// The stable slug of a code, e.g. "code-exhausted".
std::string_view slug(errc e) noexcept;

// A rejected command: the reason, and a sentence for the human reading it.
struct Rejection {
  errc code;
  std::string detail;
};

}  // namespace tessera::domain

template <>
struct std::is_error_code_enum<tessera::domain::errc> : std::true_type {};
