// Turns time into commands: when a pending invitation's expires_at comes,
// issues ExpireInvitation, so the log records the expiry like any change
// (and the seat is freed) without anyone having to cancel it.
//
// Lifetime: borrows the pipeline and the read models; runs its own thread
// from construction until destruction.
#pragma once

#include <atomic>
#include <chrono>
#include <thread>

#include "tessera/pipeline/pipeline.h"
#include "tessera/projections/read_models.h"

namespace tessera::tools {

class ExpiryScheduler {
 public:
  // `tick` bounds how late an expiry is recorded.
  ExpiryScheduler(pipeline::Pipeline& pipeline, const projections::ReadModels& models,
                  std::chrono::milliseconds tick = std::chrono::milliseconds(200));
  ~ExpiryScheduler();
  ExpiryScheduler(const ExpiryScheduler&) = delete;
  ExpiryScheduler& operator=(const ExpiryScheduler&) = delete;

 private:
  void run();

  pipeline::Pipeline& pipeline_;
  const projections::ReadModels& models_;
  std::chrono::milliseconds tick_;
  std::atomic<bool> stopping_{false};
  std::thread thread_;
};

}  // namespace tessera::tools
