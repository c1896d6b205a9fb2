#include "tessera/projections/projector.h"

#include <spdlog/spdlog.h>

namespace tessera::projections {

namespace {
constexpr std::size_t kEventsPerBatch = 4096;
constexpr std::chrono::milliseconds kIdleWait{100};
constexpr std::chrono::milliseconds kRetryWait{500};
}  // namespace

Projector::Projector(const eventstore::Log& log, ReadModels& models)
    : log_(log), models_(models), thread_([this] { run(); }) {}

Projector::~Projector() {
  stopping_ = true;
  thread_.join();
}

void Projector::run() {
  while (!stopping_) {
    const auto from = models_.checkpoint();
    auto events = log_.read_all(from, kEventsPerBatch);
    if (events && events.value().empty()) {
      log_.wait_beyond(from, kIdleWait);
      continue;
    }
    auto applied = events ? models_.apply(events.value()) : eventstore::result<void>(events.error());
    if (!applied) {
      // The log is the source of truth: wait and read the same events again.
      spdlog::error("projector: {} at position {}", applied.error().message(), from.value);
      std::this_thread::sleep_for(kRetryWait);
    }
  }
}

}  // namespace tessera::projections
