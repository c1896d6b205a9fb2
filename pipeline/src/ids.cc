#include "tessera/pipeline/pipeline.h"

#include <algorithm>
#include <string_view>

namespace tessera::pipeline {

std::string Pipeline::new_id() {
  static constexpr std::string_view kSymbols = "0123456789abcdefghjkmnpqrstvwxyz";
  // Big-endian, in an alphabet in ASCII order: ids sort as their numbers do.
  const auto put = [](std::string& id, std::uint64_t bits, int symbols) {
    for (int i = symbols - 1; i >= 0; --i) id.push_back(kSymbols[(bits >> (5U * static_cast<unsigned>(i))) & 31U]);
  };
  const std::int64_t now = sources_.now().micros;
  std::int64_t last = last_id_micros_.load(std::memory_order_relaxed);
  std::int64_t micros = 0;
  do {
    micros = std::max(now, last + 1);
  } while (!last_id_micros_.compare_exchange_weak(last, micros, std::memory_order_relaxed));
  std::string id;
  id.reserve(26);
  put(id, static_cast<std::uint64_t>(micros), 11);  // 55 bits: until the year 3111
  put(id, sources_.random_u64(), 12);               // 60 random bits
  put(id, sources_.random_u64(), 3);                // and 15 more
  return id;
}

}  // namespace tessera::pipeline
