// Code values: make_code / parse_code, normalisation, and the check symbol.

#include <gtest/gtest.h>

#include <cstdint>
#include <random>
#include <set>
#include <string>
#include <string_view>
#include <vector>

#include "tessera/domain/code_format.h"
#include "text.h"

namespace {

using tessera::test_support::cat;

using namespace tessera::domain;
using tessera::result;

constexpr std::string_view kSymbols = "0123456789ABCDEFGHJKMNPQRSTVWXYZ";
constexpr std::string_view kCheckSymbols = "0123456789ABCDEFGHJKMNPQRSTVWXYZ*~$=U";
constexpr std::uint64_t kMask60 = (std::uint64_t{1} << 60) - 1;

std::string without_dashes(std::string_view s) {
  std::string out;
  for (char c : s) {
    if (c != '-') out.push_back(c);
  }
  return out;
}

std::string lower(std::string s) {
  for (char& c : s) {
    if (c >= 'A' && c <= 'Z') c = static_cast<char>(c - 'A' + 'a');
  }
  return s;
}

// The value whose 12 symbols are these (most significant first).
std::uint64_t value_of_symbols(std::string_view symbols) {
  std::uint64_t v = 0;
  for (char c : symbols) v = (v << 5U) | static_cast<std::uint64_t>(kSymbols.find(c));
  return v;
}

testing::AssertionResult Malformed(std::string_view typed) {
  const auto r = parse_code(typed);
  if (r.has_value()) {
    return testing::AssertionFailure() << "'" << typed << "' parsed as " << r.value().display;
  }
  if (r.error().code != errc::code_malformed) {
    return testing::AssertionFailure() << "'" << typed << "' rejected with " << r.error().code.message();
  }
  return testing::AssertionSuccess();
}

testing::AssertionResult ParsesAs(std::string_view typed, const CodeValue& expected) {
  const auto r = parse_code(typed);
  if (!r.has_value()) {
    return testing::AssertionFailure() << "'" << typed << "' rejected: " << r.error().detail;
  }
  if (r.value().key != expected.key) {
    return testing::AssertionFailure() << "'" << typed << "' has key " << r.value().key << ", expected "
                                       << expected.key;
  }
  return testing::AssertionSuccess();
}

// ---------------------------------------------------------------------------
// Shape

TEST(MakeCode, ShapeIsThreeGroupsOfFourThenTheCheckSymbol) {
  const CodeValue code = make_code(0x0123456789ABCDEULL, "");
  ASSERT_EQ(code.display.size(), 16U);
  EXPECT_EQ(code.display[4], '-');
  EXPECT_EQ(code.display[9], '-');
  EXPECT_EQ(code.display[14], '-');
  EXPECT_EQ(code.key, without_dashes(code.display));
  EXPECT_EQ(code.key.size(), 13U);
  for (std::size_t i = 0; i < 12; ++i) EXPECT_NE(kSymbols.find(code.key[i]), std::string_view::npos) << code.key;
  EXPECT_NE(kCheckSymbols.find(code.key[12]), std::string_view::npos);
}

TEST(MakeCode, KnownAnswers) {
  // The check symbol is the 60-bit value mod 37, in Crockford's check alphabet.
  EXPECT_EQ(make_code(0, "").display, "0000-0000-0000-0");
  EXPECT_EQ(make_code(1, "").display, "0000-0000-0001-1");
  EXPECT_EQ(make_code(31, "").display, "0000-0000-000Z-Z");
  EXPECT_EQ(make_code(32, "").display, "0000-0000-0010-*");
  EXPECT_EQ(make_code(33, "").display, "0000-0000-0011-~");
  EXPECT_EQ(make_code(34, "").display, "0000-0000-0012-$");
  EXPECT_EQ(make_code(35, "").display, "0000-0000-0013-=");
  EXPECT_EQ(make_code(36, "").display, "0000-0000-0014-U");
  EXPECT_EQ(make_code(37, "").display, "0000-0000-0015-0");
  EXPECT_EQ(make_code(kMask60, "").display.substr(0, 14), "ZZZZ-ZZZZ-ZZZZ");
  EXPECT_EQ(make_code(kMask60, "").key.back(), kCheckSymbols[kMask60 % 37]);
}

TEST(MakeCode, OnlyTheLow60BitsCount) {
  const std::uint64_t v = 0x0ABCDEF012345678ULL & kMask60;
  EXPECT_EQ(make_code(v | (std::uint64_t{0xF} << 60), ""), make_code(v, ""));
}

TEST(MakeCode, PrefixIsKeptForDisplayAndUpperCasedInTheKey) {
  const CodeValue code = make_code(12345, "Gold");
  EXPECT_EQ(code.display.substr(0, 5), "Gold-");
  EXPECT_EQ(code.key.substr(0, 4), "GOLD");
  EXPECT_EQ(code.key.size(), 17U);
  EXPECT_EQ(code.key.substr(4), make_code(12345, "").key);
}

TEST(ValidPrefix, LettersAndDigitsUpToSixteen) {
  EXPECT_TRUE(valid_prefix("GOLD"));
  EXPECT_TRUE(valid_prefix("g0ld2026"));
  EXPECT_TRUE(valid_prefix("A"));
  EXPECT_TRUE(valid_prefix(std::string(kMaxPrefixLength, 'X')));
  EXPECT_FALSE(valid_prefix(""));
  EXPECT_FALSE(valid_prefix(std::string(kMaxPrefixLength + 1, 'X')));
  EXPECT_FALSE(valid_prefix("GO-LD"));
  EXPECT_FALSE(valid_prefix("GO LD"));
  EXPECT_FALSE(valid_prefix("GOLD!"));
  EXPECT_FALSE(valid_prefix("G\xC3\x96LD"));
}

// ---------------------------------------------------------------------------
// Round trip and normalisation

TEST(ParseCode, RoundTripsRandomCodes) {
  std::mt19937_64 rng(20260124);
  std::set<std::string> keys;
  for (int i = 0; i < 5000; ++i) {
    const std::uint64_t bits = rng();
    const CodeValue code = make_code(bits, i % 3 == 0 ? "Promo7" : "");
    const auto parsed = parse_code(code.display);
    ASSERT_TRUE(parsed.has_value()) << code.display << ": " << parsed.error().detail;
    EXPECT_EQ(parsed.value(), code);
    EXPECT_TRUE(ParsesAs(code.key, code));
    EXPECT_TRUE(ParsesAs(lower(code.display), code));
    keys.insert(code.key);
  }
  EXPECT_EQ(keys.size(), 5000U);
}

TEST(ParseCode, DisplayIsCanonicalWhateverTheTypedLayout) {
  const CodeValue code = make_code(0x0123456789ABCDEULL, "");
  const auto parsed = parse_code(lower(without_dashes(code.display)));
  ASSERT_TRUE(parsed.has_value());
  EXPECT_EQ(parsed.value().display, code.display);
  EXPECT_EQ(parsed.value().key, code.key);
}

TEST(ParseCode, DashesAndSpacesAreLayout) {
  const CodeValue code = make_code(0x0123456789ABCDEULL, "");
  const std::string k = code.key;
  EXPECT_TRUE(ParsesAs(k, code));                                                   // no dashes at all
  EXPECT_TRUE(ParsesAs(cat(k.substr(0, 6), "-", k.substr(6)), code));               // dashes in odd places
  EXPECT_TRUE(ParsesAs(cat("--", k.substr(0, 4), "---", k.substr(4), "-"), code));  // extra dashes
  EXPECT_TRUE(ParsesAs(cat(k.substr(0, 4), " ", k.substr(4, 4), " - ", k.substr(8)), code));
}

TEST(ParseCode, LookAlikesFoldToOneAndZero) {
  // A random part full of 1s and 0s; its check symbol is whatever it is.
  const CodeValue code = make_code(value_of_symbols("1010Z0110A01"), "");
  ASSERT_EQ(code.display.substr(0, 14), "1010-Z011-0A01");
  std::string typed = code.display;
  const std::string ones = "ILil";
  const std::string zeros = "Oo";
  int one = 0, zero = 0;
  for (std::size_t i = 0; i < 14; ++i) {
    if (typed[i] == '1')
      typed[i] = ones[static_cast<std::size_t>(one++) % ones.size()];
    else if (typed[i] == '0')
      typed[i] = zeros[static_cast<std::size_t>(zero++) % zeros.size()];
  }
  ASSERT_NE(typed, code.display);
  const auto parsed = parse_code(typed);
  ASSERT_TRUE(parsed.has_value()) << typed << ": " << parsed.error().detail;
  EXPECT_EQ(parsed.value(), code) << typed;
}

TEST(ParseCode, CheckSymbolLookAlikesAndCaseFoldToo) {
  // value % 37 == 1: check symbol '1', typed as 'l'; value % 37 == 36: 'U', typed as 'u'.
  const CodeValue one = make_code(1, "");
  ASSERT_EQ(one.key.back(), '1');
  EXPECT_TRUE(ParsesAs(one.key.substr(0, 12) + "l", one));
  EXPECT_TRUE(ParsesAs(one.key.substr(0, 12) + "I", one));
  const CodeValue u = make_code(36, "");
  ASSERT_EQ(u.key.back(), 'U');
  EXPECT_TRUE(ParsesAs(u.key.substr(0, 12) + "u", u));
  const CodeValue zero = make_code(37, "");
  ASSERT_EQ(zero.key.back(), '0');
  EXPECT_TRUE(ParsesAs(zero.key.substr(0, 12) + "o", zero));
}

TEST(ParseCode, PrefixKeepsItsCaseForDisplayAndComparesCaseInsensitively) {
  const CodeValue code = make_code(0x00FACE0FF1CEULL, "GOLD");
  const std::string body = code.display.substr(5);
  const auto typed_lower = parse_code("gold-" + body);
  ASSERT_TRUE(typed_lower.has_value());
  EXPECT_EQ(typed_lower.value().display, "gold-" + body);  // kept as typed
  EXPECT_EQ(typed_lower.value().key, code.key);            // same key
  const auto typed_mixed = parse_code(cat("GoLd", lower(body)));
  ASSERT_TRUE(typed_mixed.has_value());
  EXPECT_EQ(typed_mixed.value().key, code.key);
  EXPECT_EQ(typed_mixed.value().display, "GoLd-" + body);
  // Look-alikes are folded in the random part only: the prefix's O and L stay letters.
  EXPECT_EQ(code.key.substr(0, 4), "GOLD");
  const auto other_prefix = parse_code("G0LD-" + body);
  ASSERT_TRUE(other_prefix.has_value());
  EXPECT_NE(other_prefix.value().key, code.key);
}

TEST(ParseCode, MalformedShapesAreRejected) {
  const CodeValue code = make_code(0x0123456789ABCDEULL, "");
  const std::string k = code.key;
  EXPECT_TRUE(Malformed(""));
  EXPECT_TRUE(Malformed("----"));
  EXPECT_TRUE(Malformed(k.substr(0, 12)));                             // check symbol missing
  EXPECT_TRUE(Malformed(k.substr(0, 4)));                              // one group
  EXPECT_TRUE(Malformed(std::string(kMaxPrefixLength + 1, 'P') + k));  // prefix too long
  EXPECT_TRUE(Malformed(cat("U", k.substr(1))));                       // U is no symbol of the random part
  EXPECT_TRUE(Malformed(cat("*", k.substr(1))));                       // nor are the extra check symbols
  EXPECT_TRUE(Malformed(cat(k.substr(0, 4), "_", k.substr(4))));
  EXPECT_TRUE(Malformed(cat(k.substr(0, 4), ".", k.substr(4))));
  EXPECT_TRUE(Malformed(cat(k.substr(0, 4), "\t", k.substr(4))));
  EXPECT_TRUE(Malformed(k + "\n"));
  EXPECT_TRUE(Malformed("G*LD" + k));         // prefix of punctuation
  EXPECT_TRUE(Malformed("G\xC3\x96LD" + k));  // non-ASCII
  EXPECT_TRUE(Malformed(std::string("\0", 1) + k));
  // A prefix of the longest length is fine.
  EXPECT_TRUE(ParsesAs(std::string(kMaxPrefixLength, 'P') + k,
                       make_code(0x0123456789ABCDEULL, std::string(kMaxPrefixLength, 'P'))));
}

// ---------------------------------------------------------------------------
// The check symbol catches every single substitution and every adjacent
// transposition in the random part and the check symbol, exhaustively.
// (The prefix is not covered by the check symbol: a mistyped prefix is an
// unknown code, found at lookup.)

std::vector<CodeValue> codes_under_test() {
  std::vector<CodeValue> out;
  for (const std::uint64_t v : {std::uint64_t{0}, std::uint64_t{36}, kMask60, std::uint64_t{0x0123456789ABCDEULL},
                                std::uint64_t{0x0FEDCBA98765432ULL}, value_of_symbols("1010Z0110A01")}) {
    out.push_back(make_code(v, ""));
  }
  // Codes whose check symbols are each of the five extra ones.
  for (std::uint64_t r = 32; r <= 36; ++r) out.push_back(make_code(37ULL * 0x0A5A5A5A5A5AULL + r, ""));
  out.push_back(make_code(0x0BADC0FFEE1ULL, "VIP"));
  return out;
}

TEST(CheckSymbol, CatchesEverySingleSubstitution) {
  int tried = 0;
  for (const CodeValue& code : codes_under_test()) {
    const std::string key = code.key;
    const std::size_t prefix = key.size() - 13;
    for (std::size_t pos = prefix; pos < key.size(); ++pos) {
      const bool check = pos == key.size() - 1;
      for (char s : check ? kCheckSymbols : kSymbols) {
        if (s == key[pos]) continue;
        std::string typed = key;
        typed[pos] = s;
        EXPECT_TRUE(Malformed(typed)) << "substitution at " << pos << " of " << code.display;
        typed[pos] = static_cast<char>(lower(std::string(1, s))[0]);
        EXPECT_TRUE(Malformed(typed)) << "lower-case substitution at " << pos << " of " << code.display;
        ++tried;
      }
    }
  }
  EXPECT_GT(tried, 3000);
}

TEST(CheckSymbol, CatchesSubstitutionsByLookAlikesOfOtherSymbols) {
  // 'I'/'L' stand for 1 and 'O' for 0: typed over another symbol they are a real substitution.
  for (const CodeValue& code : codes_under_test()) {
    const std::string key = code.key;
    for (std::size_t pos = key.size() - 13; pos < key.size(); ++pos) {
      for (char s : std::string_view("ILO")) {
        const char stands_for = s == 'O' ? '0' : '1';
        std::string typed = key;
        typed[pos] = s;
        if (key[pos] == stands_for) {
          EXPECT_TRUE(ParsesAs(typed, code)) << typed;
        } else {
          EXPECT_TRUE(Malformed(typed)) << typed;
        }
      }
    }
  }
}

TEST(CheckSymbol, CatchesEveryAdjacentTransposition) {
  int tried = 0;
  for (const CodeValue& code : codes_under_test()) {
    const std::string key = code.key;
    for (std::size_t pos = key.size() - 13; pos + 1 < key.size(); ++pos) {
      if (key[pos] == key[pos + 1]) continue;
      std::string typed = key;
      std::swap(typed[pos], typed[pos + 1]);
      EXPECT_TRUE(Malformed(typed)) << "swap at " << pos << " of " << code.display << ": " << typed;
      ++tried;
    }
    // The same swaps as a person sees them, across the display's dashes.
    const std::string display = code.display;
    for (std::size_t pos = 0; pos + 1 < display.size(); ++pos) {
      std::size_t next = pos + 1;
      if (display[pos] == '-') continue;
      if (display[next] == '-') ++next;
      if (next >= display.size() || display[pos] == display[next]) continue;
      if (pos < display.size() - 16) continue;  // inside the prefix
      std::string typed = display;
      std::swap(typed[pos], typed[next]);
      EXPECT_TRUE(Malformed(typed)) << "swap in " << display << ": " << typed;
    }
  }
  EXPECT_GT(tried, 80);
}

}  // namespace
