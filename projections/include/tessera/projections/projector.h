// Keeps read models up to date with the local log: catches up from the
// models' checkpoint, then follows new events as they are committed.
//
// Lifetime: borrows the log and the models, which must outlive it. Runs its
// own thread from construction; the destructor stops it.
#pragma once

#include <atomic>
#include <thread>

#include "tessera/eventstore/log.h"
#include "tessera/projections/read_models.h"

namespace tessera::projections {

class Projector {
 public:
  Projector(const eventstore::Log& log, ReadModels& models);
  ~Projector();
  Projector(const Projector&) = delete;
  Projector& operator=(const Projector&) = delete;

 private:
  void run();

  const eventstore::Log& log_;
  ReadModels& models_;
  std::atomic<bool> stopping_{false};
  std::thread thread_;
};

}  // namespace tessera::projections
