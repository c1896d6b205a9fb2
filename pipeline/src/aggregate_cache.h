// Internal: the sequencer's view of aggregates. Bounded: between batches it
// keeps at most `capacity` aggregates, the most recently used; a miss loads
// the stream's latest snapshot and folds only the events after it. Not
// thread-safe: the sequencer owns it.
//
// Pointers returned by load() stay valid until the next settle() or
// forget() of that stream: a batch's decisions may hold them throughout.
//
// Decisions are folded in before they are written: the sequencer counts, in
// Loaded::unwritten, the decided batches that write a stream, and until
// settle() reports those writes the cache neither evicts it (a reload would
// miss the unwritten events) nor snapshots it (a snapshot must never be ahead
// of the log).
#pragma once

#include <algorithm>
#include <list>
#include <optional>
#include <string>
#include <unordered_map>
#include <vector>

#include "tessera/domain/state.h"
#include "tessera/eventstore/log.h"
#include "tessera/pipeline/pipeline.h"

namespace tessera::pipeline::detail {

struct Loaded {
  domain::AggregateState state;
  eventstore::StreamVersion version;
  // Decided batches that write the stream and are not yet reported written.
  std::size_t unwritten = 0;
  // While the sequencer turns one decision's events into an append: the
  // index of this stream's write in it, if it has one yet. Spares a map from
  // stream to write per decision (a batch of a million codes writes a
  // million streams).
  std::optional<std::size_t> write_in_request;
};

class AggregateCache {
 public:
  AggregateCache(eventstore::Log& log, CacheOptions options) : log_(log), options_(options) {
    options_.snapshot_every = std::max<std::uint64_t>(options_.snapshot_every, 1);
  }

  // The aggregate as the log (plus decisions not yet written) has it; a
  // stream without events loads as monostate at version 0.
  eventstore::result<Loaded*> load(const domain::StreamId& stream);

  // Claims a stream for a new aggregate: true, and the stream loads as empty
  // without a read, when it has no events and the cache holds nothing of it
  // (no earlier claim in this batch); false otherwise.
  eventstore::result<bool> claim_fresh(const domain::StreamId& stream);

  // Forgets a stream, held or not, so that the next load reads it from the
  // log again.
  void forget(const domain::StreamId& stream);

  // Called once a batch is durable, with the streams it counted in
  // Loaded::unwritten (as many times): snapshots those no longer unwritten
  // that grew by `snapshot_every` events
  // since their last snapshot, then evicts the least recently used aggregates
  // not unwritten down to `capacity` (snapshotting those that grew as much). A
  // snapshot that cannot be written is only logged: the log still holds
  // everything.
  void settle(const std::vector<domain::StreamId>& written);

  std::size_t size() const { return entries_.size(); }

 private:
  struct Entry {
    Loaded loaded;
    eventstore::StreamVersion snapshot;  // version of the stream's latest snapshot
    std::list<const std::string*>::iterator recency;
  };

  Entry& insert(std::string stream, Entry entry);
  void touch(Entry& entry);
  void erase(std::unordered_map<std::string, Entry>::iterator it);
  bool due(const Entry& entry) const {
    return entry.loaded.version.value >= entry.snapshot.value + options_.snapshot_every;
  }
  eventstore::result<Entry> read(const std::string& stream) const;

  eventstore::Log& log_;
  CacheOptions options_;
  std::unordered_map<std::string, Entry> entries_;
  // Most recently used first; points at the keys of entries_ (stable nodes).
  std::list<const std::string*> recency_;
};

// The state as an S; a default S ("does not exist") when it holds nothing.
template <class S>
const S& as(const Loaded& loaded) {
  static const S kMissing{};
  const S* s = std::get_if<S>(&loaded.state);
  return s ? *s : kMissing;
}

}  // namespace tessera::pipeline::detail
