#include "tessera/projections/projector.h"

#include <algorithm>

#include "tessera/eventstore/subscription.h"

namespace tessera::projections {

namespace {
constexpr std::chrono::milliseconds kIdleWait{100};
// Events read, and applied in one write, at most: a catch-up's fixed cost
// per apply (the documents every batch touches: sessions, batches,
// summaries) spread over many events, for a few tens of MB held at a time.
constexpr std::size_t kMaxEventsPerApply = 16'384;

std::string describe(const eventstore::Position& position) {
  return "the event at position " + std::to_string(position.value);
}
}  // namespace

Projector::Projector(const eventstore::Log& log, ReadModels& models, std::chrono::milliseconds retry)
    : log_(log), models_(models), retry_(retry), report_("projector", describe), thread_([this] { run(); }) {}

Projector::~Projector() {
  {
    std::lock_guard lock(pause_mutex_);
    stopping_ = true;
  }
  pause_.notify_all();
  thread_.join();
}

ProjectorStatus Projector::status() const { return ProjectorStatus{report_.current()}; }

void Projector::pause() {
  std::unique_lock lock(pause_mutex_);
  pause_.wait_for(lock, retry_, [&] { return stopping_.load(); });
}

std::optional<Stall<eventstore::Position>> Projector::apply(const std::vector<eventstore::RecordedEvent>& events) {
  auto applied = models_.apply(events);
  if (applied) return std::nullopt;
  // apply() applies all or nothing: the events before the first that does
  // not decode go in on their own, so the models stop just before it.
  const auto undecodable =
      std::ranges::find_if(events, [](const eventstore::RecordedEvent& e) { return !decode(e).has_value(); });
  if (undecodable != events.end()) {
    const std::span<const eventstore::RecordedEvent> before(events.begin(), undecodable);
    if (auto prefix = models_.apply(before); !prefix) {
      return Stall<eventstore::Position>{events.front().position, prefix.error().message()};
    }
    return Stall<eventstore::Position>{undecodable->position, decode(*undecodable).error().message()};
  }
  return Stall<eventstore::Position>{events.front().position, applied.error().message()};
}

void Projector::run() {
  eventstore::Subscription subscription(log_, models_.checkpoint(), kMaxEventsPerApply);
  while (!stopping_) {
    auto events = subscription.next(kIdleWait);
    std::optional<Stall<eventstore::Position>> stall;
    if (!events) {
      stall = Stall<eventstore::Position>{eventstore::Position{models_.checkpoint().value + 1},
                                          "cannot read the log: " + events.error().message()};
    } else if (!events.value().empty()) {
      stall = apply(events.value());
    } else {
      continue;  // nothing new: neither stopped nor moved on
    }
    if (!stall) {
      report_.moved_on();
      continue;
    }
    // The log is the source of truth: wait, then read the same event again.
    report_.stalled(stall->at, std::move(stall->reason));
    pause();
    subscription.seek(models_.checkpoint());
  }
}

}  // namespace tessera::projections
