#include "rocks_log.h"

namespace tessera::eventstore::detail {

// One group commit: checked and written; synced and published too when
// `durable`, else left for sync().
std::vector<result<AppendResult>> RocksLog::write(std::span<const AppendRequest> requests, bool durable) {
  std::lock_guard lock(write_mutex_);
  std::vector<result<AppendResult>> results;
  results.reserve(requests.size());
  if (failed_.load()) {
    results.assign(requests.size(), make_error_code(errc::io_error));
    return results;
  }
  // Room for everything at once: a batch of a million codes grows to
  // hundreds of megabytes, and growing it by doubling copied it over and
  // over.
  rocksdb::WriteBatch batch(expected_batch_bytes(requests));
  // The streams the batch's requests name, as they stand after the
  // requests accepted so far; those written, each once (stable map nodes).
  BatchStreams versions;
  std::vector<const BatchStreams::value_type*> written;
  // Keys recorded by the requests accepted so far in this batch.
  std::unordered_map<std::string, IdempotencyRecord> keys;
  Position next = written_head_;
  Hash hash = last_hash_;
  // Stream index and head entries, put in key order after the loop: the
  // memtable takes a batch's keys far faster in order than in the random
  // order of a code batch's streams. The index keys are sorted as views (a
  // million strings move slowly); each is unique, stream and version. A
  // stream gets a head only with its second event: most streams (a code
  // never used, a registration, a contract) keep one event, and for them
  // the index's first entry says as much as a head would, for one key less
  // to insert into a memtable in random order.
  // The keys are written one after the other into one string, each entry
  // its key's offset and length and the position, the views taken after.
  std::string index_keys;
  struct IndexEntry {
    std::size_t offset;
    std::size_t length;
    std::uint64_t position;
  };
  std::vector<IndexEntry> index_entries;
  std::string record;  // one event's, its capacity reused
  // Whether each answer holds only if this batch's write succeeds.
  std::vector<bool> rests_on_write;
  rests_on_write.reserve(requests.size());
  std::size_t writes = 0;
  for (const auto& request : requests) writes += request.writes.size();
  versions.reserve(writes);
  written.reserve(writes);
  index_entries.reserve(writes);
  // Every write's entry (nullptr for a stream without a name, which
  // check_versions refuses), resolved before any request is checked, so
  // that the streams new to the batch have their versions read all at once
  // (a batch of codes: on two threads).
  std::vector<BatchStreams::value_type*> entries;
  entries.reserve(writes);
  if (auto resolved = resolve(requests, versions, entries); !resolved) {
    results.assign(requests.size(), resolved.error());
    return results;
  }
  std::size_t first_entry = 0;  // of the request at hand
  for (std::size_t r = 0; r < requests.size(); ++r) {
    const AppendRequest& request = requests[r];
    const std::span request_entries = std::span(entries).subspan(first_entry, request.writes.size());
    first_entry += request.writes.size();
    if (request.idempotency_key) {
      const bool in_batch = keys.contains(*request.idempotency_key);
      auto recorded = recorded_key(*request.idempotency_key, keys);
      if (!recorded || recorded.value()) {
        rests_on_write.push_back(in_batch);
        if (!recorded) {
          results.emplace_back(recorded.error());
        } else if (recorded.value()->fingerprint != request.fingerprint) {
          results.emplace_back(make_error_code(errc::idempotency_key_reused));
        } else {
          results.emplace_back(recorded.value()->result);
        }
        continue;
      }
    }
    rests_on_write.push_back(true);
    auto checked = check_versions(request, r, request_entries);
    if (!checked) {
      results.emplace_back(checked.error());
      continue;
    }
    AppendResult appended{Position{next.value + 1}, next, false};
    for (std::size_t w = 0; w < request.writes.size(); ++w) {
      const StreamWrite& write = request.writes[w];
      auto& entry = *request_entries[w];
      if (!entry.second.written) {
        entry.second.written = true;
        written.push_back(&entry);
      }
      StreamVersion& version = entry.second.version;
      for (const auto& proposed : write.events) {
        const detail::NewEvent event{Position{next.value + 1},
                                     write.stream,
                                     StreamVersion{version.value + 1},
                                     proposed.type,
                                     proposed.schema,
                                     request.recorded_at_micros,
                                     proposed.payload};
        detail::encode_chained(hash, event, hash, record);
        next = event.position;
        version = event.version;
        const std::string position = encode_u64(event.position.value);
        batch.Put(events_, position, record);
        const std::size_t offset = index_keys.size();
        detail::append_stream_key(index_keys, event.stream, event.version);
        index_entries.push_back({offset, index_keys.size() - offset, event.position.value});
      }
    }
    appended.last = next;
    if (request.idempotency_key) {
      batch.Put(idempotency_, *request.idempotency_key, detail::encode_idempotency(appended, request.fingerprint));
      keys[*request.idempotency_key] =
          IdempotencyRecord{AppendResult{appended.first, appended.last, true}, request.fingerprint};
    }
    results.emplace_back(appended);
  }
  if (next == written_head_) return results;
  std::vector<std::pair<std::string_view, std::uint64_t>> index_in_order;
  index_in_order.reserve(index_entries.size());
  for (const auto& entry : index_entries) {
    index_in_order.emplace_back(std::string_view(index_keys).substr(entry.offset, entry.length), entry.position);
  }
  detail::sort_bytewise(index_in_order, [](const auto& entry) { return entry.first; });
  for (const auto& [key, position] : index_in_order) batch.Put(streams_, key, encode_u64(position));
  std::erase_if(written, [](const BatchStreams::value_type* entry) { return entry->second.version.value < 2; });
  detail::sort_bytewise(written, [](const BatchStreams::value_type* entry) { return std::string_view(entry->first); });
  for (const auto* entry : written) batch.Put(heads_, entry->first, encode_u64(entry->second.version.value));

  rocksdb::WriteOptions wo;
  wo.sync = durable && options_.sync_writes;
  batches_written_.fetch_add(1, std::memory_order_relaxed);  // whether RocksDB takes it or not
  const auto status = counted(wo.sync, [&] { return db_->Write(wo, &batch); });
  if (!status.ok()) {
    // Whether the WAL holds part of it is unknown now: see log.h.
    failed_.store(true);
    for (std::size_t i = 0; i < results.size(); ++i) {
      if (results[i] && rests_on_write[i]) results[i] = from_status(status);
    }
    return results;
  }
  written_head_ = next;
  last_hash_ = hash;
  written_position_.store(next.value);
  // A synced write syncs the WAL's earlier writes too.
  if (durable) publish(next);
  return results;
}

// About what a WriteBatch of these requests holds: per event its record
// (fixed fields, stream, type, payload, hash), its position key, and its
// index entry (stream, version, position), with RocksDB's per-entry
// framing.
std::size_t RocksLog::expected_batch_bytes(std::span<const AppendRequest> requests) {
  constexpr std::size_t kFixedPerEvent = 3 * 8 + 4 * 4 + 32 + 8 + (1 + 8 + 8) + 2 * 8;
  std::size_t bytes = 0;
  for (const auto& request : requests) {
    for (const auto& write : request.writes) {
      for (const auto& event : write.events) {
        bytes += kFixedPerEvent + 2 * write.stream.size() + event.type.size() + event.payload.size();
      }
    }
  }
  return bytes;
}

// The key as recorded before this batch or by its earlier requests.
// Called with write_mutex_ held, so no other batch is half written.
result<std::optional<IdempotencyRecord>> RocksLog::recorded_key(
    const std::string& key, const std::unordered_map<std::string, IdempotencyRecord>& keys) const {
  if (const auto it = keys.find(key); it != keys.end()) return std::optional<IdempotencyRecord>(it->second);
  return read_key(key);
}

// Each write's entry in `versions`, in order; the versions of the streams
// not yet in it read from the log.
result<void> RocksLog::resolve(std::span<const AppendRequest> requests, BatchStreams& versions,
                               std::vector<BatchStreams::value_type*>& entries) const {
  std::vector<std::string_view> unknown;
  std::vector<BatchStreams::value_type*> unknown_entries;
  for (const auto& request : requests) {
    for (const auto& write : request.writes) {
      if (write.stream.empty()) {
        entries.push_back(nullptr);
        continue;
      }
      auto [it, inserted] = versions.try_emplace(write.stream);
      entries.push_back(&*it);
      if (!inserted) continue;
      unknown.push_back(it->first);
      unknown_entries.push_back(&*it);
    }
  }
  auto read = stream_versions(unknown);
  if (!read) return read.error();
  for (std::size_t i = 0; i < unknown_entries.size(); ++i) unknown_entries[i]->second.version = read.value()[i];
  return outcome::success();
}

// Checks the request (number `index` of the batch) against the versions
// its streams (`entries`, one per write) stand at.
result<void> RocksLog::check_versions(const AppendRequest& request, std::size_t index,
                                      std::span<BatchStreams::value_type* const> entries) const {
  if (request.writes.empty()) return errc::invalid_argument;
  for (std::size_t w = 0; w < request.writes.size(); ++w) {
    const StreamWrite& write = request.writes[w];
    BatchStreams::value_type* entry = entries[w];
    if (entry == nullptr || write.events.empty()) return errc::invalid_argument;
    // A stream written twice in one request would need the second write's
    // expected version to account for the first: refused.
    if (entry->second.named_by == index) return errc::invalid_argument;
    entry->second.named_by = index;
    if (write.expected && *write.expected != entry->second.version) return errc::version_conflict;
  }
  return outcome::success();
}

}  // namespace tessera::eventstore::detail
