// Test support: string concatenation, cat("s", std::to_string(i)), for the
// tests' names, payloads and failure messages.
//
// Not `"s" + std::to_string(i)`: GCC 12 at -O3 inlines that operator+ (a
// literal before a temporary std::string) into an insert at the front of the
// temporary and then reports, wrongly, that the copy's source and destination
// overlap (-Wrestrict), which -Werror makes a build failure. Appending every
// part to a fresh string never takes that path.
#pragma once

#include <string>
#include <string_view>

namespace tessera::test_support {

template <class... Parts>
std::string cat(const Parts&... parts) {
  std::string out;
  (out.append(std::string_view(parts)), ...);
  return out;
}

}  // namespace tessera::test_support
