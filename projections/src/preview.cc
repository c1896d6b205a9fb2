// ReadModels::preview(): the fold of an accepted command's events over the
// stored documents, kept in memory (read_models.h).
#include <algorithm>
#include <vector>

#include "fold.h"
#include "tessera/projections/read_models.h"
#include "tessera/projections/stall.h"

namespace tessera::projections {

result<std::optional<Document>> ReadModels::preview(std::span<const eventstore::RecordedEvent> events,
                                                    std::string_view stream, const StreamReader& earlier) const {
  const auto first = std::ranges::find(events, stream, &eventstore::RecordedEvent::stream);
  if (first == events.end()) return std::optional<Document>();
  detail::Fold fold(*db_, checkpoint());
  auto stored = fold.served(stream);
  if (!stored) return stored.error();
  const std::uint64_t stored_version = stored.value() ? stored.value()->version : 0;
  // Earlier commands on the stream are not applied yet: their events come
  // first, read from the log, or this one folded over the document would
  // skip them. A re-sent or already applied event is skipped by the fold
  // itself, as apply() skips it.
  std::vector<eventstore::RecordedEvent> before;
  if (stored_version + 1 < first->version.value) {
    const std::size_t missing = first->version.value - 1 - stored_version;
    if (!earlier) return std::optional<Document>();
    auto read = earlier(stream, eventstore::StreamVersion{stored_version}, missing);
    if (!read) return read.error();
    before = std::move(read).value();
    if (before.size() != missing) return std::optional<Document>();
  }
  for (const auto& recorded : before) {
    auto event = decode(recorded);
    if (!event) return event.error();
    if (auto folded = fold.apply(recorded, event.value()); !folded) return folded.error();
  }
  // Only the stream's own events: an event folds into its own stream's
  // document (and indexes and counts no query of that document reads), so the
  // others cannot change what it shows. The one exception, a batch adopting
  // codes that arrived before it, happens only to a Kafka-fed projector,
  // which previews nothing.
  for (const auto& recorded : events) {
    if (recorded.stream != stream) continue;
    auto event = decode(recorded);
    if (!event) return event.error();
    if (auto folded = fold.apply(recorded, event.value()); !folded) return folded.error();
  }
  return fold.served(stream);
}

}  // namespace tessera::projections
