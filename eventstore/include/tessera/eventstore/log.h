// The event log: an append-only, hash-chained sequence of events in RocksDB,
// indexed by global position and by stream.
//
// Durability: append() and append_batch() return only after their write batch
// is synced to disk (WAL fsync). A crash at any instant loses no appended event
// and leaves no partial append. write_batch() and sync() split that in two, so
// that a writer can take the next batch in while the disk syncs the last.
//
// Threading: every method is safe to call from any thread. Appends are
// serialised; reads run concurrently with them and see a prefix of the log:
// its durable events, never one that is written and not yet synced.
#pragma once

#include <chrono>
#include <filesystem>
#include <functional>
#include <memory>
#include <span>
#include <string_view>

#include "tessera/eventstore/errc.h"
#include "tessera/eventstore/types.h"

namespace tessera::eventstore {

struct LogOptions {
  // Turning this off voids the durability promise; benchmarks of the disk's
  // fsync limit and tests that do not crash may want it.
  bool sync_writes = true;
  // Opens an existing log for reading only (the admin CLI's verify and dump),
  // as a RocksDB secondary instance: it may be opened while another process
  // (tesserad) holds the log open for writing, and after that process was
  // killed (the unsynced tail of its WAL is recovered in memory, nothing is
  // written). It sees the log as it stood when opened and does not follow
  // later appends. A missing log is errc::io_error, not created. Appends and
  // put_meta answer errc::io_error.
  bool read_only = false;
};

// Counters of the log's writes since open, for benchmarks and metrics.
struct LogStats {
  // WAL fsyncs asked for: each append_batch call that had events to write,
  // each sync() that had written batches to make durable, each put_meta.
  std::uint64_t synced_writes = 0;
  // Wall time spent inside those fsyncs (for append_batch and put_meta, in
  // the synced write). Over synced_writes, the disk's sync latency as the
  // log meets it: what paces group commit.
  std::chrono::nanoseconds sync_time{0};
  // append_batch and write_batch calls that had events to write (group
  // commits), whether RocksDB then took the write or failed it.
  std::uint64_t batches_written = 0;
};

struct VerifyReport {
  Position checked;                // events verified
  std::optional<Position> broken;  // first position whose hash does not match
};

class Log {
 public:
  // Opens (creating if needed, unless options.read_only) the log in `dir`.
  static result<std::unique_ptr<Log>> open(const std::filesystem::path& dir, LogOptions options = {});
  virtual ~Log() = default;

  // One atomic append: version conflict if any write's stream is not at its
  // expected version; nothing is written then.
  virtual result<AppendResult> append(const AppendRequest& request) = 0;

  // Group commit: every request whose versions check out (requests are checked
  // in order, each seeing the ones before it) is written in one synced batch.
  // The answer has one entry per request, in order.
  // A request with an idempotency key already recorded (before the call, or
  // by an earlier request of the same call) is not appended: its answer is
  // the recorded positions with `replayed` set, or errc::idempotency_key_reused
  // when its fingerprint differs from the recorded one. A new key is written
  // in the same synced batch as its request's events; a refused request
  // records nothing.
  virtual std::vector<result<AppendResult>> append_batch(std::span<const AppendRequest> requests) = 0;

  // Group commit in two steps. write_batch() checks and takes a batch as
  // append_batch() does, with the same answers, but returns before the write
  // is durable: until a sync() covers it, its events, head and keys are seen
  // by later writes (version checks, recorded keys) and by stream_version(),
  // and by nothing else (head(), the reads, find_idempotency_key), and a
  // crash of the machine may lose it, whole, with every batch written after
  // it. sync() makes every batch written before the call durable, then moves
  // head() past them and wakes wait_beyond(); it answers the new head.
  //
  // A failed write_batch() or sync() leaves the log unable to tell which
  // written batches the disk has: every later write_batch(), append_batch(),
  // sync() and stream_version() then fails with errc::io_error (the reads
  // still serve what is durable); reopen the log (what a restart does).
  //
  // The defaults suit a log whose every write is durable when it returns:
  // write_batch() is append_batch(), sync() answers head().
  virtual std::vector<result<AppendResult>> write_batch(std::span<const AppendRequest> requests) {
    return append_batch(requests);
  }
  virtual result<Position> sync() { return head(); }

  // Up to `max` events after `after`, in position order.
  virtual result<std::vector<RecordedEvent>> read_all(Position after, std::size_t max) const = 0;

  // Up to `max` events of `stream` with versions after `after`, in order.
  // An unknown stream reads as empty.
  virtual result<std::vector<RecordedEvent>> read_stream(std::string_view stream, StreamVersion after,
                                                         std::size_t max) const = 0;

  // The stream's current version, counting batches written and not yet
  // synced (the version the next write is checked against);
  // StreamVersion{0} when it does not exist.
  virtual result<StreamVersion> stream_version(std::string_view stream) const = 0;

  // stream_version() of many streams, in order; the first failure fails the
  // call. A log may read them concurrently (the RocksDB log reads a long
  // list on two threads).
  virtual result<std::vector<StreamVersion>> stream_versions(std::span<const std::string_view> streams) const {
    std::vector<StreamVersion> out;
    out.reserve(streams.size());
    for (const auto stream : streams) {
      auto version = stream_version(stream);
      if (!version) return version.error();
      out.push_back(version.value());
    }
    return out;
  }

  // What an append recorded under `key` (its positions, replayed = true, and
  // its fingerprint); nullopt when the key is unknown. Like the reads, it
  // sees a prefix of the log: a key whose append is not yet durable reads as
  // unknown.
  virtual result<std::optional<IdempotencyRecord>> find_idempotency_key(std::string_view key) const = 0;

  // The position of the latest durable event.
  virtual Position head() const = 0;

  // Blocks until head() > `position` or `timeout` passes; returns head().
  virtual Position wait_beyond(Position position, std::chrono::milliseconds timeout) const = 0;

  // Counters since open; cheap, callable from any thread at any time. A log
  // that keeps no counters (a test double) reports zeros.
  virtual LogStats stats() const { return {}; }

  // Walks the whole log recomputing the hash chain.
  virtual result<VerifyReport> verify() const = 0;

  // A small key-value space beside the log for bookkeeping that survives
  // restarts (the Kafka relay's checkpoints, answers kept under idempotency
  // keys). A miss reads as nullopt. A synced put is durable when it returns
  // (one fsync); an unsynced one reaches the disk with the next synced write
  // (every group commit is one) and may be lost to a crash before that: for
  // what can be rebuilt, and a caller that must not wait for a disk.
  enum class MetaWrite { synced, unsynced };
  virtual result<std::optional<std::string>> get_meta(std::string_view key) const = 0;
  virtual result<void> put_meta(std::string_view key, std::string_view value, MetaWrite write) = 0;

  // Snapshots: for each stream, at most one, the latest put. They are a cache
  // beside the log that spares folding a long stream from its first event;
  // the log stays the truth. Put them only for versions already durable:
  // their write is not synced, so a crash may lose one (a longer fold next
  // time) but, being written after the events it covers, never keeps one
  // that covers events the crash lost. A stream's snapshot outlives nothing
  // of the stream (streams are never deleted). A miss reads as nullopt.
  virtual result<void> put_snapshots(std::span<const Snapshot> snapshots) = 0;
  virtual result<std::optional<Snapshot>> get_snapshot(std::string_view stream) const = 0;
};

}  // namespace tessera::eventstore
