#include "decoded_ahead.h"

#include "tessera/projections/stall.h"

namespace tessera::projections::detail {
namespace {
// Below this many events, starting a thread costs more than it saves (a
// live projector's applies are mostly small).
constexpr std::size_t kAheadFrom = 1'024;
}  // namespace

DecodedAhead::DecodedAhead(std::span<const eventstore::RecordedEvent> events)
    : events_(events), decoded_(events.size()) {
  if (events_.size() >= kAheadFrom) helper_.emplace([this] { decode_all(); });
}

DecodedAhead::~DecodedAhead() {
  stopping_ = true;
  helper_.reset();  // joins
}

void DecodedAhead::decode_all() {
  for (std::size_t i = 0; i < events_.size() && !stopping_; ++i) {
    decoded_[i].emplace(decode(events_[i]));
    const bool decodes = decoded_[i]->has_value();
    ready_.store(i + 1, std::memory_order_release);
    if (!decodes) return;
  }
}

const result<domain::Event>& DecodedAhead::at(std::size_t i) {
  if (!helper_) {
    decoded_[i].emplace(decode(events_[i]));
    return *decoded_[i];
  }
  // The helper decodes about four times as fast as the fold folds: this
  // waits at the start of an apply, rarely after.
  while (ready_.load(std::memory_order_acquire) <= i) std::this_thread::yield();
  return *decoded_[i];
}

}  // namespace tessera::projections::detail
