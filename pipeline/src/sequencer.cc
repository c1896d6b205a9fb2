#include "sequencer.h"

#include <spdlog/spdlog.h>

#include <algorithm>
#include <chrono>
#include <thread>

#include "code_drawing.h"
#include "recorded.h"
#include "state_loader.h"
#include "tessera/codec/json.h"
#include "tessera/domain/decider.h"
#include "tessera/domain/streams.h"

namespace tessera::pipeline {

using detail::Loaded;
namespace d = domain;

namespace {

// Commands taken into one group commit at most; bounds one write batch's size
// and the latency of the commands behind it.
constexpr std::size_t kMaxCommandsPerBatch = 4096;

// A batch's chunk holds the commands that come during its decision and its
// write for its codes' time: while other commands keep coming (some were
// decided within kOthersRecently) it is this small (measured with
// tools/bench-http --mix, 64 clients redeeming beside a million-code batch:
// p99 172 ms with chunks of 5,000, 66 ms with 1,000), and with nothing else
// to do it is the domain's largest (generate, a million codes: 5.5 s to
// ready, 7.5 s in chunks of 1,000, each write's keys sparser in the
// memtable).
constexpr std::uint32_t kCodesPerChunkBesideOthers = 1'000;
constexpr std::chrono::seconds kOthersRecently{1};

// The events' JSON, in order. Encoding is pure and, for a big decision (a
// million codes: half a second), split across two threads: the second core
// has nothing else to do while the sequencer decides a batch that big.
std::vector<std::string> encode_payloads(const d::Events& events) {
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

}  // namespace

Pipeline::Sequencer::Sequencer(eventstore::Log& log, const Sources& sources, CacheOptions cache)
    : log_(log), sources_(sources), cache_(log, cache) {
  syncer_thread_ = std::thread([this] { sync_loop(); });
  thread_ = std::thread([this] { run(); });
}

Pipeline::Sequencer::~Sequencer() {
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

void Pipeline::Sequencer::submit(d::Command command, std::optional<Precondition> precondition,
                                 std::optional<IdempotencyKey> key, AnswerCallback on_answer) {
  {
    std::lock_guard lock(mutex_);
    queue_.push_back(Pending{std::move(command), std::move(precondition), std::move(key), std::move(on_answer)});
  }
  wake_.notify_one();
}

void Pipeline::Sequencer::run() {
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
void Pipeline::Sequencer::take_back(std::vector<Written> written) {
  bool failed = false;
  for (auto& w : written) failed = apply(w) || failed;
  if (failed) drain();
}

// Returns whether the job invalidated what the cache held.
bool Pipeline::Sequencer::apply(Written& w) {
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

// Waits until every job handed to the syncer has come back, and applies the
// reports, then drops what a failure invalidated. Then nothing the cache
// holds rests on a failed write, and writing may resume.
void Pipeline::Sequencer::drain() {
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

void Pipeline::Sequencer::decide_batch(std::vector<Pending>& batch) {
  Job job;
  job.after_unwritten = jobs_in_flight_ > 0;
  job.epoch = epoch_;
  auto& decided = job.decided;
  decided.reserve(batch.size());
  const d::Timestamp now = sources_.now();
  bool writes_before = false;  // whether this decision may rest on unwritten ones
  claim_own_streams(batch);
  const auto taken_at = std::chrono::steady_clock::now();
  if (!std::ranges::all_of(batch,
                           [](const Pending& p) { return std::holds_alternative<d::IssueBatchChunk>(p.command); })) {
    others_seen_at_ = taken_at;
  }
  chunk_size_ = taken_at - others_seen_at_ < kOthersRecently ? kCodesPerChunkBesideOthers : d::kCodesPerChunk;
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
          item.refusal = detail::key_reused();
        } else {
          item.same_as = it->second.first;
          decided[it->second.first].shared = true;
        }
        decided.push_back(std::move(item));
        continue;
      }
      if (auto first = detail::recorded_answer(log_, *key); !first) {
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
        item.refusal = request.error();
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

// Claims, in the cache, the stream each command is about, all with one
// lookup of the log (Log::stream_versions): the new ones, what most commands
// make, are then held as empty and their loads read nothing. The log probes
// a batch's keys together, so their cache misses overlap: the sequencer
// spent ~0.6 us a command less than on a lookup each in the append bench. A
// failed lookup claims nothing; the loads then read, and report, as before.
void Pipeline::Sequencer::claim_own_streams(const std::vector<Pending>& batch) {
  std::vector<d::StreamId> streams;
  streams.reserve(batch.size());
  for (const auto& pending : batch) streams.push_back(d::own_stream(pending.command));
  (void)cache_.claim_fresh(streams);
}

// Writes the job's requests with one write_batch(), not yet synced.
void Pipeline::Sequencer::write(Job& job) {
  job.skipped = poisoned_.load();
  if (job.skipped) {
    job.failure = Error{eventstore::errc::io_error, "an earlier group commit failed; try again"};
    return;
  }
  if (job.requests.empty()) return;
  job.results = log_.write_batch(job.requests);
  for (const auto& r : job.results) {
    if (!r && !job.failure) job.failure = detail::from_log(r.error());
    if (r && r.value().replayed) job.unwritten = true;
    if (r && !r.value().replayed) job.needs_sync = true;
  }
  if (job.failure) spdlog::warn("group commit refused: {}", job.failure->message());
  if (job.failure || job.unwritten) poisoned_.store(true);
}

result<void> Pipeline::Sequencer::check(const std::optional<Precondition>& precondition) {
  if (!precondition) return outcome::success();
  auto loaded = cache_.load(precondition->stream);
  if (!loaded) return loaded.error();
  if (loaded.value()->version.value != precondition->version) {
    return Error{errc::precondition_failed, "the resource is at version " +
                                                std::to_string(loaded.value()->version.value) + ", not " +
                                                std::to_string(precondition->version)};
  }
  return outcome::success();
}

// Stamps the command, draws a batch's codes, and asks the domain, which
// loads what it needs through the cache.
result<d::Events> Pipeline::Sequencer::decide(d::Command& command, d::Timestamp now) {
  used_.clear();
  std::visit(
      [&](auto& c) {
        if constexpr (requires { c.now; }) c.now = now;
      },
      command);
  detail::StateLoader loader(cache_, used_);
  if (auto* batch = std::get_if<d::GenerateBatch>(&command)) {
    auto drawn =
        detail::draw_codes(d::codes_to_draw(*batch), batch->prefix, batch->codes, cache_, sources_.random_u64, used_);
    if (!drawn) return drawn.error();
  } else if (auto* chunk = std::get_if<d::IssueBatchChunk>(&command)) {
    chunk->size = chunk_size_;
    auto loaded = cache_.load(d::batch_stream(chunk->org, chunk->batch));
    if (!loaded) return loaded.error();
    const auto& state = d::as<d::BatchState>(loaded.value()->state);
    const std::string prefix = state.terms.prefix;
    auto drawn =
        detail::draw_codes(d::codes_to_draw(*chunk, state), prefix, chunk->codes, cache_, sources_.random_u64, used_);
    if (!drawn) return drawn.error();
  }
  return loader.finish(d::decide(command, loader));
}

// The cache entry of an event's stream. A decision's events are mostly on
// the streams it loaded or claimed (used_), in much the order it used them:
// the next few of those are looked at, from `next`, before the cache.
result<Loaded*> Pipeline::Sequencer::recall(const d::StreamId& stream, std::size_t& next) {
  constexpr std::size_t kLookAhead = 8;
  for (std::size_t i = next; i < used_.size() && i < next + kLookAhead; ++i) {
    if (*used_[i]->stream == stream.str()) {
      next = i + 1;
      return used_[i];
    }
  }
  return cache_.load(stream);
}

// Turns decided events into one atomic append, each stream expected at the
// version the decision saw, and folds them into the cache.
result<eventstore::AppendRequest> Pipeline::Sequencer::to_request(const d::Events& events, d::Timestamp now,
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
    request.writes[*entry.write_in_request].events.push_back(
        eventstore::ProposedEvent{std::string(d::event_type(e.event)), d::kEventSchemaVersion, std::move(payloads[i])});
  }
  forget_writes();
  for (std::size_t i = 0; i < events.size(); ++i) {
    folded_into[i]->state = d::evolve(std::move(folded_into[i]->state), events[i].event);
    ++folded_into[i]->version.value;
  }
  return request;
}

}  // namespace tessera::pipeline
