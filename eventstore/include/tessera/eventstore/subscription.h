// A subscription to the whole log: catches up from a position through the
// events already durable, then follows new ones as they are committed.
//
// Threading: a subscription belongs to one reading thread; the log may be
// appended to concurrently. Lifetime: borrows the log, which must outlive it.
#pragma once

#include <chrono>
#include <cstddef>
#include <vector>

#include "tessera/eventstore/log.h"

namespace tessera::eventstore {

class Subscription {
 public:
  Subscription(const Log& log, Position after, std::size_t max_per_read = 4096)
      : log_(log), position_(after), max_per_read_(max_per_read) {}

  // The next events after position(), in order, at most max_per_read: at once
  // when the log has some, else as soon as one is committed, or an empty
  // vector after `wait`. Moves position() past what it returns; a read error
  // leaves it where it was.
  result<std::vector<RecordedEvent>> next(std::chrono::milliseconds wait);

  // The position of the last event returned (or the starting one).
  Position position() const { return position_; }

  // Resumes after another position, e.g. to read again events that the
  // subscriber could not handle.
  void seek(Position after) { position_ = after; }

 private:
  const Log& log_;
  Position position_;
  std::size_t max_per_read_;
};

}  // namespace tessera::eventstore
