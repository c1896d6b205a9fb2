#include "aggregate_cache.h"

#include <spdlog/spdlog.h>

#include "tessera/codec/json.h"
#include "tessera/codec/state.h"

namespace tessera::pipeline::detail {

eventstore::result<Loaded*> AggregateCache::load(const domain::StreamId& stream) {
  if (auto it = entries_.find(stream.str()); it != entries_.end()) {
    touch(it->second);
    return &it->second.loaded;
  }
  auto entry = read(stream.str());
  if (!entry) return entry.error();
  return &insert(stream.str(), std::move(entry).value()).loaded;
}

eventstore::result<AggregateCache::Entry> AggregateCache::read(const std::string& stream) const {
  Entry entry;
  auto version = log_.stream_version(stream);
  if (!version) return version.error();
  if (version.value().value == 0) return entry;
  // A stream shorter than snapshot_every has no snapshot worth the lookup.
  eventstore::result<std::optional<eventstore::Snapshot>> snapshot = std::optional<eventstore::Snapshot>();
  if (version.value().value >= options_.snapshot_every) snapshot = log_.get_snapshot(stream);
  if (!snapshot) return snapshot.error();
  if (snapshot.value()) {
    // An unreadable snapshot (another format) only means a longer fold.
    if (auto state = codec::decode_state(snapshot.value()->state)) {
      entry.loaded.state = std::move(*state);
      entry.loaded.version = snapshot.value()->version;
      entry.snapshot = snapshot.value()->version;
    }
  }
  constexpr std::size_t kPage = 1024;
  while (entry.loaded.version < version.value()) {
    auto page = log_.read_stream(stream, entry.loaded.version, kPage);
    if (!page) return page.error();
    // The stream's head promised more events than it holds.
    if (page.value().empty()) return eventstore::errc::corruption;
    for (const auto& recorded : page.value()) {
      auto event = codec::decode_event(recorded.type, recorded.schema, recorded.payload);
      if (!event) return eventstore::errc::corruption;
      entry.loaded.state = domain::evolve(std::move(entry.loaded.state), *event);
      entry.loaded.version = recorded.version;
    }
  }
  return entry;
}

eventstore::result<bool> AggregateCache::claim_fresh(const domain::StreamId& stream) {
  if (entries_.contains(stream.str())) return false;
  auto version = log_.stream_version(stream.str());
  if (!version) return version.error();
  if (version.value().value != 0) return false;
  insert(stream.str(), Entry{});
  return true;
}

void AggregateCache::forget(const domain::StreamId& stream) {
  if (auto it = entries_.find(stream.str()); it != entries_.end()) erase(it);
}

void AggregateCache::settle(const std::vector<domain::StreamId>& written) {
  std::vector<eventstore::Snapshot> snapshots;
  auto take = [&](const std::string& stream, Entry& entry) {
    snapshots.push_back({stream, entry.loaded.version, codec::encode_state(entry.loaded.state)});
    entry.snapshot = entry.loaded.version;
  };
  for (const auto& stream : written) {
    auto it = entries_.find(stream.str());
    if (it == entries_.end()) continue;
    Entry& entry = it->second;
    if (entry.loaded.unwritten > 0) --entry.loaded.unwritten;
    if (entry.loaded.unwritten == 0 && due(entry)) take(it->first, entry);
  }
  // From the least recently used up, skipping what is still held.
  for (auto candidate = recency_.end(); entries_.size() > options_.capacity && candidate != recency_.begin();) {
    --candidate;
    auto it = entries_.find(**candidate);
    if (it->second.loaded.unwritten > 0) continue;
    if (due(it->second)) take(it->first, it->second);
    candidate = recency_.erase(candidate);
    entries_.erase(it);
  }
  if (snapshots.empty()) return;
  if (auto put = log_.put_snapshots(snapshots); !put) {
    spdlog::warn("pipeline: {} snapshots not kept: {}", snapshots.size(), put.error().message());
  }
}

AggregateCache::Entry& AggregateCache::insert(std::string stream, Entry entry) {
  auto [it, inserted] = entries_.try_emplace(std::move(stream), std::move(entry));
  recency_.push_front(&it->first);
  it->second.recency = recency_.begin();
  return it->second;
}

void AggregateCache::touch(Entry& entry) { recency_.splice(recency_.begin(), recency_, entry.recency); }

void AggregateCache::erase(std::unordered_map<std::string, Entry>::iterator it) {
  recency_.erase(it->second.recency);
  entries_.erase(it);
}

}  // namespace tessera::pipeline::detail
