// Internal: the RocksDB implementation of Log (log.h has the contract). The
// class is split over two files by job: rocks_log_write.cc holds the write
// path (checking a group commit's versions and keys, building its batch),
// rocks_log.cc opening, recovery and the reads.
#pragma once

#include <rocksdb/db.h>
#include <rocksdb/env.h>
#include <rocksdb/filter_policy.h>
#include <rocksdb/table.h>
#include <rocksdb/write_batch.h>

#include <algorithm>
#include <atomic>
#include <condition_variable>
#include <cstdarg>
#include <limits>
#include <mutex>
#include <thread>
#include <unordered_map>

#include "key_order.h"
#include "record.h"
#include "tessera/eventstore/log.h"
#include "zero_filled_wal.h"

namespace tessera::eventstore::detail {

// Column families: the log by position, the stream index, each stream's
// current version, bookkeeping, the idempotency keys of appends, and the
// latest snapshot of each stream that has one.
constexpr const char* kEvents = "events";
constexpr const char* kStreams = "streams";
constexpr const char* kHeads = "heads";
constexpr const char* kMeta = "meta";
constexpr const char* kIdempotency = "idempotency";
constexpr const char* kSnapshots = "snapshots";

inline std::error_code from_status(const rocksdb::Status& s) {
  if (s.IsCorruption()) return errc::corruption;
  return errc::io_error;
}

// A stream named by an append batch: its version after the requests
// accepted so far, and whether one of them writes it.
struct BatchStream {
  StreamVersion version;
  bool written = false;
  // The last request that named it (its index in the batch): a request may
  // name a stream once.
  std::size_t named_by = std::numeric_limits<std::size_t>::max();
};
// Keyed by views of the requests' stream names, which outlive the batch.
using BatchStreams = std::unordered_map<std::string_view, BatchStream>;

class RocksLog final : public Log {
 public:
  RocksLog(std::unique_ptr<rocksdb::Env> env, std::unique_ptr<rocksdb::DB> db,
           std::vector<rocksdb::ColumnFamilyHandle*> handles, LogOptions options)
      : env_(std::move(env)), db_(std::move(db)), handles_(std::move(handles)), options_(options) {
    events_ = handles_[1];
    streams_ = handles_[2];
    heads_ = handles_[3];
    meta_ = handles_[4];
    idempotency_ = handles_[5];
    snapshots_ = handles_[6];
  }

  ~RocksLog() override {
    for (auto* h : handles_) db_->DestroyColumnFamilyHandle(h);
  }

  result<void> recover() {
    std::unique_ptr<rocksdb::Iterator> it(db_->NewIterator(rocksdb::ReadOptions(), events_));
    it->SeekToLast();
    if (!it->status().ok()) return from_status(it->status());
    if (it->Valid()) {
      const Position last{decode_u64(it->key().ToStringView())};
      const auto event = decode_record(last, it->value().ToStringView());
      if (!event) return errc::corruption;
      head_ = last;
      written_head_ = last;
      written_position_.store(last.value);
      last_hash_ = event->hash;
    }
    return outcome::success();
  }

  result<AppendResult> append(const AppendRequest& request) override {
    auto results = append_batch(std::span(&request, 1));
    return std::move(results.front());
  }

  std::vector<result<AppendResult>> append_batch(std::span<const AppendRequest> requests) override {
    return write(requests, /*durable=*/true);
  }

  std::vector<result<AppendResult>> write_batch(std::span<const AppendRequest> requests) override {
    return write(requests, /*durable=*/false);
  }

  result<Position> sync() override {
    std::lock_guard lock(sync_mutex_);
    if (failed_.load()) return errc::io_error;
    // Every batch written up to here is in the operating system's hands (the
    // WAL is not flushed manually), so one WAL fsync makes them durable.
    // Batches written while it runs wait for the next sync().
    const Position written{written_position_.load()};
    if (written <= head()) return head();
    if (options_.sync_writes) {
      if (const auto status = counted(true, [&] { return db_->SyncWAL(); }); !status.ok()) {
        failed_.store(true);
        return from_status(status);
      }
    }
    publish(written);
    return written;
  }

