// Property: sort_bytewise puts keys in the order RocksDB's bytewise
// comparator keeps, whatever their shared prefix, lengths and bytes (NULs
// and bytes above 0x7F included), and keeps each key with its item.

#include <gtest/gtest.h>
#include <rapidcheck.h>
#include <rapidcheck/gtest.h>

#include <algorithm>
#include <cstring>
#include <string>
#include <vector>

#include "key_order.h"

namespace {

bool bytewise_less(const std::string& a, const std::string& b) {
  const int c = std::memcmp(a.data(), b.data(), std::min(a.size(), b.size()));
  return c < 0 || (c == 0 && a.size() < b.size());
}

RC_GTEST_PROP(SortBytewise, OrdersKeysAsMemcmpDoesAndKeepsItemsWithTheirKeys,
              (const std::string& prefix, const std::vector<std::string>& tails)) {
  // Few distinct bytes make ties and keys that are prefixes of others common.
  const auto small_alphabet = *rc::gen::arbitrary<bool>();
  std::vector<std::pair<std::string, std::size_t>> items;
  for (std::size_t i = 0; i < tails.size(); ++i) {
    std::string tail = tails[i];
    if (small_alphabet) {
      for (auto& c : tail) c = static_cast<char>(static_cast<unsigned char>(c) % 3 == 0 ? '\0' : '\xF0');
    }
    items.emplace_back(prefix + tail, i);
  }
  auto expected = items;
  std::ranges::stable_sort(expected, bytewise_less, &std::pair<std::string, std::size_t>::first);

  tessera::eventstore::detail::sort_bytewise(items, [](const auto& item) { return std::string_view(item.first); });

  RC_ASSERT(items.size() == expected.size());
  for (std::size_t i = 0; i < items.size(); ++i) {
    RC_ASSERT(items[i].first == expected[i].first);
    RC_ASSERT(items[i].first ==
              prefix + (small_alphabet ? items[i].first.substr(prefix.size()) : tails[items[i].second]));
  }
}

TEST(SortBytewise, SortsStreamIndexKeysByStreamThenVersion) {
  std::vector<std::string> keys = {
      std::string("code-B\0\0\0\0\0\0\0\0\2", 15), std::string("code-A\0\0\0\0\0\0\0\0\1", 15),
      std::string("code-B\0\0\0\0\0\0\0\0\1", 15), std::string("code-AB\0\0\0\0\0\0\0\0\1", 16)};
  tessera::eventstore::detail::sort_bytewise(keys, [](const std::string& key) { return std::string_view(key); });
  EXPECT_EQ(keys[0], std::string("code-A\0\0\0\0\0\0\0\0\1", 15));
  EXPECT_EQ(keys[1], std::string("code-AB\0\0\0\0\0\0\0\0\1", 16));
  EXPECT_EQ(keys[2], std::string("code-B\0\0\0\0\0\0\0\0\1", 15));
  EXPECT_EQ(keys[3], std::string("code-B\0\0\0\0\0\0\0\0\2", 15));
}

}  // namespace
