// Code values: Crockford base32 in groups of four, then Crockford's mod-37
// check symbol, optionally preceded by a prefix of letters and digits:
// "GOLD-7K4Q-M9XD-2HFA-R". The random part is 12 symbols (60 bits).
//
// Pure functions: the random bits come in from the caller's CSPRNG.
#pragma once

#include <cstdint>
#include <string>
#include <string_view>

#include "tessera/domain/result.h"

namespace tessera::domain {

inline constexpr int kCodeSymbols = 12;  // 12 x 5 bits = 60 bits of entropy
inline constexpr std::size_t kMaxPrefixLength = 16;

// A parsed, normalised code. `key` is the canonical form used for lookups and
// uniqueness (prefix upper-cased, no dashes, I/L->1, O->0 in the random part);
// `display` is the grouped form shown to people.
struct CodeValue {
  std::string key;
  std::string display;
  bool operator==(const CodeValue&) const = default;
};

// Whether a prefix is acceptable: 1..16 ASCII letters and digits.
bool valid_prefix(std::string_view prefix);

// Builds the code whose random part is the low 60 bits of `random_bits`.
// Precondition: prefix is empty or valid_prefix(prefix).
CodeValue make_code(std::uint64_t random_bits, std::string_view prefix);

// Parses what a person typed. Rejects with code_malformed when the shape is
// wrong or the check symbol does not match, before any lookup is needed.
result<CodeValue> parse_code(std::string_view typed);

}  // namespace tessera::domain
