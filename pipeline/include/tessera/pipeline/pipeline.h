// The command pipeline: the single sequencer between callers and the log.
//
// Callers submit commands from any thread. One sequencer thread takes every
// command waiting, decides each in order against the aggregates' in-memory
// state (so later commands see the effect of earlier ones), writes the batch
// into the log (not yet durable) and hands it to a syncer thread, which makes
// every batch written so far durable with one WAL fsync: group commit, while
// the next batches are decided and written. A caller's answer comes only
// after the write its command's decision rests on is durable, or with the
// reason its command was refused.
//
// Lifetime: the pipeline borrows the log, which must outlive it. The
// destructor stops the sequencer after the commands already taken.
#pragma once

#include <atomic>
#include <cstdint>
#include <functional>
#include <future>
#include <limits>
#include <map>
#include <memory>
#include <mutex>
#include <string>
#include <system_error>
#include <vector>

#include "tessera/domain/decide.h"
#include "tessera/eventstore/log.h"
#include "tessera/pipeline/errc.h"
#include "tessera/pipeline/stored_answers.h"

namespace tessera::pipeline {

// An accepted command: what it appended, and where. A replayed one (its
// idempotency key was already recorded) appended nothing now: its positions
// and events are those of the first command with the key, read back from the
// log, and `replayed` is set.
struct Accepted {
  eventstore::AppendResult positions;
  domain::Events events;
  bool replayed = false;
};

// A refused command is an Error: its code is a domain::errc (the command is
// wrong for the state), a pipeline::errc, or an eventstore::errc (the log
// could not take it); its advice() says whether trying again can help.

// An HTTP If-Match: the command applies only if `stream` is at `version`.
struct Precondition {
  domain::StreamId stream;
  std::uint64_t version = 0;
};

// A caller's idempotency key, already scoped by the caller (the API prefixes
// the client's key with the organisation and the route), and a fingerprint of
// the request it came with (the API hashes method, path and body).
struct IdempotencyKey {
  std::string key;
  std::string fingerprint;
};

// Where fresh values come from; injected so tests can pin them.
struct Sources {
  std::function<domain::Timestamp()> now;
  std::function<std::uint64_t()> random_u64;  // a CSPRNG in production
};

// The production sources: the system clock and OpenSSL's CSPRNG.
Sources system_sources();

// The sequencer's cache of aggregate states. Memory stays flat however many
// codes the store holds: between batches at most `capacity` aggregates are
// kept (a batch may load more, and they are trimmed after it). A long stream
// (a busy session) gets a snapshot beside the log every `snapshot_every`
// events, so loading it again, after an eviction or a restart, folds only the
// events after its snapshot.
struct CacheOptions {
  std::size_t capacity = 200'000;
  std::uint64_t snapshot_every = 256;  // at least 1
};

class Pipeline {
 public:
  Pipeline(eventstore::Log& log, Sources sources, CacheOptions cache = {});
  ~Pipeline();
  Pipeline(const Pipeline&) = delete;
  Pipeline& operator=(const Pipeline&) = delete;

  // Queues a command. Ids in the command are the caller's; a GenerateBatch's
  // code values are drawn here, unique across the store.
  // With a precondition, the command is refused with
  // errc::precondition_failed unless the stream is at that version when the
  // command is decided.
  // With an idempotency key, the command applies at most once, across
  // restarts: if the key is already recorded (in the log, or by an earlier
  // command of the same group commit), nothing is decided and the answer is
  // the first command's Accepted, marked replayed; if it was recorded with
  // another fingerprint, the command is refused with
  // errc::idempotency_key_reused. Otherwise the command is decided as usual
  // and, if it appends events, the key is recorded in the same write. A
  // refused command, or one that changes nothing, records no key: a retry is
  // decided again.
  std::future<result<Accepted>> submit(domain::Command command, std::optional<Precondition> precondition = std::nullopt,
                                       std::optional<IdempotencyKey> idempotency_key = std::nullopt);

