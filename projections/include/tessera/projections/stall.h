// What both projectors (projector.h here, kafka/projector.h) do with an
// event they cannot fold, decided and reported here once for both.
//
// An event that does not decode (a type or a schema this binary does not
// know, a payload that does not parse), or, for the Kafka-fed projector, a
// message on a Tessera topic that carries no Tessera event at all, STOPS the
// projector at that event. It is not skipped: the models stay as they were
// after the event before it, and nothing after it is applied. Why: every
// later answer (a session's seats, a contract's counts, a code's status)
// folds on what came before, so a skipped event would leave them silently
// wrong for good; a stopped projector shows instead, as lag (reads that wait
// for the models answer 503 `unavailable`) and in its status (`stalled_at`:
// where, and why). Each projector tries the event again every kStallRetry,
// and a restart reads it again, so a binary that knows the event (an
// upgrade) resumes where the models stopped.
//
// StallReport keeps what the status shows and writes the log lines: one
// error when a projector stops at an event, then a reminder at most once per
// `reminder` while it stays there (not a line per retry), and one line when
// it moves on.
#pragma once

#include <chrono>
#include <cstdint>
#include <functional>
#include <mutex>
#include <optional>
#include <string>
#include <string_view>
#include <utility>

#include "tessera/base/error.h"
#include "tessera/domain/events.h"
#include "tessera/eventstore/types.h"

namespace tessera::projections {

// The event `recorded` carries. One that does not decode is
// eventstore::errc::corruption, its detail naming its position, stream, type
// and schema: the one test of "undecodable" both projectors and
// ReadModels::apply() use.
result<domain::Event> decode(const eventstore::RecordedEvent& recorded);

// How long a stopped projector waits before it reads the event again.
inline constexpr std::chrono::milliseconds kStallRetry{1000};

// Where a projector is stopped (`At`: a log position, a Kafka message's
// place), why, and how many times it has met the event there.
template <class At>
struct Stall {
  At at;
  std::string reason;
  std::uint64_t attempts = 1;
};

namespace detail {
enum class StallLine { stopped, still, moved_on };
void log_stall(StallLine line, std::string_view projector, std::string_view at, std::string_view reason,
               std::uint64_t attempts);
}  // namespace detail

// Threading: stalled() and moved_on() from the projector's thread;
// current() from any thread.
template <class At>
class StallReport {
 public:
  // `projector` and `describe(at)` name the projector and the event in the
  // log lines.
  StallReport(std::string projector, std::function<std::string(const At&)> describe,
              std::chrono::steady_clock::duration reminder = std::chrono::minutes(1))
      : projector_(std::move(projector)), describe_(std::move(describe)), reminder_(reminder) {}

  // The projector is stopped at `at` for `reason` (again, after a retry, or
  // for the first time).
  void stalled(const At& at, std::string reason) {
    std::lock_guard lock(mutex_);
    const auto now = std::chrono::steady_clock::now();
    if (current_ && current_->at == at && current_->reason == reason) {
      ++current_->attempts;
      if (now - last_line_ < reminder_) return;
      detail::log_stall(detail::StallLine::still, projector_, describe_(at), reason, current_->attempts);
    } else {
      current_ = Stall<At>{at, std::move(reason)};
      detail::log_stall(detail::StallLine::stopped, projector_, describe_(at), current_->reason, 1);
    }
    last_line_ = now;
  }

  // It is no longer stopped: it folded the event, or (Kafka) the event's
  // partition went to another member of the group.
  void moved_on() {
    std::lock_guard lock(mutex_);
    if (!current_) return;
    detail::log_stall(detail::StallLine::moved_on, projector_, describe_(current_->at), current_->reason,
                      current_->attempts);
    current_.reset();
  }

  // nullopt while the projector is not stopped.
  std::optional<Stall<At>> current() const {
    std::lock_guard lock(mutex_);
    return current_;
  }

 private:
  const std::string projector_;
  const std::function<std::string(const At&)> describe_;
  const std::chrono::steady_clock::duration reminder_;
  mutable std::mutex mutex_;
  std::optional<Stall<At>> current_;  // guarded by mutex_
  std::chrono::steady_clock::time_point last_line_;
};

}  // namespace tessera::projections
