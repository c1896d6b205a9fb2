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

// Two chunks of a batch are queued at a time, so that the sequencer decides
// one while the syncer makes the one before durable (one alone left the
// sequencer idle for every chunk's fsync: a million codes took 6.0 s, not
// the 3.9 s of one command). Each issues the codes after those decided before
// it, and a chunk after the last issues nothing.
constexpr int kChunksInFlight = 2;

void Pipeline::continue_batch(d::OrgId org, d::BatchId batch) {
  {
    std::lock_guard lock(chunks_mutex_);
    if (stopping_ || !chunks_in_flight_.try_emplace(d::batch_stream(org, batch).str(), 0).second) return;
  }
  for (int i = 0; i < kChunksInFlight; ++i) issue_chunk(org, batch);
}

void Pipeline::issue_chunk(const d::OrgId& org, const d::BatchId& batch) {
  std::lock_guard lock(chunks_mutex_);
  const std::string stream = d::batch_stream(org, batch).str();
  if (stopping_) {
    chunks_in_flight_.erase(stream);
    return;
  }
  ++chunks_in_flight_[stream];
  sequencer_->submit(d::IssueBatchChunk{org, batch, {}}, std::nullopt, std::nullopt,
                     [this, org, batch, stream](result<Accepted> outcome) {
                       {
                         std::lock_guard done(chunks_mutex_);
                         if (auto it = chunks_in_flight_.find(stream); it != chunks_in_flight_.end()) --it->second;
                       }
                       if (outcome && !outcome.value().events.empty()) return issue_chunk(org, batch);
                       if (!outcome) {
                         spdlog::warn("batch {} of {}: a chunk was refused, the batch waits to be resumed: {}",
                                      batch.str(), org.str(), outcome.error().message());
                       }
                       std::lock_guard done(chunks_mutex_);
                       if (auto it = chunks_in_flight_.find(stream); it != chunks_in_flight_.end() && it->second == 0) {
                         chunks_in_flight_.erase(it);
                       }
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