  // As above, but the answer comes as a call of `on_answer`, once, on the
  // pipeline's completion thread, at the moment the future would be ready.
  // For callers that must not hold a thread per command (an asynchronous
  // server, a load generator). `on_answer` must not block: the answers behind
  // it wait. It may submit again, but not once the pipeline's destruction
  // has begun: the destructor still delivers the answers owed, and a command
  // submitted from one of them would find no sequencer.
  using AnswerCallback = std::move_only_function<void(result<Accepted>)>;
  void submit(domain::Command command, std::optional<Precondition> precondition,
              std::optional<IdempotencyKey> idempotency_key, AnswerCallback on_answer);

  // Issues the chunks still to come of a batch generated in chunks (see
  // domain::kLargestBatchAtOnce), each an IssueBatchChunk command of its own,
  // queued behind the commands already waiting; the next one is submitted
  // when the one before is answered, until one issues nothing (the batch is
  // ready) or is refused (logged; calling this again resumes it). A
  // GenerateBatch accepted through submit() starts its chunks by itself: call
  // this to resume a batch whose chunks stopped (a restart, a failed write).
  // Does nothing while that batch's chunks are being issued, or once the
  // destructor has begun. Thread-safe; returns at once.
  void continue_batch(domain::OrgId org, domain::BatchId batch);

  // A fresh id for callers that create resources: 26 lowercase Crockford
  // base32 symbols, 55 bits of the clock's microseconds then 75 random bits
  // (the layout of a ULID, finer). The time part is made strictly increasing
  // within the process, so an id sorts after every id made before it here
  // (across restarts, as far as the clock moves forward), and a new stream's
  // index entry lands next to the last one's rather than at a random place
  // in the index: appends of new aggregates measured ~15% faster than with
  // wholly random ids, for the reason UUIDv7 keys help a B-tree. Ids are not
  // secrets (a claim token is an HMAC of its invitation's id), so the
  // creation time they show gives nothing away. Thread-safe.
  std::string new_id();

  // The clock the pipeline stamps commands with.
  domain::Timestamp now() const;

  // The answer the log recorded under an idempotency key, as submit() would
  // give it to a retry (marked replayed), without deciding anything; nullopt
  // when the key is new; errc::idempotency_key_reused when it was recorded
  // with another fingerprint. Thread-safe.
  result<std::optional<Accepted>> recorded(const IdempotencyKey& key) const;

  // The events an accepted command appended (or, replayed, the first
  // command's), as the log recorded them: positions, versions, times. Empty
  // for a command that appended nothing. Thread-safe.
  result<std::vector<eventstore::RecordedEvent>> recorded_events(const Accepted& accepted) const;

  // Up to `count` events of `stream` with versions after `after`, as the log
  // recorded them (durable or about to be: written by an accepted command's
  // group commit). Thread-safe.
  result<std::vector<eventstore::RecordedEvent>> stream_events(std::string_view stream, eventstore::StreamVersion after,
                                                               std::size_t count) const {
    return log_.read_stream(stream, after, count);
  }

  // The position of the latest durable event in the log, and what the log
  // counts of its writes (for /v1/status and /metrics). Thread-safe.
  eventstore::Position head() const { return log_.head(); }
  eventstore::LogStats log_stats() const { return log_.stats(); }

  // The answers kept under idempotency keys for callers that cannot rebuild
  // them from the events (see stored_answers.h). Thread-safe.
  StoredAnswers& answers() { return answers_; }

 private:
  class Sequencer;
  // A GenerateBatch's answer that first starts the batch's chunks, if any.
  AnswerCallback starting_chunks(AnswerCallback on_answer);
  void issue_chunk(const domain::OrgId& org, const domain::BatchId& batch);

  const eventstore::Log& log_;
  StoredAnswers answers_;
  Sources sources_;
  std::atomic<std::int64_t> last_id_micros_{std::numeric_limits<std::int64_t>::min()};
  std::unique_ptr<Sequencer> sequencer_;
  // The batch streams whose chunks are being issued, with the number of
  // their chunks submitted and not yet answered, and whether the destructor
  // has begun (then no chunk is submitted any more).
  std::mutex chunks_mutex_;
  std::map<std::string, int> chunks_in_flight_;
  bool stopping_ = false;
};

}  // namespace tessera::pipeline
