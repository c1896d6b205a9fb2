#pragma once

#include <string>
#include <string_view>

namespace tessera::domain {

// Someone who receives, is invited with, or redeems a code. Only the email is
// required; it is the identity compared by restrictions and assignments.
struct Participant {
  std::string email;
  std::string name;
  std::string group;
  std::string region;
  std::string external_id;
  bool operator==(const Participant&) const = default;
};

// Lower-cased, trimmed email: the form every comparison uses.
std::string normalize_email(std::string_view email);

// Whether `email` looks like local@domain.tld; deliberately permissive.
bool plausible_email(std::string_view email);

// The part after '@', lower-cased; empty when there is none.
std::string email_domain(std::string_view email);

}  // namespace tessera::domain
