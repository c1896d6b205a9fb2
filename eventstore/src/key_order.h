// Internal: sorting a batch's keys into RocksDB's bytewise order, fast.
#pragma once

#include <algorithm>
#include <cstdint>
#include <string_view>
#include <utility>
#include <vector>

namespace tessera::eventstore::detail {

// Sorts `items` by the key `key_of` gives each, in bytewise (memcmp) order,
// the order RocksDB's default comparator keeps. A batch's keys share long
// prefixes ("code-", a stream name) and the bytes after them are random, so
// each item is sorted under the eight bytes that follow the keys' common
// prefix, read as a big-endian number: most comparisons are then one integer
// comparison instead of a string comparison through two pointers. Ties fall
// back to comparing the whole keys. `key_of` must return a std::string_view
// that outlives the call.
template <class T, class KeyOf>
void sort_bytewise(std::vector<T>& items, KeyOf key_of) {
  if (items.size() < 2) return;
  const std::string_view first = key_of(items.front());
  std::size_t common = first.size();
  for (const auto& item : items) {
    const std::string_view key = key_of(item);
    const auto limit = std::min(common, key.size());
    common = static_cast<std::size_t>(std::mismatch(first.begin(), first.begin() + limit, key.begin()).first -
                                      first.begin());
  }
  auto eight_bytes_after_prefix = [common](std::string_view key) {
    std::uint64_t value = 0;
    for (std::size_t i = 0; i < 8; ++i) {
      const std::size_t at = common + i;
      value = (value << 8U) | (at < key.size() ? static_cast<unsigned char>(key[at]) : 0U);
    }
    return value;
  };
  std::vector<std::pair<std::uint64_t, T>> decorated;
  decorated.reserve(items.size());
  for (auto& item : items) decorated.emplace_back(eight_bytes_after_prefix(key_of(item)), std::move(item));
  std::ranges::sort(decorated, [&](const auto& a, const auto& b) {
    if (a.first != b.first) return a.first < b.first;
    return key_of(a.second) < key_of(b.second);
  });
  for (std::size_t i = 0; i < items.size(); ++i) items[i] = std::move(decorated[i].second);
}

}  // namespace tessera::eventstore::detail
