#include "tessera/pipeline/pipeline.h"

#include <spdlog/spdlog.h>

#include <algorithm>
#include <atomic>
#include <condition_variable>
#include <deque>
#include <iterator>
#include <mutex>
#include <span>
#include <thread>
#include <unordered_map>

#include "aggregate_cache.h"
#include "tessera/codec/json.h"
#include "tessera/domain/streams.h"

namespace tessera::pipeline {

using detail::AggregateCache;
using detail::as;
using detail::Loaded;
namespace d = domain;

namespace {

// Commands taken into one group commit at most; bounds one write batch's size
// and the latency of the commands behind it.
constexpr std::size_t kMaxCommandsPerBatch = 4096;

Refusal refusal(const d::Rejection& r) { return Refusal{make_error_code(r.code), r.detail}; }
Refusal refusal(std::error_code code) {
  if (code == eventstore::errc::idempotency_key_reused) code = errc::idempotency_key_reused;
  return Refusal{code, code.message()};
}
Refusal key_reused() {
  return Refusal{errc::idempotency_key_reused, "this idempotency key was first used with another request"};
}

// Fulfils a batch's futures on a thread of its own, in the order batches were
// handed over. Waking each caller is a system call; meanwhile the syncer can
// sync the next batches. Handed answers are already final: the batch's sync
// is done (durable, or failed) before hand_over.
// The destructor answers everything still held, then stops.
class Completer {
 public:
  using Answers = std::vector<std::pair<Pipeline::AnswerCallback, Outcome>>;

  Completer() : thread_([this] { run(); }) {}
  ~Completer() {
    {
      std::lock_guard lock(mutex_);
      stopping_ = true;
    }
    wake_.notify_one();
    thread_.join();
  }
  Completer(const Completer&) = delete;
  Completer& operator=(const Completer&) = delete;

  // A sync's answers, a job's list each, in order; one wake-up for all.
  void hand_over(std::vector<Answers> answers) {
    {
      std::lock_guard lock(mutex_);
      std::ranges::move(answers, std::back_inserter(queue_));
    }
    wake_.notify_one();
  }

 private:
  void run() {
    for (;;) {
      std::deque<Answers> taken;
      {
        std::unique_lock lock(mutex_);
        wake_.wait(lock, [&] { return stopping_ || !queue_.empty(); });
        if (queue_.empty()) return;
        taken.swap(queue_);
      }
      for (auto& answers : taken) {
        for (auto& [on_answer, outcome] : answers) on_answer(std::move(outcome));
      }
    }
  }

  std::mutex mutex_;
  std::condition_variable wake_;
  std::deque<Answers> queue_;
  bool stopping_ = false;
  std::thread thread_;
};

// The stream decide() loads first for the command: its own aggregate's (a
// code's for the commands on codes), new for most commands (a contract, a
// session, a batch, an invitation). decide_batch() claims these for the
// whole batch with one lookup of the log.
d::StreamId stream_loaded_first(const d::Command& command) {
  return std::visit(
      [](const auto& c) -> d::StreamId {
        using C = std::decay_t<decltype(c)>;
        if constexpr (std::is_same_v<C, d::CreateContract> || std::is_same_v<C, d::ConfigureContract>) {
          return d::contract_stream(c.org, c.contract);
        } else if constexpr (std::is_same_v<C, d::CreateSession> || std::is_same_v<C, d::ChangeCapacity>) {
          return d::session_stream(c.org, c.session);
        } else if constexpr (std::is_same_v<C, d::GenerateBatch>) {
          return d::batch_stream(c.org, c.batch);
        } else if constexpr (requires { c.code_key; } && !std::is_same_v<C, d::Invite>) {
          return d::code_stream(c.code_key);
        } else if constexpr (requires { c.invitation; }) {
          return d::invitation_stream(c.invitation);
        } else {
          static_assert(std::is_same_v<C, d::CancelRegistration> || std::is_same_v<C, d::RevokeRegistration> ||
                        std::is_same_v<C, d::ChangeAccess>);
          return d::registration_stream(c.org, c.registration);
        }
      },
      command);
}

}  // namespace

// Two stages, a thread each: the sequencer decides a batch and writes it
// into the log (not yet durable); the syncer makes every batch written so
// far durable with one WAL fsync. While one group commit is synced, the next
// ones are decided and written, each against the state that includes the
// ones before. Answers still wait for the sync their decision rests on, and
// every write goes out in the order its batch was decided. (A third thread
// for the writes, between the two, measured slower on two cores: one more
// hand-off per group commit, and one more thread to share them.)
class Pipeline::Sequencer {
 public:
  Sequencer(eventstore::Log& log, const Sources& sources, CacheOptions cache)
      : log_(log), sources_(sources), cache_(log, cache) {
    syncer_thread_ = std::thread([this] { sync_loop(); });
    thread_ = std::thread([this] { run(); });
  }

