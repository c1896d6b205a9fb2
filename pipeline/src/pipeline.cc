#include "tessera/pipeline/pipeline.h"

#include <spdlog/spdlog.h>

#include "recorded.h"
#include "sequencer.h"
#include "tessera/domain/streams.h"

namespace tessera::pipeline {

namespace d = domain;

Pipeline::Pipeline(eventstore::Log& log, Sources sources, CacheOptions cache)
    : log_(log),
      answers_(log),
      sources_(std::move(sources)),
      sequencer_(std::make_unique<Sequencer>(log, sources_, cache)) {}

Pipeline::~Pipeline() {
  {
    std::lock_guard lock(chunks_mutex_);
    stopping_ = true;
  }
  sequencer_.reset();  // answers what it holds; no chunk follows them
}

std::future<result<Accepted>> Pipeline::submit(d::Command command, std::optional<Precondition> precondition,
                                               std::optional<IdempotencyKey> idempotency_key) {
  std::promise<result<Accepted>> promise;
  auto future = promise.get_future();
  submit(std::move(command), std::move(precondition), std::move(idempotency_key),
         [promise = std::move(promise)](result<Accepted> outcome) mutable { promise.set_value(std::move(outcome)); });
  return future;
}

void Pipeline::submit(d::Command command, std::optional<Precondition> precondition,
                      std::optional<IdempotencyKey> idempotency_key, AnswerCallback on_answer) {
  if (std::holds_alternative<d::GenerateBatch>(command)) on_answer = starting_chunks(std::move(on_answer));
  sequencer_->submit(std::move(command), std::move(precondition), std::move(idempotency_key), std::move(on_answer));
}

Pipeline::AnswerCallback Pipeline::starting_chunks(AnswerCallback on_answer) {
  return [this, on_answer = std::move(on_answer)](result<Accepted> outcome) mutable {
    // A replay's batch was started by its first command (and, after a
    // restart, is resumed by whoever resumes batches).
    if (outcome && !outcome.value().replayed && d::starts_chunks(outcome.value().events)) {
      const auto& generated = std::get<d::BatchGenerated>(outcome.value().events.front().event);
      continue_batch(generated.org, generated.batch);
    }
    on_answer(std::move(outcome));
  };
}

void Pipeline::continue_batch(d::OrgId org, d::BatchId batch) {
  {
    std::lock_guard lock(chunks_mutex_);
    if (stopping_ || !batches_in_chunks_.insert(d::batch_stream(org, batch).str()).second) return;
  }
  issue_chunk(org, batch);
}

void Pipeline::issue_chunk(const d::OrgId& org, const d::BatchId& batch) {
  std::lock_guard lock(chunks_mutex_);
  if (stopping_) {
    batches_in_chunks_.erase(d::batch_stream(org, batch).str());
    return;
  }
  sequencer_->submit(d::IssueBatchChunk{org, batch, {}}, std::nullopt, std::nullopt,
                     [this, org, batch](result<Accepted> outcome) {
                       if (outcome && !outcome.value().events.empty()) return issue_chunk(org, batch);
                       if (!outcome) {
                         spdlog::warn("batch {} of {}: a chunk was refused, the batch waits to be resumed: {}",
                                      batch.str(), org.str(), outcome.error().message());
                       }
                       std::lock_guard done(chunks_mutex_);
                       batches_in_chunks_.erase(d::batch_stream(org, batch).str());
                     });
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
