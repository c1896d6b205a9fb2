#include "tessera/domain/participant.h"

#include <algorithm>

namespace tessera::domain {
namespace {

char lower(char c) { return (c >= 'A' && c <= 'Z') ? static_cast<char>(c - 'A' + 'a') : c; }

std::string_view trim(std::string_view s) {
  const auto first = s.find_first_not_of(" \t\r\n");
  if (first == std::string_view::npos) return {};
  const auto last = s.find_last_not_of(" \t\r\n");
  return s.substr(first, last - first + 1);
}

}  // namespace

std::string normalize_email(std::string_view email) {
  std::string out(trim(email));
  std::ranges::transform(out, out.begin(), lower);
  return out;
}

bool plausible_email(std::string_view email) {
  const auto at = email.find('@');
  if (at == 0 || at == std::string_view::npos || email.find('@', at + 1) != std::string_view::npos) {
    return false;
  }
  const auto domain = email.substr(at + 1);
  const auto dot = domain.rfind('.');
  return dot != std::string_view::npos && dot > 0 && dot + 1 < domain.size() &&
         email.find_first_of(" \t\r\n,;<>") == std::string_view::npos;
}

std::string email_domain(std::string_view email) {
  const auto at = email.rfind('@');
  if (at == std::string_view::npos) return {};
  return normalize_email(email.substr(at + 1));
}

}  // namespace tessera::domain