  result<std::vector<RecordedEvent>> read_all(Position after, std::size_t max) const override {
    std::vector<RecordedEvent> out;
    const Position last = head();
    if (after >= last || max == 0) return out;
    std::unique_ptr<rocksdb::Iterator> it(db_->NewIterator(rocksdb::ReadOptions(), events_));
    for (it->Seek(encode_u64(after.value + 1)); it->Valid() && out.size() < max; it->Next()) {
      const Position position{decode_u64(it->key().ToStringView())};
      if (position > last) break;
      auto event = decode_record(position, it->value().ToStringView());
      if (!event) return errc::corruption;
      out.push_back(std::move(*event));
    }
    if (!it->status().ok()) return from_status(it->status());
    return out;
  }

  result<std::vector<RecordedEvent>> read_stream(std::string_view stream, StreamVersion after,
                                                 std::size_t max) const override {
    std::vector<RecordedEvent> out;
    std::string prefix(stream);
    prefix.push_back('\0');
    std::unique_ptr<rocksdb::Iterator> it(db_->NewIterator(rocksdb::ReadOptions(), streams_));
    const Position last = head();
    for (it->Seek(detail::stream_key(stream, StreamVersion{after.value + 1})); it->Valid() && out.size() < max;
         it->Next()) {
      if (!it->key().starts_with(prefix)) break;
      const Position position{decode_u64(it->value().ToStringView())};
      if (position > last) break;
      std::string value;
      const auto s = db_->Get(rocksdb::ReadOptions(), events_, encode_u64(position.value), &value);
      if (!s.ok()) return s.IsNotFound() ? std::error_code(errc::corruption) : from_status(s);
      auto event = decode_record(position, value);
      if (!event) return errc::corruption;
      out.push_back(std::move(*event));
    }
    if (!it->status().ok()) return from_status(it->status());
    return out;
  }

  result<StreamVersion> stream_version(std::string_view stream) const override {
    if (failed_.load()) return errc::io_error;
    // A stream without a first event has none (the one lookup for a fresh
    // stream, what most lookups are for); one with a first event and no
    // head has only that one (a head comes with the second: see write()).
    std::string value;
    const auto first = db_->Get(rocksdb::ReadOptions(), streams_, detail::stream_key(stream, StreamVersion{1}), &value);
    if (first.IsNotFound()) return StreamVersion{0};
    if (!first.ok()) return from_status(first);
    const auto head = db_->Get(rocksdb::ReadOptions(), heads_, stream, &value);
    if (head.IsNotFound()) return StreamVersion{1};
    if (!head.ok()) return from_status(head);
    return StreamVersion{decode_u64(value)};
  }

  result<std::vector<StreamVersion>> stream_versions(std::span<const std::string_view> streams) const override {
    // A lookup is mostly a walk through filters and a memtable, a fraction
    // of a microsecond: a thread is worth starting only for many of them
    // (a batch of codes), and then the second half is read beside the first
    // (one MultiGet per a few thousand of a million random codes measured
    // slower than a Get each on two threads).
    constexpr std::size_t kReadInParallelFrom = 16'384;
    if (streams.size() < kReadInParallelFrom) return multi_get_versions(streams);
    std::vector<StreamVersion> out(streams.size());
    auto read = [&](std::size_t from, std::size_t to) -> Error {
      for (std::size_t i = from; i < to; ++i) {
        auto version = stream_version(streams[i]);
        if (!version) return version.error();
        out[i] = version.value();
      }
      return {};
    };
    const std::size_t half = streams.size() / 2;
    Error second_failed;
    std::thread second([&] { second_failed = read(half, streams.size()); });
    Error first_failed = read(0, half);
    second.join();
    if (first_failed.code) return first_failed;
    if (second_failed.code) return second_failed;
    return out;
  }

  result<std::optional<IdempotencyRecord>> find_idempotency_key(std::string_view key) const override {
    auto found = read_key(key);
    if (!found) return found.error();
    // The batch that records a key is in RocksDB a moment before head()
    // moves past its events: until then the key reads as unknown.
    if (found.value() && found.value()->result.last > head()) return std::optional<IdempotencyRecord>();
    return found;
  }

  Position head() const override {
    std::lock_guard lock(head_mutex_);
    return head_;
  }

  Position wait_beyond(Position position, std::chrono::milliseconds timeout) const override {
    std::unique_lock lock(head_mutex_);
    head_changed_.wait_for(lock, timeout, [&] { return head_ > position; });
    return head_;
  }

