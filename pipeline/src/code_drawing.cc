#include "code_drawing.h"

#include "tessera/domain/code_format.h"
#include "tessera/domain/streams.h"

namespace tessera::pipeline::detail {

namespace d = tessera::domain;

result<void> draw_codes(std::uint32_t wanted, const std::string& prefix, std::vector<d::CodeValue>& codes,
                        AggregateCache& cache, const std::function<std::uint64_t()>& random_u64,
                        std::vector<Loaded*>& used) {
  codes.clear();
  codes.reserve(wanted);
  used.reserve(used.size() + wanted);
  while (codes.size() < wanted) {
    std::vector<d::CodeValue> drawn;
    std::vector<d::StreamId> streams;
    drawn.reserve(wanted - codes.size());
    streams.reserve(wanted - codes.size());
    while (drawn.size() < wanted - codes.size()) {
      drawn.push_back(d::make_code(random_u64(), prefix));
      streams.push_back(d::code_stream(drawn.back().key));
    }
    // Also refuses a value drawn earlier in this batch: its stream is claimed.
    auto claimed = cache.claim_fresh(streams);
    if (!claimed) return claimed.error();
    for (std::size_t i = 0; i < drawn.size(); ++i) {
      if (claimed.value()[i] == nullptr) continue;
      used.push_back(claimed.value()[i]);
      codes.push_back(std::move(drawn[i]));
    }
  }
  return outcome::success();
}

}  // namespace tessera::pipeline::detail
