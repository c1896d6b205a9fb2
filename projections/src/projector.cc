#include "tessera/projections/projector.h"

#include <spdlog/spdlog.h>

#include "tessera/eventstore/subscription.h"

namespace tessera::projections {

namespace {
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
  eventstore::Subscription subscription(log_, models_.checkpoint());
  while (!stopping_) {
    auto events = subscription.next(kIdleWait);
    auto applied = events ? models_.apply(events.value()) : result<void>(events.error());
    if (!applied) {
      // The log is the source of truth: wait and read the same events again.
      spdlog::error("projector: {} after position {}", applied.error().message(), models_.checkpoint().value);
      subscription.seek(models_.checkpoint());
      std::this_thread::sleep_for(kRetryWait);
    }
  }
}

}  // namespace tessera::projections
