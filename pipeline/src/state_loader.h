// Internal: the aggregates one decision reads, loaded from the sequencer's
// cache for domain::decide(command, aggregates), which says which ones.
//
// A failed load answers "no such aggregate" and is remembered: finish()
// then refuses the command with the load's error, whatever the domain
// decided on the missing state. Every entry loaded is listed in `used`, in
// order, so that the decision's events find their entries again cheaply.
//
// Lifetime: one decision; entries stay valid until the cache settles the
// batch. Threading: the sequencer's thread only.
#pragma once

#include <optional>
#include <vector>

#include "aggregate_cache.h"
#include "tessera/domain/decider.h"

namespace tessera::pipeline::detail {

class StateLoader final : public domain::Aggregates {
 public:
  StateLoader(AggregateCache& cache, std::vector<Loaded*>& used) : cache_(cache), used_(used) {}

  const domain::AggregateState& load(const domain::StreamId& stream) override {
    static const domain::AggregateState kMissing{};
    auto loaded = cache_.load(stream);
    if (!loaded) {
      if (!error_) error_ = loaded.error();
      return kMissing;
    }
    used_.push_back(loaded.value());
    return loaded.value()->state;
  }

  // The decision, unless a load failed under it.
  result<domain::Events> finish(result<domain::Events> decided) const {
    if (error_) return *error_;
    return decided;
  }

 private:
  AggregateCache& cache_;
  std::vector<Loaded*>& used_;
  std::optional<Error> error_;
};

}  // namespace tessera::pipeline::detail
