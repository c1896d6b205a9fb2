// Keeps read models up to date with the local log: catches up from the
// models' checkpoint, then follows new events as they are committed.
//
// An event it cannot fold stops it there (stall.h says why): it applies the
// events before it, does not skip it, reports it (status(), and one log line
// rather than one per retry) and reads it again every `retry`; a restart
// with a binary that decodes it resumes. The same holds for any failure to
// apply (a stored document that does not read, a disk error): it stops at
// the first event not applied and tries again.
//
// Lifetime: borrows the log and the models, which must outlive it. Runs its
// own thread from construction; the destructor stops it (without waiting out
// a retry). Threading: status() from any thread.
#pragma once

#include <atomic>
#include <chrono>
#include <condition_variable>
#include <mutex>
#include <optional>
#include <string>
#include <thread>

#include "tessera/eventstore/log.h"
#include "tessera/projections/read_models.h"
#include "tessera/projections/stall.h"

namespace tessera::projections {

struct ProjectorStatus {
  // While it is stopped: the position of the first event not applied, why,
  // and how many times it read it; nullopt while it follows the log.
  std::optional<Stall<eventstore::Position>> stalled;
};

class Projector {
 public:
  Projector(const eventstore::Log& log, ReadModels& models, std::chrono::milliseconds retry = kStallRetry);
  ~Projector();
  Projector(const Projector&) = delete;
  Projector& operator=(const Projector&) = delete;

  ProjectorStatus status() const;

 private:
  void run();
  // Applies `events` or, failing that, those before the first it cannot
  // fold; answers where it stopped and why, or nullopt when it applied all.
  std::optional<Stall<eventstore::Position>> apply(const std::vector<eventstore::RecordedEvent>& events);
  // Waits `retry_`, or less if the projector is stopping.
  void pause();

  const eventstore::Log& log_;
  ReadModels& models_;
  const std::chrono::milliseconds retry_;
  StallReport<eventstore::Position> report_;
  std::atomic<bool> stopping_{false};
  std::mutex pause_mutex_;
  std::condition_variable pause_;
  std::thread thread_;
};

}  // namespace tessera::projections
