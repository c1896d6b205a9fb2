#include "tessera/pipeline/pipeline.h"

#include "recorded.h"
#include "sequencer.h"

namespace tessera::pipeline {

namespace d = domain;

Pipeline::Pipeline(eventstore::Log& log, Sources sources, CacheOptions cache)
    : log_(log),
      answers_(log),
      sources_(std::move(sources)),
      sequencer_(std::make_unique<Sequencer>(log, sources_, cache)) {}

Pipeline::~Pipeline() = default;

std::future<result<Accepted>> Pipeline::submit(d::Command command, std::optional<Precondition> precondition,
                                               std::optional<IdempotencyKey> idempotency_key) {
  std::promise<result<Accepted>> promise;
  auto future = promise.get_future();
  sequencer_->submit(
      std::move(command), std::move(precondition), std::move(idempotency_key),
      [promise = std::move(promise)](result<Accepted> outcome) mutable { promise.set_value(std::move(outcome)); });
  return future;
}

void Pipeline::submit(d::Command command, std::optional<Precondition> precondition,
                      std::optional<IdempotencyKey> idempotency_key, AnswerCallback on_answer) {
  sequencer_->submit(std::move(command), std::move(precondition), std::move(idempotency_key), std::move(on_answer));
}

domain::Timestamp Pipeline::now() const { return sources_.now(); }

result<std::optional<Accepted>> Pipeline::recorded(const IdempotencyKey& key) const {
  return detail::recorded_answer(log_, key);
}

result<std::vector<eventstore::RecordedEvent>> Pipeline::recorded_events(const Accepted& accepted) const {
  const auto& [first, last, replayed] = accepted.positions;
  if (accepted.events.empty() || last < first) return std::vector<eventstore::RecordedEvent>();
  return log_.read_all(eventstore::Position{first.value - 1}, last.value - first.value + 1);
}

}  // namespace tessera::pipeline