  result<VerifyReport> verify() const override {
    VerifyReport report;
    Hash previous{};
    std::unique_ptr<rocksdb::Iterator> it(db_->NewIterator(rocksdb::ReadOptions(), events_));
    std::uint64_t expected = 1;
    for (it->SeekToFirst(); it->Valid(); it->Next(), ++expected) {
      const Position position{decode_u64(it->key().ToStringView())};
      const auto event = decode_record(position, it->value().ToStringView());
      if (position.value != expected || !event || detail::chain_hash(previous, *event) != event->hash) {
        report.broken = Position{expected};
        return report;
      }
      previous = event->hash;
      report.checked = position;
    }
    if (!it->status().ok()) return from_status(it->status());
    return report;
  }

  result<std::optional<std::string>> get_meta(std::string_view key) const override {
    std::string value;
    const auto s = db_->Get(rocksdb::ReadOptions(), meta_, key, &value);
    if (s.IsNotFound()) return std::optional<std::string>();
    if (!s.ok()) return from_status(s);
    return std::optional<std::string>(std::move(value));
  }

  result<void> put_meta(std::string_view key, std::string_view value, MetaWrite write) override {
    rocksdb::WriteOptions wo;
    wo.sync = options_.sync_writes && write == MetaWrite::synced;
    const auto s = counted(wo.sync, [&] { return db_->Put(wo, meta_, key, value); });
    if (!s.ok()) return from_status(s);
    return outcome::success();
  }

  result<void> put_snapshots(std::span<const Snapshot> snapshots) override {
    rocksdb::WriteBatch batch;
    for (const auto& snapshot : snapshots) {
      if (snapshot.stream.empty() || snapshot.version.value == 0) return errc::invalid_argument;
      batch.Put(snapshots_, snapshot.stream, detail::encode_snapshot(snapshot.version, snapshot.state));
    }
    // Unsynced on purpose: see the contract in log.h.
    const auto s = db_->Write(rocksdb::WriteOptions(), &batch);
    if (!s.ok()) return from_status(s);
    return outcome::success();
  }

  result<std::optional<Snapshot>> get_snapshot(std::string_view stream) const override {
    std::string value;
    const auto s = db_->Get(rocksdb::ReadOptions(), snapshots_, stream, &value);
    if (s.IsNotFound()) return std::optional<Snapshot>();
    if (!s.ok()) return from_status(s);
    auto snapshot = detail::decode_snapshot(stream, value);
    if (!snapshot) return errc::corruption;
    return std::optional<Snapshot>(std::move(*snapshot));
  }

  LogStats stats() const override {
    return LogStats{synced_writes_.load(std::memory_order_relaxed),
                    std::chrono::nanoseconds(sync_nanos_.load(std::memory_order_relaxed)),
                    batches_written_.load(std::memory_order_relaxed)};
  }

 private:
  // stream_versions() of a short list: the first entries looked up with one
  // MultiGet, then the heads of the streams that have one. RocksDB probes a
  // MultiGet's filters and memtables for all its keys together, so their
  // cache misses overlap instead of coming one after the other. The
  // pipeline claims a group commit's new streams so (see its
  // claim_first_streams): ~0.6 us a command less on the sequencer than a Get
  // each, in the append bench.
  result<std::vector<StreamVersion>> multi_get_versions(std::span<const std::string_view> streams) const {
    if (failed_.load()) return errc::io_error;
    const std::size_t n = streams.size();
    std::vector<StreamVersion> out(n);
    std::vector<std::string> keys(n);
    std::vector<rocksdb::Slice> slices(n);
    for (std::size_t i = 0; i < n; ++i) {
      keys[i] = detail::stream_key(streams[i], StreamVersion{1});
      slices[i] = keys[i];
    }
    std::vector<rocksdb::PinnableSlice> values(n);
    std::vector<rocksdb::Status> statuses(n);
    db_->MultiGet(rocksdb::ReadOptions(), streams_, n, slices.data(), values.data(), statuses.data());
    std::vector<std::size_t> begun;
    for (std::size_t i = 0; i < n; ++i) {
      if (statuses[i].IsNotFound()) continue;
      if (!statuses[i].ok()) return from_status(statuses[i]);
      begun.push_back(i);
    }
    if (begun.empty()) return out;
    std::vector<rocksdb::Slice> names;
    for (const std::size_t i : begun) names.emplace_back(streams[i]);
    std::vector<rocksdb::PinnableSlice> heads(begun.size());
    std::vector<rocksdb::Status> head_statuses(begun.size());
    db_->MultiGet(rocksdb::ReadOptions(), heads_, begun.size(), names.data(), heads.data(), head_statuses.data());
    for (std::size_t j = 0; j < begun.size(); ++j) {
      if (head_statuses[j].IsNotFound()) {
        out[begun[j]] = StreamVersion{1};
      } else if (!head_statuses[j].ok()) {
        return from_status(head_statuses[j]);
      } else {
        out[begun[j]] = StreamVersion{decode_u64(heads[j].ToStringView())};
      }
    }
    return out;
  }

