#include "validation.h"

#include <string>

namespace tessera::domain::detail {

namespace {
constexpr std::size_t kMaxNameLength = 200;
}

bool valid_id(std::string_view id) {
  if (id.empty() || id.size() > 64) return false;
  for (char c : id) {
    const bool ok = (c >= '0' && c <= '9') || (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || c == '_';
    if (!ok) return false;
  }
  return true;
}

result<void> check_name(std::string_view field, std::string_view value) {
  if (value.empty() || value.size() > kMaxNameLength) {
    return reject(errc::validation, std::string(field) + " must hold 1 to 200 characters");
  }
  return outcome::success();
}

result<void> check_price(std::string_view field, const std::optional<Money>& price) {
  if (!price) return outcome::success();
  if (price->amount < 0) return reject(errc::validation, std::string(field) + ".amount must not be negative");
  const auto& c = price->currency;
  if (c.size() != 3 || !(c[0] >= 'A' && c[0] <= 'Z') || !(c[1] >= 'A' && c[1] <= 'Z') ||
      !(c[2] >= 'A' && c[2] <= 'Z')) {
    return reject(errc::validation, std::string(field) + ".currency must be an ISO 4217 code such as EUR");
  }
  return outcome::success();
}

result<void> check_participant(std::string_view field, const Participant& participant) {
  if (!plausible_email(normalize_email(participant.email))) {
    return reject(errc::validation, std::string(field) + ".email must be an email address");
  }
  return outcome::success();
}

}  // namespace tessera::domain::detail
