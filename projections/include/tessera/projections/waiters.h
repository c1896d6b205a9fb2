// Callbacks waiting for a position to be reached: the read models' way to
// tell an asynchronous caller that they now reflect the log up to a point,
// without a thread blocked on a condition variable per caller.
//
// Threading: every member is safe from any thread. Callbacks run on the
// thread that calls reached() (or, when the position is already reached, on
// the one that calls wait()), with no lock held, so they may call wait() or
// forget() again; they must not block, for the callers behind them wait.
#pragma once

#include <cstdint>
#include <functional>
#include <map>
#include <mutex>
#include <utility>
#include <vector>

#include "tessera/eventstore/types.h"

namespace tessera::projections {

class PositionWaiters {
 public:
  // What forget() takes to withdraw a wait.
  struct Ticket {
    std::uint64_t position = 0;
    std::uint64_t serial = 0;  // 0: nothing to forget (already called)
  };

  explicit PositionWaiters(eventstore::Position reached) : reached_(reached.value) {}

  // Calls `then` once the position passed to reached() is at least
  // `position`: at once if it already is.
  Ticket wait(eventstore::Position position, std::move_only_function<void()> then) {
    {
      std::lock_guard lock(mutex_);
      if (reached_ < position.value) {
        const Ticket ticket{position.value, ++serial_};
        waiting_.emplace(std::pair(ticket.position, ticket.serial), std::move(then));
        return ticket;
      }
    }
    then();
    return {};
  }

  // Withdraws a wait whose callback has not run: it is destroyed uncalled. A
  // wait already called (or being called) is left as it is.
  void forget(const Ticket& ticket) {
    if (ticket.serial == 0) return;
    std::move_only_function<void()> dropped;  // destroyed outside the lock
    std::lock_guard lock(mutex_);
    const auto it = waiting_.find(std::pair(ticket.position, ticket.serial));
    if (it == waiting_.end()) return;
    dropped = std::move(it->second);
    waiting_.erase(it);
  }

  // The position is now `position`: calls every wait it satisfies, in
  // position order.
  void reached(eventstore::Position position) {
    std::vector<std::move_only_function<void()>> due;
    {
      std::lock_guard lock(mutex_);
      if (position.value > reached_) reached_ = position.value;
      while (!waiting_.empty() && waiting_.begin()->first.first <= reached_) {
        due.push_back(std::move(waiting_.begin()->second));
        waiting_.erase(waiting_.begin());
      }
    }
    for (auto& then : due) then();
  }

 private:
  std::mutex mutex_;
  std::uint64_t reached_;
  std::uint64_t serial_ = 0;
  std::map<std::pair<std::uint64_t, std::uint64_t>, std::move_only_function<void()>> waiting_;
};

}  // namespace tessera::projections
