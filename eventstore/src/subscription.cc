#include "tessera/eventstore/subscription.h"

namespace tessera::eventstore {

result<std::vector<RecordedEvent>> Subscription::next(std::chrono::milliseconds wait) {
  if (log_.head() <= position_ && log_.wait_beyond(position_, wait) <= position_) {
    return std::vector<RecordedEvent>();
  }
  auto events = log_.read_all(position_, max_per_read_);
  if (events && !events.value().empty()) position_ = events.value().back().position;
  return events;
}

}  // namespace tessera::eventstore
