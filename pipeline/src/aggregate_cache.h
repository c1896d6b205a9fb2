// Internal: the sequencer's view of aggregates. Bounded: between batches it
// keeps at most `capacity` aggregates, the most recently used; a miss loads
// the stream's latest snapshot and folds only the events after it. Not
// thread-safe: the sequencer owns it.
//
// Pointers returned by load() stay valid until the entry is evicted (by a
// settle(), never while Loaded::unwritten counts a batch) or dropped (by
// drop_forgotten()): a batch's decisions, and the reports of its write, may
// hold them throughout.
//
// Decisions are folded in before they are written: the sequencer counts, in
// Loaded::unwritten, the decided batches that write a stream, and until
// settle() reports those writes the cache neither evicts it (a reload would
// miss the unwritten events) nor snapshots it (a snapshot must never be ahead
// of the log).
#pragma once

#include <absl/container/flat_hash_set.h>
#include <absl/hash/hash.h>

#include <algorithm>
#include <boost/intrusive/list.hpp>
#include <memory>
#include <optional>
#include <span>
#include <string>
#include <string_view>
#include <vector>

#include "tessera/domain/state.h"
#include "tessera/eventstore/log.h"
#include "tessera/pipeline/pipeline.h"

namespace tessera::pipeline::detail {

struct Loaded {
  const std::string* stream = nullptr;  // the stream it is the state of
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
    // Room for twice what is kept: erasing leaves a tombstone, and a table
    // that runs out of room rehashes in place, every entry; at twice the
    // room that comes ~9 times less often for a store of new streams.
    entries_.reserve(2 * options_.capacity);
  }

  // The aggregate as the log (plus decisions not yet written) has it; a
  // stream without events loads as monostate at version 0.
  result<Loaded*> load(const domain::StreamId& stream);

  // Claims streams for new aggregates: for each, in order, the entry, which
  // loads as empty without a read, when the stream has no events and the
  // cache holds nothing of it (no earlier claim, in this call or this
  // batch); nullptr otherwise. The log is asked about all of them at once.
  result<std::vector<Loaded*>> claim_fresh(std::span<const domain::StreamId> streams);

  // Marks entries, held or not, to be dropped by drop_forgotten(), so that
  // the next load reads their streams from the log again. Until then they
  // are neither settled nor evicted; nothing may load them.
  void forget(std::span<Loaded* const> entries);
  void drop_forgotten();

  // Called once a batch is durable, with the entries it counted in
  // Loaded::unwritten (as many times): snapshots those no longer unwritten
  // that grew by `snapshot_every` events since their last snapshot, then
  // evicts the least recently used aggregates not unwritten down to
  // `capacity` (snapshotting those that grew as much). A snapshot that
  // cannot be written is only logged: the log still holds everything.
  void settle(std::span<Loaded* const> written);

  std::size_t size() const { return entries_.size(); }

 private:
  // Its Loaded::stream points at its own name. Allocated alone, so that the
  // set's slots (a pointer each) stay small: a lookup for a stream the cache
  // does not hold, what most are, then reads one group of slots and no entry.
  struct Entry : Loaded {
    Entry(std::string_view name_of, std::size_t hash_of) : name(name_of), hash(hash_of) { stream = &name; }
    Entry(const Entry&) = delete;  // Loaded::stream points into it
    Entry& operator=(const Entry&) = delete;
    std::string name;
    std::size_t hash;                    // of name: a rehash reads it instead of hashing the name again
    eventstore::StreamVersion snapshot;  // version of the stream's latest snapshot
    boost::intrusive::list_member_hook<> recency;
    bool forgotten = false;
  };
  static Entry& entry_of(Loaded* loaded) { return static_cast<Entry&>(*loaded); }

  // A stream's name to search the set by, hashed once: the hash finds the
  // slot and, when the entry is made, is kept in it.
  struct Name {
    explicit Name(std::string_view of) : text(of), hash(absl::Hash<std::string_view>{}(of)) {}
    std::string_view text;
    std::size_t hash;
  };
  // The set holds entries and is searched by name.
  struct ByName {
    using is_transparent = void;
    std::size_t operator()(const Name& name) const { return name.hash; }
    std::size_t operator()(const std::unique_ptr<Entry>& entry) const { return entry->hash; }
    std::size_t operator()(const Entry* entry) const { return entry->hash; }
  };
  struct SameName {
    using is_transparent = void;
    static std::string_view name(const Name& name) { return name.text; }
    static std::string_view name(const std::unique_ptr<Entry>& entry) { return entry->name; }
    static std::string_view name(const Entry* entry) { return entry->name; }
    bool operator()(const auto& a, const auto& b) const { return name(a) == name(b); }
  };
  using Entries = absl::flat_hash_set<std::unique_ptr<Entry>, ByName, SameName>;
  // Most recently used first.
  using Recency = boost::intrusive::list<
      Entry, boost::intrusive::member_hook<Entry, boost::intrusive::list_member_hook<>, &Entry::recency>>;

  // The entry of `stream`, made (empty, the most recently used) if the cache
  // holds none: one search either way.
  std::pair<Entry*, bool> find_or_make(std::string_view stream);
  void erase(Entry& entry);
  void touch(Entry& entry);
  bool due(const Entry& entry) const { return entry.version.value >= entry.snapshot.value + options_.snapshot_every; }
  // Fills a new entry with its stream's state as the log has it.
  result<void> read(Entry& entry) const;

  eventstore::Log& log_;
  CacheOptions options_;
  Entries entries_;
  // Declared after entries_, so emptied before the entries are freed.
  Recency recency_;
  std::vector<Entry*> forgotten_;
};

// The state as an S; a default S ("does not exist") when it holds nothing.
template <class S>
const S& as(const Loaded& loaded) {
  static const S kMissing{};
  const S* s = std::get_if<S>(&loaded.state);
  return s ? *s : kMissing;
}

}  // namespace tessera::pipeline::detail
