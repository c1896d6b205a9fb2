// Internal: the sequencer's view of aggregates, loaded on a miss by folding
// the stream's events from the log. Not thread-safe: the sequencer owns it.
#pragma once

#include <string>
#include <unordered_map>

#include "tessera/domain/state.h"
#include "tessera/eventstore/log.h"

namespace tessera::pipeline::detail {

struct Loaded {
  domain::AggregateState state;
  eventstore::StreamVersion version;
};

class AggregateCache {
 public:
  explicit AggregateCache(eventstore::Log& log) : log_(log) {}

  // The aggregate as the log (plus decisions not yet written) has it; a
  // stream without events loads as monostate at version 0.
  eventstore::result<Loaded*> load(const domain::StreamId& stream);

  // Whether the stream has events (written or decided), without loading it.
  eventstore::result<bool> exists(const domain::StreamId& stream) const;

  // Records that a stream known to be empty is about to be written, sparing
  // the read that load() would make.
  void adopt_empty(const domain::StreamId& stream) { entries_.try_emplace(stream.str()); }

  // Forgets a stream, so that the next load reads it from the log again.
  void forget(const domain::StreamId& stream) { entries_.erase(stream.str()); }

 private:
  eventstore::Log& log_;
  std::unordered_map<std::string, Loaded> entries_;
};

// The state as an S; a default S ("does not exist") when it holds nothing.
template <class S>
const S& as(const Loaded& loaded) {
  static const S kMissing{};
  const S* s = std::get_if<S>(&loaded.state);
  return s ? *s : kMissing;
}

}  // namespace tessera::pipeline::detail
