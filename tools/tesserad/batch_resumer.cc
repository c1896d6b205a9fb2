#include "batch_resumer.h"

#include <spdlog/spdlog.h>

namespace tessera::tools {

namespace {
constexpr std::size_t kBatchesPerTick = 1000;
}

BatchResumer::BatchResumer(pipeline::Pipeline& pipeline, const projections::ReadModels& models,
                           std::chrono::milliseconds tick)
    : pipeline_(pipeline), models_(models), tick_(tick), thread_([this] { run(); }) {}

BatchResumer::~BatchResumer() {
  {
    std::lock_guard lock(mutex_);
    stopping_ = true;
  }
  wake_.notify_one();
  thread_.join();
}

void BatchResumer::run() {
  std::unique_lock lock(mutex_);
  while (!stopping_) {
    lock.unlock();
    if (auto generating = models_.generating_batches(kBatchesPerTick); !generating) {
      spdlog::warn("batch resumer: {}", generating.error().message());
    } else {
      for (const auto& batch : generating.value()) pipeline_.continue_batch(batch.org, batch.batch);
    }
    lock.lock();
    wake_.wait_for(lock, tick_, [&] { return stopping_; });
  }
}

}  // namespace tessera::tools
