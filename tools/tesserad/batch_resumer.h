// Resumes batches generated in chunks whose chunks stopped: after a restart
// (the pipeline in memory knew which batches it was generating; a new one
// does not), or after a chunk was refused (a failed write). Every `tick` it
// asks the read models for the batches still generating and hands each to
// Pipeline::continue_batch(), which does nothing for a batch whose chunks
// are already being issued. A chunk decides from the batch's own state in
// the log, so a read model that lags only makes a batch resume a tick later
// (or a finished one try a chunk that issues nothing).
//
// Lifetime: borrows the pipeline and the read models; runs its own thread
// from construction until destruction.
#pragma once

#include <atomic>
#include <chrono>
#include <condition_variable>
#include <mutex>
#include <thread>

#include "tessera/pipeline/pipeline.h"
#include "tessera/projections/read_models.h"

namespace tessera::tools {

class BatchResumer {
 public:
  BatchResumer(pipeline::Pipeline& pipeline, const projections::ReadModels& models,
               std::chrono::milliseconds tick = std::chrono::seconds(1));
  ~BatchResumer();
  BatchResumer(const BatchResumer&) = delete;
  BatchResumer& operator=(const BatchResumer&) = delete;

 private:
  void run();

  pipeline::Pipeline& pipeline_;
  const projections::ReadModels& models_;
  std::chrono::milliseconds tick_;
  std::mutex mutex_;
  std::condition_variable wake_;
  bool stopping_ = false;  // guarded by mutex_
  std::thread thread_;
};

}  // namespace tessera::tools
