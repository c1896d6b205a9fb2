#include "aggregate_cache.h"

#include "tessera/codec/json.h"

namespace tessera::pipeline::detail {

eventstore::result<Loaded*> AggregateCache::load(const domain::StreamId& stream) {
  if (auto it = entries_.find(stream.str()); it != entries_.end()) return &it->second;
  Loaded loaded;
  constexpr std::size_t kPage = 1024;
  for (;;) {
    auto page = log_.read_stream(stream.str(), loaded.version, kPage);
    if (!page) return page.error();
    for (const auto& recorded : page.value()) {
      auto event = codec::decode_event(recorded.type, recorded.schema, recorded.payload);
      if (!event) return eventstore::errc::corruption;
      loaded.state = domain::evolve(std::move(loaded.state), *event);
      loaded.version = recorded.version;
    }
    if (page.value().size() < kPage) break;
  }
  return &entries_.emplace(stream.str(), std::move(loaded)).first->second;
}

eventstore::result<bool> AggregateCache::exists(const domain::StreamId& stream) const {
  if (auto it = entries_.find(stream.str()); it != entries_.end()) return it->second.version.value != 0;
  auto version = log_.stream_version(stream.str());
  if (!version) return version.error();
  return version.value().value != 0;
}

}  // namespace tessera::pipeline::detail