  ~Sequencer() {
    {
      std::lock_guard lock(mutex_);
      stopping_ = true;
    }
    wake_.notify_one();
    thread_.join();  // after deciding and writing every command taken
    {
      std::lock_guard lock(syncer_mutex_);
      syncer_stopping_ = true;
    }
    syncer_wake_.notify_one();
    syncer_thread_.join();  // after syncing every batch written
    // The completer's destructor, after this, answers what it still holds.
  }

  void submit(d::Command command, std::optional<Precondition> precondition, std::optional<IdempotencyKey> key,
              AnswerCallback on_answer) {
    {
      std::lock_guard lock(mutex_);
      queue_.push_back(Pending{std::move(command), std::move(precondition), std::move(key), std::move(on_answer)});
    }
    wake_.notify_one();
  }

 private:
  struct Pending {
    d::Command command;
    std::optional<Precondition> precondition;
    std::optional<IdempotencyKey> key;
    AnswerCallback on_answer;
  };

  // A command decided in this batch, its answer waiting for the write.
  struct Decided {
    std::size_t pending_index = 0;
    std::optional<eventstore::AppendRequest> request;  // events to write, if any
    d::Events events;
    std::optional<Refusal> refusal;
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
    std::vector<Loaded*> touched;   // the cache entries of the streams its requests write
    std::vector<std::string> keys;  // the idempotency keys it records
    // Decided while earlier batches were unsynced: any of its decisions may
    // rest on theirs.
    bool after_unwritten = false;
    // The sequencer's epoch when it was decided: each drain() begins a new
    // one, after which nothing decided rests on anything before.
    std::uint64_t epoch = 0;

    // The log's answer to each of its requests, in order; empty when nothing
    // was written (`skipped`).
    std::vector<eventstore::result<eventstore::AppendResult>> results;
    bool skipped = false;  // not written: an earlier write or sync failed
    std::optional<Refusal> failure;
    // The log knew a key the sequencer did not (another writer recorded it):
    // that request's events were not appended.
    bool unwritten = false;
    bool needs_sync = false;  // events went into the log
  };

  // What the syncer reports back to the sequencer about a job.
  struct Written {
    std::vector<Loaded*> touched;
    std::vector<std::string> keys;
    // Its decisions, folded into the cache, are not all in the log: the write
    // failed, or was skipped after an earlier failure, or the log already
    // knew a key.
    bool invalidates = false;
  };

  // ---- the sequencer's thread

  void run() {
    std::vector<Pending> batch;
    for (;;) {
      std::vector<Written> written;
      {
        std::unique_lock lock(mutex_);
        wake_.wait(lock, [&] { return stopping_ || !queue_.empty() || !written_.empty(); });
        written.swap(written_);
        if (queue_.empty() && written.empty()) return;
        while (!queue_.empty() && batch.size() < kMaxCommandsPerBatch) {
          batch.push_back(std::move(queue_.front()));
          queue_.pop_front();
        }
      }
      take_back(std::move(written));
      if (batch.empty()) continue;
      // A retry of a command still being written must find its key recorded.
      if (std::ranges::any_of(batch, [&](const Pending& p) { return p.key && keys_in_flight_.contains(p.key->key); })) {
        drain();
      }
      decide_batch(batch);
      batch.clear();
    }
  }

  // Applies the syncer's reports: the cache settles what was written, and
  // after a failure forgets every decision not in the log, once no batch
  // decided on top of them is still on its way.
  void take_back(std::vector<Written> written) {
    bool failed = false;
    for (auto& w : written) failed = apply(w) || failed;
    if (failed) drain();
  }

