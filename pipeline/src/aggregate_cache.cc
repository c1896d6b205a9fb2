#include "aggregate_cache.h"

#include <spdlog/spdlog.h>

#include "tessera/codec/json.h"
#include "tessera/codec/state.h"

namespace tessera::pipeline::detail {

result<Loaded*> AggregateCache::load(const domain::StreamId& stream) {
  auto [entry, made] = find_or_make(stream.str());
  if (!made) {
    touch(*entry);
    return entry;
  }
  if (auto read_back = read(*entry); !read_back) {
    erase(*entry);
    return std::move(read_back).error();
  }
  return entry;
}

std::pair<AggregateCache::Entry*, bool> AggregateCache::find_or_make(std::string_view stream) {
  bool made = false;
  const Name name(stream);
  auto it = entries_.lazy_emplace(name, [&](const auto& construct) {
    made = true;
    construct(std::make_unique<Entry>(stream, name.hash));
  });
  Entry* entry = it->get();
  if (made) recency_.push_front(*entry);
  return {entry, made};
}

result<void> AggregateCache::read(Entry& entry) const {
  const std::string& stream = entry.name;
  auto version = log_.stream_version(stream);
  if (!version) return version.error();
  if (version.value().value == 0) return outcome::success();
  // A stream shorter than snapshot_every has no snapshot worth the lookup.
  result<std::optional<eventstore::Snapshot>> snapshot = std::optional<eventstore::Snapshot>();
  if (version.value().value >= options_.snapshot_every) snapshot = log_.get_snapshot(stream);
  if (!snapshot) return snapshot.error();
  if (snapshot.value()) {
    // An unreadable snapshot (another format) only means a longer fold.
    if (auto state = codec::decode_state(snapshot.value()->state)) {
      entry.state = std::move(*state);
      entry.version = snapshot.value()->version;
      entry.snapshot = snapshot.value()->version;
    }
  }
  constexpr std::size_t kPage = 1024;
  while (entry.version < version.value()) {
    auto page = log_.read_stream(stream, entry.version, kPage);
    if (!page) return page.error();
    // The stream's head promised more events than it holds.
    if (page.value().empty()) return eventstore::errc::corruption;
    for (const auto& recorded : page.value()) {
      auto event = codec::decode_event(recorded.type, recorded.schema, recorded.payload);
      if (!event) return eventstore::errc::corruption;
      entry.state = domain::evolve(std::move(entry.state), *event);
      entry.version = recorded.version;
    }
  }
  return outcome::success();
}

result<std::vector<Loaded*>> AggregateCache::claim_fresh(std::span<const domain::StreamId> streams) {
  // Made first, taken back if the log has the stream: one search of the
  // cache, not two, for what is nearly always a fresh stream.
  entries_.reserve(entries_.size() + streams.size());
  std::vector<Loaded*> claimed(streams.size(), nullptr);
  std::vector<std::string_view> names;
  names.reserve(streams.size());
  for (std::size_t i = 0; i < streams.size(); ++i) {
    auto [entry, made] = find_or_make(streams[i].str());
    if (!made) continue;
    claimed[i] = entry;
    names.push_back(entry->name);
  }
  auto versions = log_.stream_versions(names);
  std::size_t asked = 0;
  for (auto& entry : claimed) {
    if (entry == nullptr) continue;
    if (!versions || versions.value()[asked++].value != 0) {
      erase(entry_of(entry));
      entry = nullptr;
    }
  }
  if (!versions) return versions.error();
  return claimed;
}

void AggregateCache::forget(std::span<Loaded* const> entries) {
  for (Loaded* loaded : entries) {
    Entry& entry = entry_of(loaded);
    if (entry.forgotten) continue;
    entry.forgotten = true;
    forgotten_.push_back(&entry);
  }
}

void AggregateCache::drop_forgotten() {
  for (Entry* entry : forgotten_) erase(*entry);
  forgotten_.clear();
}

void AggregateCache::settle(std::span<Loaded* const> written) {
  std::vector<eventstore::Snapshot> snapshots;
  auto take = [&](Entry& entry) {
    snapshots.push_back({entry.name, entry.version, codec::encode_state(entry.state)});
    entry.snapshot = entry.version;
  };
  for (Loaded* loaded : written) {
    Entry& entry = entry_of(loaded);
    if (entry.unwritten > 0) --entry.unwritten;
    if (entry.unwritten == 0 && !entry.forgotten && due(entry)) take(entry);
  }
  // From the least recently used up, skipping what is still held.
  for (auto candidate = recency_.end(); entries_.size() > options_.capacity && candidate != recency_.begin();) {
    --candidate;
    Entry& entry = *candidate;
    if (entry.unwritten > 0 || entry.forgotten) continue;
    if (due(entry)) take(entry);
    ++candidate;  // past the entry: erase() unlinks only the entry itself
    erase(entry);
  }
  if (snapshots.empty()) return;
  if (auto put = log_.put_snapshots(snapshots); !put) {
    spdlog::warn("pipeline: {} snapshots not kept: {}", snapshots.size(), put.error().message());
  }
}

void AggregateCache::erase(Entry& entry) {
  recency_.erase(recency_.iterator_to(entry));
  entries_.erase(static_cast<const Entry*>(&entry));  // frees the entry
}

void AggregateCache::touch(Entry& entry) {
  recency_.erase(recency_.iterator_to(entry));
  recency_.push_front(entry);
}

}  // namespace tessera::pipeline::detail
