// The event log: an append-only, hash-chained sequence of events in RocksDB,
// indexed by global position and by stream.
//
// Durability: append() and append_batch() return only after their write batch
// is synced to disk (WAL fsync). A crash at any instant loses no appended event
// and leaves no partial append.
//
// Threading: every method is safe to call from any thread. Appends are
// serialised; reads run concurrently with them and see a prefix of the log.
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
  // RocksDB writes made with sync = true (each append_batch call that had
  // events to write, and each put_meta): the WAL fsyncs asked for.
  std::uint64_t synced_writes = 0;
  // append_batch calls that had events to write (group commits), whether
  // RocksDB then took the write or failed it.
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

  // Up to `max` events after `after`, in position order.
  virtual result<std::vector<RecordedEvent>> read_all(Position after, std::size_t max) const = 0;

  // Up to `max` events of `stream` with versions after `after`, in order.
  // An unknown stream reads as empty.
  virtual result<std::vector<RecordedEvent>> read_stream(std::string_view stream, StreamVersion after,
                                                         std::size_t max) const = 0;

  // The stream's current version; StreamVersion{0} when it does not exist.
  virtual result<StreamVersion> stream_version(std::string_view stream) const = 0;

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

  // A small durable key-value space beside the log for bookkeeping that must
  // survive restarts (the Kafka relay's checkpoints). A miss reads as nullopt.
  virtual result<std::optional<std::string>> get_meta(std::string_view key) const = 0;
  virtual result<void> put_meta(std::string_view key, std::string_view value) = 0;

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
