#include "expiry_scheduler.h"

#include <spdlog/spdlog.h>
#include <algorithm>

#include <vector>

namespace tessera::tools {

namespace {
constexpr std::size_t kExpiriesPerTick = 1000;
}

ExpiryScheduler::ExpiryScheduler(pipeline::Pipeline& pipeline, const projections::ReadModels& models,
                                 std::chrono::milliseconds tick)
    : pipeline_(pipeline), models_(models), tick_(tick), thread_([this] { run(); }) {}

ExpiryScheduler::~ExpiryScheduler() {
  stopping_ = true;
  thread_.join();
}

void ExpiryScheduler::run() {
  while (!stopping_) {
    auto due = models_.due_expiries(pipeline_.now(), kExpiriesPerTick);
    if (!due) spdlog::warn("expiry scheduler: {}", due.error().message());
    std::vector<std::future<result<pipeline::Accepted>>> pending;
    if (due) {
      for (const auto& expiry : due.value()) {
        pending.push_back(pipeline_.submit(domain::ExpireInvitation{expiry.invitation, {}}));
      }
    }
    // A refusal is expected when the invitation was claimed or cancelled
    // meanwhile: the read models will drop it from the due list.
    eventstore::Position last_expired{0};
    for (auto& answer : pending) {
      if (auto accepted = answer.get()) last_expired = std::max(last_expired, accepted.value().positions.last);
    }
    // Let the projection apply the expiries before the due list is read
    // again, so that none is submitted twice.
    if (last_expired.value > 0) models_.wait_for(last_expired, tick_);
    std::this_thread::sleep_for(tick_);
  }
}

}  // namespace tessera::tools
