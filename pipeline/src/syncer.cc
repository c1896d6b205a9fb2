// The syncer's half of Pipeline::Sequencer (see sequencer.h).
#include <spdlog/spdlog.h>

#include <algorithm>
#include <iterator>

#include "recorded.h"
#include "sequencer.h"

namespace tessera::pipeline {

namespace {

Error earlier_failure() { return Error{eventstore::errc::io_error, "an earlier group commit failed; try again"}; }

}  // namespace

void Pipeline::Sequencer::sync_loop() {
  for (;;) {
    std::deque<Job> jobs;
    {
      std::unique_lock lock(syncer_mutex_);
      syncer_wake_.wait(lock, [&] { return syncer_stopping_ || !written_jobs_.empty(); });
      if (written_jobs_.empty()) return;
      jobs.swap(written_jobs_);
    }
    sync(jobs);
  }
}

// One sync() for every job taken, then each job's report to the sequencer
// and its answers to the completer, in the order decided. A job with
// nothing written still waits here: its answers may rest on the decisions
// of jobs written before it.
void Pipeline::Sequencer::sync(std::deque<Job>& jobs) {
  std::optional<Error> failure;
  if (std::ranges::any_of(jobs, &Job::needs_sync)) {
    if (auto synced = log_.sync(); !synced) {
      failure = synced.error();
      spdlog::warn("group commit not synced: {}", failure->message());
      failed_sync_epoch_ = jobs.back().epoch;
      poisoned_.store(true);
    }
  }
  // After a failed sync, every job decided before the sequencer drained (in
  // this round or a later one, written or not: one that wrote nothing may
  // have decided on one whose write is now unsure) fails with it.
  for (auto& job : jobs) {
    if (job.failure || failed_sync_epoch_ != job.epoch) continue;
    job.failure = failure ? *failure : earlier_failure();
    for (auto& r : job.results) {
      if (r) r = Error{eventstore::errc::io_error, job.failure->message()};
    }
  }
  const eventstore::Position head = log_.head();
  std::vector<detail::Completer::Answers> answered;
  std::vector<Written> reports;
  for (auto& job : jobs) {
    answered.push_back(answers(job, job.failure, !job.skipped, head));
    reports.push_back(
        Written{std::move(job.touched), std::move(job.keys), job.skipped || job.failure.has_value() || job.unwritten});
  }
  // The report before the answers: a caller's next command, sent on hearing
  // its answer, is then decided on a cache that knows how the write went.
  // The sequencer is woken after the completer (the sooner the callers hear,
  // the sooner their next commands come); it takes the reports first.
  {
    std::lock_guard lock(mutex_);
    std::ranges::move(reports, std::back_inserter(written_));
  }
  completer_.hand_over(std::move(answered));
  wake_.notify_one();
}

// Every answer of a job, refusals and no-ops included, goes out only after
// the write: each was decided on state that includes the batch's earlier
// commands (and, if it came after unwritten ones, earlier batches'), which
// were not durable until then. When the write failed, a refusal that rested
// on it is not final: the caller is told to retry. `written`: whether the
// job's requests went to the log at all.
detail::Completer::Answers Pipeline::Sequencer::answers(Job& job, const std::optional<Error>& write_failure,
                                                        bool written, eventstore::Position head) {
  detail::Completer::Answers out;
  out.reserve(job.decided.size());
  for (auto& item : job.decided) {
    auto& on_answer = job.batch[item.pending_index].on_answer;
    const bool unsure = write_failure && (item.after_writes || job.after_unwritten);
    if (item.refusal) {
      out.emplace_back(std::move(on_answer), unsure ? *write_failure : *item.refusal);
    } else if (item.replay) {
      out.emplace_back(std::move(on_answer), std::move(*item.replay));
    } else if (!written && (item.same_as || !item.events.empty())) {
      out.emplace_back(std::move(on_answer), *write_failure);
    } else if (item.same_as) {
      out.emplace_back(std::move(on_answer), answer(job.decided[*item.same_as], job.results, /*replayed=*/true));
    } else if (!item.events.empty()) {
      out.emplace_back(std::move(on_answer), answer(item, job.results, /*replayed=*/false));
    } else if (unsure) {
      out.emplace_back(std::move(on_answer), *write_failure);
    } else {
      out.emplace_back(std::move(on_answer), Accepted{{head, head}, {}});
    }
  }
  return out;
}

// The answer to a command whose request was in the append, or to a later
// command of the batch with the same key (replayed).
result<Accepted> Pipeline::Sequencer::answer(Decided& item, std::span<result<eventstore::AppendResult>> results,
                                             bool replayed) {
  const auto& written = results[item.result_index];
  if (!written) return detail::from_log(written.error());
  if (written.value().replayed) return detail::read_back(log_, written.value());
  Accepted accepted{written.value(), item.shared ? item.events : std::move(item.events), replayed};
  accepted.positions.replayed = replayed;
  return accepted;
}

}  // namespace tessera::pipeline
