#include "tessera/domain/code_format.h"

#include <array>
#include <optional>

namespace tessera::domain {
namespace {

constexpr std::string_view kSymbols = "0123456789ABCDEFGHJKMNPQRSTVWXYZ";
// Crockford's check symbols: the 32 symbols, then values 32..36.
constexpr std::string_view kCheckSymbols = "0123456789ABCDEFGHJKMNPQRSTVWXYZ*~$=U";
constexpr int kGroup = 4;

char upper(char c) { return (c >= 'a' && c <= 'z') ? static_cast<char>(c - 'a' + 'A') : c; }

bool alnum(char c) { return (c >= '0' && c <= '9') || (c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z'); }

// Maps a typed symbol to its value, folding the look-alikes Crockford allows.
std::optional<int> symbol_value(char c) {
  c = upper(c);
  if (c == 'I' || c == 'L') c = '1';
  if (c == 'O') c = '0';
  const auto pos = kSymbols.find(c);
  if (pos == std::string_view::npos) return std::nullopt;
  return static_cast<int>(pos);
}

std::optional<int> check_value(char c) {
  c = upper(c);
  if (c == 'I' || c == 'L') c = '1';
  if (c == 'O') c = '0';
  const auto pos = kCheckSymbols.find(c);
  if (pos == std::string_view::npos) return std::nullopt;
  return static_cast<int>(pos);
}

std::string upper_string(std::string_view s) {
  std::string out;
  out.reserve(s.size());
  for (char c : s) out.push_back(upper(c));
  return out;
}

CodeValue assemble(std::string_view prefix, std::uint64_t value) {
  std::array<char, kCodeSymbols> digits{};
  for (int i = kCodeSymbols - 1; i >= 0; --i) {
    digits[static_cast<std::size_t>(i)] = kSymbols[value & 31U];
    value >>= 5U;
  }
  CodeValue code;
  const std::string upper_prefix = upper_string(prefix);
  code.key = upper_prefix;
  code.display = prefix.empty() ? std::string() : std::string(prefix) + "-";
  for (int i = 0; i < kCodeSymbols; ++i) {
    if (i > 0 && i % kGroup == 0) code.display.push_back('-');
    code.display.push_back(digits[static_cast<std::size_t>(i)]);
    code.key.push_back(digits[static_cast<std::size_t>(i)]);
  }
  return code;
}

}  // namespace

bool valid_prefix(std::string_view prefix) {
  if (prefix.empty() || prefix.size() > kMaxPrefixLength) return false;
  for (char c : prefix) {
    if (!alnum(c)) return false;
  }
  return true;
}

CodeValue make_code(std::uint64_t random_bits, std::string_view prefix) {
  const std::uint64_t value = random_bits & ((std::uint64_t{1} << (5 * kCodeSymbols)) - 1);
  CodeValue code = assemble(prefix, value);
  const char check = kCheckSymbols[value % 37];
  code.key.push_back(check);
  code.display.push_back('-');
  code.display.push_back(check);
  return code;
}

result<CodeValue> parse_code(std::string_view typed) {
  // Dashes and spaces are layout; what is left is prefix + 12 symbols + check.
  std::string compact;
  std::string prefix_as_typed;
  for (char c : typed) {
    if (c == '-' || c == ' ') continue;
    if (!alnum(c) && kCheckSymbols.find(c) == std::string_view::npos) {
      return reject(errc::code_malformed, "a code holds only letters, digits and dashes");
    }
    compact.push_back(c);
  }
  if (compact.size() < static_cast<std::size_t>(kCodeSymbols + 1) ||
      compact.size() > kCodeSymbols + 1 + kMaxPrefixLength) {
    return reject(errc::code_malformed, "a code has 13 symbols after its prefix");
  }
  const std::size_t prefix_length = compact.size() - (kCodeSymbols + 1);
  const std::string_view prefix = std::string_view(compact).substr(0, prefix_length);
  if (!prefix.empty() && !valid_prefix(prefix)) {
    return reject(errc::code_malformed, "a code's prefix holds only letters and digits");
  }
  std::uint64_t value = 0;
  for (std::size_t i = prefix_length; i < prefix_length + kCodeSymbols; ++i) {
    const auto symbol = symbol_value(compact[i]);
    if (!symbol) return reject(errc::code_malformed, "a code holds no U and no punctuation");
    value = (value << 5U) | static_cast<std::uint64_t>(*symbol);
  }
  const auto check = check_value(compact.back());
  if (!check || static_cast<std::uint64_t>(*check) != value % 37) {
    return reject(errc::code_malformed, "the check symbol does not match: a character is mistyped");
  }
  // The prefix keeps the case it was typed in for display, compared upper-cased.
  return make_code(value, prefix);
}

}  // namespace tessera::domain