  // One group commit: checked and written; synced and published too when
  // `durable`, else left for sync().
  std::vector<result<AppendResult>> write(std::span<const AppendRequest> requests, bool durable);

  // About what a WriteBatch of these requests holds: per event its record
  // (fixed fields, stream, type, payload, hash), its position key, and its
  // index entry (stream, version, position), with RocksDB's per-entry
  // framing.
  static std::size_t expected_batch_bytes(std::span<const AppendRequest> requests);

  void publish(Position durable) {
    {
      std::lock_guard lock(head_mutex_);
      head_ = std::max(head_, durable);
    }
    head_changed_.notify_all();
  }

  result<std::optional<IdempotencyRecord>> read_key(std::string_view key) const {
    if (key.empty()) return errc::invalid_argument;
    std::string value;
    const auto s = db_->Get(rocksdb::ReadOptions(), idempotency_, key, &value);
    if (s.IsNotFound()) return std::optional<IdempotencyRecord>();
    if (!s.ok()) return from_status(s);
    auto record = detail::decode_idempotency(value);
    if (!record) return errc::corruption;
    return std::optional<IdempotencyRecord>(std::move(*record));
  }

  // The key as recorded before this batch or by its earlier requests.
  // Called with write_mutex_ held, so no other batch is half written.
  result<std::optional<IdempotencyRecord>> recorded_key(
      const std::string& key, const std::unordered_map<std::string, IdempotencyRecord>& keys) const;

  // Each write's entry in `versions`, in order; the versions of the streams
  // not yet in it read from the log.
  result<void> resolve(std::span<const AppendRequest> requests, BatchStreams& versions,
                       std::vector<BatchStreams::value_type*>& entries) const;

  // Checks the request (number `index` of the batch) against the versions
  // its streams (`entries`, one per write) stand at.
  result<void> check_versions(const AppendRequest& request, std::size_t index,
                              std::span<BatchStreams::value_type* const> entries) const;

  std::unique_ptr<rocksdb::Env> env_;  // the DB's, when it has its own: outlives it
  std::unique_ptr<rocksdb::DB> db_;
  std::vector<rocksdb::ColumnFamilyHandle*> handles_;
  rocksdb::ColumnFamilyHandle* events_ = nullptr;
  rocksdb::ColumnFamilyHandle* streams_ = nullptr;
  rocksdb::ColumnFamilyHandle* heads_ = nullptr;
  rocksdb::ColumnFamilyHandle* meta_ = nullptr;
  rocksdb::ColumnFamilyHandle* idempotency_ = nullptr;
  rocksdb::ColumnFamilyHandle* snapshots_ = nullptr;
  LogOptions options_;

  // Runs a RocksDB call; one that syncs is counted in synced_writes and its
  // time added to sync_time, whether it succeeds or not.
  template <typename Call>
  rocksdb::Status counted(bool syncs, Call call) {
    if (!syncs) return call();
    synced_writes_.fetch_add(1, std::memory_order_relaxed);
    const auto start = std::chrono::steady_clock::now();
    auto status = call();
    sync_nanos_.fetch_add((std::chrono::steady_clock::now() - start).count(), std::memory_order_relaxed);
    return status;
  }

  std::atomic<std::uint64_t> synced_writes_{0};
  std::atomic<std::int64_t> sync_nanos_{0};
  std::atomic<std::uint64_t> batches_written_{0};
  // One writer at a time; guards the written (not always durable) end.
  std::mutex write_mutex_;
  Position written_head_;
  Hash last_hash_{};
  // written_head_ for sync(), which must not wait for a write in progress.
  std::atomic<std::uint64_t> written_position_{0};
  std::mutex sync_mutex_;  // one sync() at a time
  std::atomic<bool> failed_{false};
  // The durable end, what readers see.
  mutable std::mutex head_mutex_;
  mutable std::condition_variable head_changed_;
  Position head_;
};

}  // namespace tessera::eventstore::detail