  // Returns whether the job invalidated what the cache held.
  bool apply(Written& w) {
    --jobs_in_flight_;
    for (const auto& key : w.keys) {
      if (auto it = keys_in_flight_.find(key); it != keys_in_flight_.end() && --it->second == 0) {
        keys_in_flight_.erase(it);
      }
    }
    if (w.invalidates) {
      cache_.forget(w.touched);
      return true;
    }
    cache_.settle(w.touched);
    return false;
  }

  // Waits until every job handed to the syncer has come back, and applies
  // the reports, then drops what a failure invalidated. Then nothing the
  // cache holds rests on a failed write, and writing may resume.
  void drain() {
    while (jobs_in_flight_ > 0) {
      std::vector<Written> written;
      {
        std::unique_lock lock(mutex_);
        wake_.wait(lock, [&] { return !written_.empty(); });
        written.swap(written_);
      }
      for (auto& w : written) apply(w);
    }
    cache_.drop_forgotten();
    ++epoch_;
    poisoned_.store(false);
  }

  void decide_batch(std::vector<Pending>& batch) {
    Job job;
    job.after_unwritten = jobs_in_flight_ > 0;
    job.epoch = epoch_;
    auto& decided = job.decided;
    decided.reserve(batch.size());
    const d::Timestamp now = sources_.now();
    bool writes_before = false;  // whether this decision may rest on unwritten ones
    claim_first_streams(batch);
    // The keys the batch's commands will record: key -> (command, fingerprint).
    std::unordered_map<std::string, std::pair<std::size_t, std::string>> batch_keys;
    for (std::size_t i = 0; i < batch.size(); ++i) {
      Decided item;
      item.pending_index = i;
      item.after_writes = writes_before;
      const auto& key = batch[i].key;
      if (key) {
        if (const auto it = batch_keys.find(key->key); it != batch_keys.end()) {
          if (it->second.second != key->fingerprint) {
            item.refusal = key_reused();
          } else {
            item.same_as = it->second.first;
            decided[it->second.first].shared = true;
          }
          decided.push_back(std::move(item));
          continue;
        }
        if (auto first = recorded_answer(*key); !first) {
          item.refusal = first.error();
        } else if (first.value()) {
          item.replay = std::move(*first.value());
        }
        if (item.refusal || item.replay) {
          decided.push_back(std::move(item));
          continue;
        }
      }
      if (auto met = check(batch[i].precondition); !met) {
        item.refusal = met.error();
      } else if (auto events = decide(batch[i].command, now); !events) {
        item.refusal = events.error();
      } else if (!events.value().empty()) {
        auto request = to_request(events.value(), now, job.touched);
        if (request) {
          item.request = std::move(request).value();
          item.events = std::move(events).value();
          writes_before = true;
          if (key) {
            item.request->idempotency_key = key->key;
            item.request->fingerprint = key->fingerprint;
            batch_keys.emplace(key->key, std::make_pair(i, key->fingerprint));
          }
        } else {
          item.refusal = refusal(request.error());
        }
      }
      decided.push_back(std::move(item));
    }
    for (auto& item : decided) {
      if (!item.request) continue;
      item.result_index = job.requests.size();
      job.requests.push_back(std::move(*item.request));
    }
    for (auto& [key, first] : batch_keys) {
      ++keys_in_flight_[key];
      job.keys.push_back(key);
    }
    job.batch = std::move(batch);
    ++jobs_in_flight_;
    write(job);
    {
      std::lock_guard lock(syncer_mutex_);
      written_jobs_.push_back(std::move(job));
    }
    syncer_wake_.notify_one();
  }

  // Claims, in the cache, the stream each command loads first, all with one
  // lookup of the log (Log::stream_versions): the new ones, what most
  // commands make, are then held as empty and their loads read nothing.
  // The log probes a batch's keys together, so their cache misses overlap:
  // the sequencer spent ~0.6 us a command less than on a lookup each in the
  // append bench. A failed lookup claims nothing; the loads then read, and
  // report, as before.
  void claim_first_streams(const std::vector<Pending>& batch) {
    std::vector<d::StreamId> streams;
    streams.reserve(batch.size());
    for (const auto& pending : batch) streams.push_back(stream_loaded_first(pending.command));
    (void)cache_.claim_fresh(streams);
  }

