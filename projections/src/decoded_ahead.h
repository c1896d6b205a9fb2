// The events of one apply() decoded (stall.h's decode()) for the fold, on a
// helper thread ahead of it when there are enough of them for a thread to
// pay: decoding is a fifth of the fold's time, and the fold then finds each
// event decoded instead of waiting on it. Fewer events are decoded on the
// caller's thread, as at() asks for them. Internal to projections/.
//
// An event that does not decode ends the decoding there: at() answers its
// error, and the fold stops at it (apply() is all or nothing).
//
// Lifetime: borrows `events` for its own life; the destructor stops the
// helper and waits for it. Threading: at() from one thread, for i = 0, 1,
// 2, ... in turn.
#pragma once

#include <atomic>
#include <cstddef>
#include <optional>
#include <span>
#include <thread>
#include <vector>

#include "tessera/domain/events.h"
#include "tessera/eventstore/types.h"

namespace tessera::projections::detail {

class DecodedAhead {
 public:
  explicit DecodedAhead(std::span<const eventstore::RecordedEvent> events);
  ~DecodedAhead();
  DecodedAhead(const DecodedAhead&) = delete;
  DecodedAhead& operator=(const DecodedAhead&) = delete;

  // Event i decoded, or why it does not; waits for the helper if it is
  // behind. Precondition: every event before i was asked for, and decoded.
  const result<domain::Event>& at(std::size_t i);

 private:
  void decode_all();

  std::span<const eventstore::RecordedEvent> events_;
  std::vector<std::optional<result<domain::Event>>> decoded_;
  std::atomic<std::size_t> ready_{0};  // decoded_[0, ready_) are there
  std::atomic<bool> stopping_{false};
  std::optional<std::jthread> helper_;
};

}  // namespace tessera::projections::detail
