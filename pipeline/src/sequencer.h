// Internal: group commit in two stages, a thread each. The sequencer
// (sequencer.cc) decides a batch of commands and writes it into the log, not
// yet durable; the syncer (syncer.cc) makes every batch written so far
// durable with one WAL fsync and hands the answers to the completer. While
// one group commit is synced, the next ones are decided and written, each
// against the state that includes the ones before. Answers still wait for
// the sync their decision rests on, and every write goes out in the order
// its batch was decided. (A third thread for the writes, between the two,
// measured slower on two cores: one more hand-off per group commit, and one
// more thread to share them.)
//
// After a failed write or sync nothing more is written until the sequencer
// has drained every job in flight and forgotten what the failure
// invalidated: decisions taken meanwhile may rest on it, and their callers
// are told to retry.
//
// Lifetime: the destructor decides and writes every command taken, syncs
// every batch written, then the completer answers what it still holds.
#pragma once

#include <atomic>
#include <chrono>
#include <condition_variable>
#include <cstdint>
#include <deque>
#include <mutex>
#include <optional>
#include <span>
#include <string>
#include <thread>
#include <unordered_map>
#include <vector>

#include "aggregate_cache.h"
#include "completer.h"
#include "tessera/pipeline/pipeline.h"

namespace tessera::pipeline {

class Pipeline::Sequencer {
 public:
  Sequencer(eventstore::Log& log, const Sources& sources, CacheOptions cache);
  ~Sequencer();

  void submit(domain::Command command, std::optional<Precondition> precondition, std::optional<IdempotencyKey> key,
              AnswerCallback on_answer);

 private:
  struct Pending {
    domain::Command command;
    std::optional<Precondition> precondition;
    std::optional<IdempotencyKey> key;
    AnswerCallback on_answer;
  };

  // A command decided in this batch, its answer waiting for the write.
  struct Decided {
    std::size_t pending_index = 0;
    std::optional<eventstore::AppendRequest> request;  // events to write, if any
    domain::Events events;
    std::optional<Error> refusal;
    bool after_writes = false;  // an earlier command in the batch writes
    // Its key was recorded before this batch: the first command's answer.
    std::optional<Accepted> replay;
    // Its key is taken by this earlier command of the batch, whose answer it
    // shares (then that command's events are copied, not moved, into its own).
    std::optional<std::size_t> same_as;
    bool shared = false;
    std::size_t result_index = 0;  // its request's answer in the batch's requests
  };

  // A decided batch and how its write went, on its way to the syncer, which
  // frees it after the answers are out (a million codes take a while to
  // free).
  struct Job {
    std::vector<Pending> batch;
    std::vector<Decided> decided;
    std::vector<eventstore::AppendRequest> requests;
    std::vector<detail::Loaded*> touched;  // the cache entries of the streams its requests write
    std::vector<std::string> keys;         // the idempotency keys it records
    // Decided while earlier batches were unsynced: any of its decisions may
    // rest on theirs.
    bool after_unwritten = false;
    // The sequencer's epoch when it was decided: each drain() begins a new
    // one, after which nothing decided rests on anything before.
    std::uint64_t epoch = 0;

    // The log's answer to each of its requests, in order; empty when nothing
    // was written (`skipped`).
    std::vector<result<eventstore::AppendResult>> results;
    bool skipped = false;  // not written: an earlier write or sync failed
    std::optional<Error> failure;
    // The log knew a key the sequencer did not (another writer recorded it):
    // that request's events were not appended.
    bool unwritten = false;
    bool needs_sync = false;  // events went into the log
  };

  // What the syncer reports back to the sequencer about a job.
  struct Written {
    std::vector<detail::Loaded*> touched;
    std::vector<std::string> keys;
    // Its decisions, folded into the cache, are not all in the log: the write
    // failed, or was skipped after an earlier failure, or the log already
    // knew a key.
    bool invalidates = false;
  };

  // ---- the sequencer's thread (sequencer.cc)
  void run();
  void take_back(std::vector<Written> written);
  bool apply(Written& w);
  void drain();
  void decide_batch(std::vector<Pending>& batch);
  void claim_own_streams(const std::vector<Pending>& batch);
  void write(Job& job);
  result<void> check(const std::optional<Precondition>& precondition);
  result<domain::Events> decide(domain::Command& command, domain::Timestamp now);
  result<detail::Loaded*> recall(const domain::StreamId& stream, std::size_t& next);
  result<eventstore::AppendRequest> to_request(const domain::Events& events, domain::Timestamp now,
                                               std::vector<detail::Loaded*>& touched);

  // ---- the syncer's thread (syncer.cc)
  void sync_loop();
  void sync(std::deque<Job>& jobs);
  detail::Completer::Answers answers(Job& job, const std::optional<Error>& write_failure, bool written,
                                     eventstore::Position head);
  result<Accepted> answer(Decided& item, std::span<result<eventstore::AppendResult>> results, bool replayed);

  eventstore::Log& log_;
  const Sources& sources_;
  detail::AggregateCache cache_;  // the sequencer's thread's
  // The entries the decision under way loaded or claimed, in that order.
  std::vector<detail::Loaded*> used_;
  // Declared before the threads, so destroyed after they stop.
  detail::Completer completer_;

  // Commands in, and the syncer's reports back; guarded by mutex_.
  std::mutex mutex_;
  std::condition_variable wake_;
  std::deque<Pending> queue_;
  std::vector<Written> written_;
  bool stopping_ = false;

  // The sequencer's thread's own: jobs handed to the syncer and not yet
  // reported back, and the keys they record.
  std::size_t jobs_in_flight_ = 0;
  std::unordered_map<std::string, int> keys_in_flight_;

  // A write or sync failed and the sequencer has not drained yet: set by
  // either thread, cleared by the sequencer's drain().
  std::atomic<bool> poisoned_{false};

  std::uint64_t epoch_ = 0;  // the sequencer's thread's
  // The size of the chunks the group being decided issues, and when a group
  // last held other commands than chunks (sequencer.cc).
  std::uint32_t chunk_size_ = domain::kCodesPerChunk;
  std::chrono::steady_clock::time_point others_seen_at_{};

  // The epoch of the last failed sync: the syncer's thread's.
  std::optional<std::uint64_t> failed_sync_epoch_;

  // Written jobs for the syncer; guarded by syncer_mutex_.
  std::mutex syncer_mutex_;
  std::condition_variable syncer_wake_;
  std::deque<Job> written_jobs_;
  bool syncer_stopping_ = false;

  std::thread syncer_thread_;
  std::thread thread_;
};

}  // namespace tessera::pipeline