  // Writes the job's requests with one write_batch(), not yet synced. After a
  // failure (this write's, or an earlier write's or sync's) nothing is
  // written until the sequencer has drained and forgotten what the failure
  // invalidated: decisions taken meanwhile may rest on it, and their callers
  // are told to retry.
  void write(Job& job) {
    job.skipped = poisoned_.load();
    if (job.skipped) {
      job.failure = Refusal{eventstore::errc::io_error, "an earlier group commit failed; try again"};
      return;
    }
    if (job.requests.empty()) return;
    job.results = log_.write_batch(job.requests);
    for (const auto& r : job.results) {
      if (!r && !job.failure) job.failure = refusal(r.error());
      if (r && r.value().replayed) job.unwritten = true;
      if (r && !r.value().replayed) job.needs_sync = true;
    }
    if (job.failure) spdlog::warn("group commit refused: {}", job.failure->detail);
    if (job.failure || job.unwritten) poisoned_.store(true);
  }

  // ---- the syncer's thread

  void sync_loop() {
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
  void sync(std::deque<Job>& jobs) {
    std::optional<Refusal> failure;
    if (std::ranges::any_of(jobs, &Job::needs_sync)) {
      if (auto synced = log_.sync(); !synced) {
        failure = refusal(synced.error());
        spdlog::warn("group commit not synced: {}", failure->detail);
        failed_sync_epoch_ = jobs.back().epoch;
        poisoned_.store(true);
      }
    }
    // After a failed sync, every job decided before the sequencer drained
    // (in this round or a later one, written or not: one that wrote nothing
    // may have decided on one whose write is now unsure) fails with it.
    for (auto& job : jobs) {
      if (job.failure || failed_sync_epoch_ != job.epoch) continue;
      job.failure =
          failure ? *failure : Refusal{eventstore::errc::io_error, "an earlier group commit failed; try again"};
      for (auto& r : job.results) {
        if (r) r = make_error_code(eventstore::errc::io_error);
      }
    }
    const eventstore::Position head = log_.head();
    std::vector<Completer::Answers> answered;
    std::vector<Written> reports;
    for (auto& job : jobs) {
      answered.push_back(answers(job, job.results, job.failure, !job.skipped, head));
      reports.push_back(Written{std::move(job.touched), std::move(job.keys),
                                job.skipped || job.failure.has_value() || job.unwritten});
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
  Completer::Answers answers(Job& job, std::span<eventstore::result<eventstore::AppendResult>> results,
                             const std::optional<Refusal>& write_failure, bool written, eventstore::Position head) {
    Completer::Answers out;
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
        out.emplace_back(std::move(on_answer), answer(job.decided[*item.same_as], results, /*replayed=*/true));
      } else if (!item.events.empty()) {
        out.emplace_back(std::move(on_answer), answer(item, results, /*replayed=*/false));
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
  Outcome answer(Decided& item, std::span<eventstore::result<eventstore::AppendResult>> results, bool replayed) {
    const auto& written = results[item.result_index];
    if (!written) return refusal(written.error());
    if (written.value().replayed) return read_back(written.value());
    Accepted accepted{written.value(), item.shared ? item.events : std::move(item.events), replayed};
    accepted.positions.replayed = replayed;
    return accepted;
  }

  // What the log recorded under the key, as the first command's answer;
  // nullopt when the key is new.
  boost::outcome_v2::basic_result<std::optional<Accepted>, Refusal, boost::outcome_v2::policy::terminate>
  recorded_answer(const IdempotencyKey& key) {
    auto found = log_.find_idempotency_key(key.key);
    if (!found) return refusal(found.error());
    if (!found.value()) return std::optional<Accepted>();
    if (found.value()->fingerprint != key.fingerprint) return key_reused();
    auto first = read_back(found.value()->result);
    if (!first) return first.error();
    return std::optional<Accepted>(std::move(first).value());
  }

  // The events at the positions of an earlier append, as a replayed answer.
  Outcome read_back(eventstore::AppendResult positions) {
    positions.replayed = true;
    const std::uint64_t count = positions.last.value - positions.first.value + 1;
    auto recorded = log_.read_all(eventstore::Position{positions.first.value - 1}, count);
    if (!recorded) return refusal(recorded.error());
    if (recorded.value().size() != count) return refusal(make_error_code(eventstore::errc::corruption));
    Accepted accepted{positions, {}, true};
    accepted.events.reserve(count);
    for (const auto& e : recorded.value()) {
      auto event = codec::decode_event(e.type, e.schema, e.payload);
      if (!event) return refusal(make_error_code(eventstore::errc::corruption));
      accepted.events.push_back(d::StreamEvent{d::StreamId{e.stream}, std::move(*event)});
    }
    return accepted;
  }

  boost::outcome_v2::basic_result<void, Refusal, boost::outcome_v2::policy::terminate> check(
      const std::optional<Precondition>& precondition) {
    if (!precondition) return boost::outcome_v2::success();
    auto loaded = cache_.load(precondition->stream);
    if (!loaded) return refusal(loaded.error());
    if (loaded.value()->version.value != precondition->version) {
      return Refusal{errc::precondition_failed, "the resource is at version " +
                                                    std::to_string(loaded.value()->version.value) + ", not " +
                                                    std::to_string(precondition->version)};
    }
    return boost::outcome_v2::success();
  }

  using Decision = boost::outcome_v2::basic_result<d::Events, Refusal, boost::outcome_v2::policy::terminate>;

  // Loads aggregates for one decision. A failed load yields a missing state
  // and is remembered, so the decision that follows is discarded for it.
  class Loader {
   public:
    Loader(AggregateCache& cache, std::vector<Loaded*>& used) : cache_(cache), used_(used) {}

    template <class S>
    const S& get(const d::StreamId& stream) {
      static const S kMissing{};
      auto loaded = cache_.load(stream);
      if (!loaded) {
        error_ = loaded.error();
        return kMissing;
      }
      used_.push_back(loaded.value());
      return as<S>(*loaded.value());
    }

    Decision finish(d::Result<d::Events> decided) const {
      if (error_) return refusal(error_);
      if (!decided) return refusal(decided.error());
      return std::move(decided).value();
    }

   private:
    AggregateCache& cache_;
    std::vector<Loaded*>& used_;
    std::error_code error_;
  };

  // Loads each aggregate the command needs, then asks the domain.
  Decision decide(d::Command& command, d::Timestamp now) {
    used_.clear();
    Loader load(cache_, used_);
    const d::ContractState no_contract;
    const d::SessionState no_session;
    const d::CodeState no_code;
    const d::BatchState no_batch;
    return std::visit(
        [&](auto& c) -> Decision {
          using C = std::decay_t<decltype(c)>;
          if constexpr (requires { c.now; }) c.now = now;
          if constexpr (std::is_same_v<C, d::CreateContract>) {
            return load.finish(
                d::decide(c, load.template get<d::ContractState>(d::contract_stream(c.org, c.contract))));
          } else if constexpr (std::is_same_v<C, d::ConfigureContract>) {
            return load.finish(
                d::decide(c, load.template get<d::ContractState>(d::contract_stream(c.org, c.contract))));
          } else if constexpr (std::is_same_v<C, d::CreateSession>) {
            const auto& session = load.template get<d::SessionState>(d::session_stream(c.org, c.session));
            const auto& contract =
                c.contract ? load.template get<d::ContractState>(d::contract_stream(c.org, *c.contract)) : no_contract;
            return load.finish(d::decide(c, session, contract));
          } else if constexpr (std::is_same_v<C, d::ChangeCapacity>) {
            return load.finish(d::decide(c, load.template get<d::SessionState>(d::session_stream(c.org, c.session))));
          } else if constexpr (std::is_same_v<C, d::GenerateBatch>) {
            const auto& batch = load.template get<d::BatchState>(d::batch_stream(c.org, c.batch));
            const auto& contract = load.template get<d::ContractState>(d::contract_stream(c.org, c.contract));
            const auto& session =
                c.session ? load.template get<d::SessionState>(d::session_stream(c.org, *c.session)) : no_session;
            if (auto drawn = draw_codes(c); !drawn) return refusal(drawn.error());
            return load.finish(d::decide(c, batch, contract, session));
          } else if constexpr (std::is_same_v<C, d::AssignCode> || std::is_same_v<C, d::EditCode>) {
            const auto& code = load.template get<d::CodeState>(d::code_stream(c.code_key));
            const auto& batch =
                code.exists ? load.template get<d::BatchState>(d::batch_stream(code.org, code.batch)) : no_batch;
            return load.finish(d::decide(c, d::CodeContext{code, batch}));
          } else if constexpr (std::is_same_v<C, d::ArchiveCode> || std::is_same_v<C, d::DeleteCode>) {
            return load.finish(d::decide(c, load.template get<d::CodeState>(d::code_stream(c.code_key))));
          } else if constexpr (std::is_same_v<C, d::Invite>) {
            const auto& invitation = load.template get<d::InvitationState>(d::invitation_stream(c.invitation));
            const auto& session = load.template get<d::SessionState>(d::session_stream(c.org, c.session));
            const auto& code = c.code_key ? load.template get<d::CodeState>(d::code_stream(*c.code_key)) : no_code;
            const auto& batch =
                code.exists ? load.template get<d::BatchState>(d::batch_stream(code.org, code.batch)) : no_batch;
            return load.finish(d::decide(c, d::InviteContext{invitation, session, code, batch}));
          } else if constexpr (std::is_same_v<C, d::ResendInvitation> || std::is_same_v<C, d::CancelInvitation> ||
                               std::is_same_v<C, d::ExpireInvitation>) {
            return load.finish(d::decide(c, load.template get<d::InvitationState>(d::invitation_stream(c.invitation))));
          } else if constexpr (std::is_same_v<C, d::ClaimInvitation>) {
            return decide_claim(c, load);
          } else if constexpr (std::is_same_v<C, d::Redeem>) {
            return decide_redeem(c, load);
          } else if constexpr (std::is_same_v<C, d::CancelRegistration>) {
            const auto& registration =
                load.template get<d::RegistrationState>(d::registration_stream(c.org, c.registration));
            return load.finish(d::decide(c, d::CancelContext{registration, contract_of(registration, load)}));
          } else {
            static_assert(std::is_same_v<C, d::RevokeRegistration> || std::is_same_v<C, d::ChangeAccess>);
            return load.finish(
                d::decide(c, load.template get<d::RegistrationState>(d::registration_stream(c.org, c.registration))));
          }
        },
        command);
  }

  // The contract whose rules apply to a code: its batch's.
  const d::ContractState& contract_of_code(const d::CodeState& code, Loader& load) {
    static const d::ContractState kNone;
    if (!code.exists) return kNone;
    const auto& batch = load.get<d::BatchState>(d::batch_stream(code.org, code.batch));
    if (!batch.exists) return kNone;
    return load.get<d::ContractState>(d::contract_stream(code.org, batch.terms.contract));
  }

  // The contract whose reuse policy applies to a registration's code.
  const d::ContractState& contract_of(const d::RegistrationState& registration, Loader& load) {
    static const d::ContractState kNone;
    if (!registration.exists || !registration.terms.code) return kNone;
    return contract_of_code(load.get<d::CodeState>(d::code_stream(d::code_key_of(*registration.terms.code))), load);
  }

  Decision decide_claim(const d::ClaimInvitation& c, Loader& load) {
    static const d::CodeState kNoCode;
    static const d::BatchState kNoBatch;
    static const d::ContractState kNoContract;
    static const d::SessionState kNoSession;
    const auto& invitation = load.get<d::InvitationState>(d::invitation_stream(c.invitation));
    if (!invitation.exists) {
      return load.finish(d::decide(
          c, d::ClaimContext{invitation, kNoSession, kNoCode, kNoBatch, kNoContract, d::RegistrationState{}}));
    }
    const auto& terms = invitation.terms;
    const auto& session = load.get<d::SessionState>(d::session_stream(terms.org, terms.session));
    const auto& code = terms.code ? load.get<d::CodeState>(d::code_stream(d::code_key_of(*terms.code))) : kNoCode;
    const auto& batch = code.exists ? load.get<d::BatchState>(d::batch_stream(code.org, code.batch)) : kNoBatch;
    const auto& contract =
        terms.code ? contract_of_code(code, load)
                   : (session.terms.contract
                          ? load.get<d::ContractState>(d::contract_stream(terms.org, *session.terms.contract))
                          : kNoContract);
    const auto& registration = load.get<d::RegistrationState>(d::registration_stream(terms.org, c.registration));
    return load.finish(d::decide(c, d::ClaimContext{invitation, session, code, batch, contract, registration}));
  }

  Decision decide_redeem(const d::Redeem& c, Loader& load) {
    static const d::BatchState kNoBatch;
    static const d::SessionState kNoSession;
    const auto& code = load.get<d::CodeState>(d::code_stream(c.code_key));
    const bool ours = code.exists && code.org == c.org;
    const auto& batch = ours ? load.get<d::BatchState>(d::batch_stream(c.org, code.batch)) : kNoBatch;
    const auto& contract = ours ? contract_of_code(code, load) : contract_of_code(d::CodeState{}, load);
    const auto session_id = c.session ? c.session : batch.terms.session;
    const auto& session =
        (ours && session_id) ? load.get<d::SessionState>(d::session_stream(c.org, *session_id)) : kNoSession;
    const auto& registration = load.get<d::RegistrationState>(d::registration_stream(c.org, c.registration));
    return load.finish(d::decide(c, d::RedeemContext{code, batch, contract, session, registration}));
  }

  // Fresh code values for a batch: random, and new to the store and to the
  // decisions not yet written. The log's expected-version check (a code
  // stream must not exist) makes uniqueness hold even against other writers.
  eventstore::result<void> draw_codes(d::GenerateBatch& c) {
    const std::size_t wanted = c.participants.empty() ? c.quantity : c.participants.size();
    if (wanted > d::kMaxBatchQuantity || (!c.prefix.empty() && !d::valid_prefix(c.prefix))) {
      return eventstore::outcome::success();  // decide() rejects it with the reason
    }
    c.codes.clear();
    c.codes.reserve(wanted);
    used_.reserve(used_.size() + wanted);
    while (c.codes.size() < wanted) {
      std::vector<d::CodeValue> drawn;
      std::vector<d::StreamId> streams;
      drawn.reserve(wanted - c.codes.size());
      streams.reserve(wanted - c.codes.size());
      while (drawn.size() < wanted - c.codes.size()) {
        drawn.push_back(d::make_code(sources_.random_u64(), c.prefix));
        streams.push_back(d::code_stream(drawn.back().key));
      }
      // Also refuses a value drawn earlier in this batch: its stream is claimed.
      auto claimed = cache_.claim_fresh(streams);
      if (!claimed) return claimed.error();
      for (std::size_t i = 0; i < drawn.size(); ++i) {
        if (claimed.value()[i] == nullptr) continue;
        used_.push_back(claimed.value()[i]);
        c.codes.push_back(std::move(drawn[i]));
      }
    }
    return eventstore::outcome::success();
  }

  // The cache entry of an event's stream. A decision's events are mostly on
  // the streams it loaded or claimed (used_), in much the order it used them:
  // the next few of those are looked at, from `next`, before the cache.
  eventstore::result<Loaded*> recall(const d::StreamId& stream, std::size_t& next) {
    constexpr std::size_t kLookAhead = 8;
    for (std::size_t i = next; i < used_.size() && i < next + kLookAhead; ++i) {
      if (*used_[i]->stream == stream.str()) {
        next = i + 1;
        return used_[i];
      }
    }
    return cache_.load(stream);
  }

  // The events' JSON, in order. Encoding is pure and, for a big decision (a
  // million codes: half a second), split across two threads: the second
  // core has nothing else to do while the sequencer decides a batch that big.
  static std::vector<std::string> encode_payloads(const d::Events& events) {
    std::vector<std::string> payloads(events.size());
    auto encode = [&](std::size_t from, std::size_t to) {
      for (std::size_t i = from; i < to; ++i) payloads[i] = codec::encode_event(events[i].event);
    };
    constexpr std::size_t kEncodeInParallelFrom = 16'384;
    if (events.size() < kEncodeInParallelFrom) {
      encode(0, events.size());
      return payloads;
    }
    const std::size_t half = events.size() / 2;
    std::thread second([&] { encode(half, events.size()); });
    encode(0, half);
    second.join();
    return payloads;
  }

  // Turns decided events into one atomic append, each stream expected at the
  // version the decision saw, and folds them into the cache.
  eventstore::result<eventstore::AppendRequest> to_request(const d::Events& events, d::Timestamp now,
                                                           std::vector<Loaded*>& touched) {
    eventstore::AppendRequest request;
    request.recorded_at_micros = now.micros;
    request.writes.reserve(events.size());
    // Stable until the cache settles after the batch.
    std::vector<Loaded*> folded_into;
    folded_into.reserve(events.size());
    // One write per stream, found through its cache entry.
    std::vector<Loaded*> written;
    const auto forget_writes = [&] {
      for (Loaded* loaded : written) loaded->write_in_request.reset();
    };
    std::vector<std::string> payloads = encode_payloads(events);
    std::size_t next_used = 0;
    for (std::size_t i = 0; i < events.size(); ++i) {
      const auto& e = events[i];
      auto loaded = recall(e.stream, next_used);
      if (!loaded) {
        forget_writes();
        return loaded.error();
      }
      Loaded& entry = *loaded.value();
      folded_into.push_back(&entry);
      if (!entry.write_in_request) {
        entry.write_in_request = request.writes.size();
        written.push_back(&entry);
        request.writes.push_back(eventstore::StreamWrite{e.stream.str(), entry.version, {}});
        touched.push_back(&entry);
        ++entry.unwritten;  // until the cache settles the write
      }
      request.writes[*entry.write_in_request].events.push_back(eventstore::ProposedEvent{
          std::string(d::event_type(e.event)), d::kEventSchemaVersion, std::move(payloads[i])});
    }
    forget_writes();
    for (std::size_t i = 0; i < events.size(); ++i) {
      folded_into[i]->state = d::evolve(std::move(folded_into[i]->state), events[i].event);
      ++folded_into[i]->version.value;
    }
    return request;
  }

  eventstore::Log& log_;
  const Sources& sources_;
  AggregateCache cache_;  // the sequencer's thread's
  // The entries the decision under way loaded or claimed, in that order.
  std::vector<Loaded*> used_;
  // Declared before the threads, so destroyed after they stop.
  Completer completer_;

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

Pipeline::Pipeline(eventstore::Log& log, Sources sources, CacheOptions cache)
    : sources_(std::move(sources)), sequencer_(std::make_unique<Sequencer>(log, sources_, cache)) {}

Pipeline::~Pipeline() = default;

std::future<Outcome> Pipeline::submit(d::Command command, std::optional<Precondition> precondition,
                                      std::optional<IdempotencyKey> idempotency_key) {
  std::promise<Outcome> promise;
  auto future = promise.get_future();
  sequencer_->submit(
      std::move(command), std::move(precondition), std::move(idempotency_key),
      [promise = std::move(promise)](Outcome outcome) mutable { promise.set_value(std::move(outcome)); });
  return future;
}

void Pipeline::submit(d::Command command, std::optional<Precondition> precondition,
                      std::optional<IdempotencyKey> idempotency_key, AnswerCallback on_answer) {
  sequencer_->submit(std::move(command), std::move(precondition), std::move(idempotency_key), std::move(on_answer));
}

domain::Timestamp Pipeline::now() const { return sources_.now(); }

std::string Pipeline::new_id() {
  static constexpr std::string_view kSymbols = "0123456789abcdefghjkmnpqrstvwxyz";
  // Big-endian, in an alphabet in ASCII order: ids sort as their numbers do.
  const auto put = [](std::string& id, std::uint64_t bits, int symbols) {
    for (int i = symbols - 1; i >= 0; --i) id.push_back(kSymbols[(bits >> (5U * static_cast<unsigned>(i))) & 31U]);
  };
  const std::int64_t now = sources_.now().micros;
  std::int64_t last = last_id_micros_.load(std::memory_order_relaxed);
  std::int64_t micros = 0;
  do {
    micros = std::max(now, last + 1);
  } while (!last_id_micros_.compare_exchange_weak(last, micros, std::memory_order_relaxed));
  std::string id;
  id.reserve(26);
  put(id, static_cast<std::uint64_t>(micros), 11);  // 55 bits: until the year 3111
  put(id, sources_.random_u64(), 12);               // 60 random bits
  put(id, sources_.random_u64(), 3);                // and 15 more
  return id;
}

}  // namespace tessera::pipeline
