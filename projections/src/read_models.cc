#include "tessera/projections/read_models.h"

#include <rocksdb/db.h>
#include <rocksdb/filter_policy.h>
#include <rocksdb/table.h>
#include <rocksdb/write_batch.h>

#include <algorithm>
#include <array>
#include <charconv>
#include <limits>
#include <nlohmann/json.hpp>
#include <string>
#include <tuple>

#include "decoded_ahead.h"
#include "documents.h"
#include "fold.h"
#include "keys.h"
#include "tessera/domain/code_rules.h"
#include "tessera/domain/streams.h"
#include "tessera/eventstore/errc.h"
#include "tessera/projections/stall.h"

namespace tessera::projections {
namespace {

using nlohmann::json;
namespace d = tessera::domain;
using eventstore::errc;

std::string encode_position(eventstore::Position p) { return std::to_string(p.value); }

template <class Int>
std::optional<Int> parse_decimal(std::string_view text) {
  Int value = 0;
  const auto [ptr, ec] = std::from_chars(text.data(), text.data() + text.size(), value);
  if (ec != std::errc() || ptr != text.data() + text.size()) return std::nullopt;
  return value;
}

// A stored counter or position (decimal); 0 when absent.
result<std::uint64_t> read_count(rocksdb::DB& db, std::string_view key) {
  std::string value;
  const auto s = db.Get(rocksdb::ReadOptions(), key, &value);
  if (s.IsNotFound()) return std::uint64_t{0};
  if (!s.ok()) return errc::io_error;
  const auto parsed = parse_decimal<std::uint64_t>(value);
  if (!parsed) return errc::corruption;
  return *parsed;
}

// Reads at one snapshot, so that an index and the documents it names agree.
class Reader {
 public:
  explicit Reader(rocksdb::DB& db) : db_(db), snapshot_(db.GetSnapshot()) { options_.snapshot = snapshot_; }
  ~Reader() { db_.ReleaseSnapshot(snapshot_); }
  Reader(const Reader&) = delete;
  Reader& operator=(const Reader&) = delete;

  // The document stored at `key`, or nullopt.
  template <class Doc>
  result<std::optional<Doc>> read(const std::string& key) {
    std::string value;
    const auto s = db_.Get(options_, key, &value);
    if (s.IsNotFound()) return std::optional<Doc>();
    if (!s.ok()) return Error(errc::io_error, "read models: reading " + key + ": " + s.ToString());
    auto doc = detail::decode<Doc>(key, value);
    if (!doc) return doc.error();
    return std::optional<Doc>(std::move(doc).value());
  }

  result<bool> exists(const std::string& key) {
    std::string value;
    const auto s = db_.Get(options_, key, &value);
    if (s.IsNotFound()) return false;
    if (!s.ok()) return Error(errc::io_error, "read models: reading " + key + ": " + s.ToString());
    return true;
  }

  // The served forms of the documents at `keys`, in order, leaving out those
  // not found and those that show nowhere.
  template <class Doc>
  result<std::vector<json>> bodies(const std::vector<std::string>& keys) {
    std::vector<rocksdb::Slice> slices(keys.begin(), keys.end());
    std::vector<std::string> values;
    const auto statuses = db_.MultiGet(options_, slices, &values);
    std::vector<json> out;
    out.reserve(keys.size());
    for (std::size_t i = 0; i < keys.size(); ++i) {
      if (statuses[i].IsNotFound()) continue;
      if (!statuses[i].ok()) {
        return Error(errc::io_error, "read models: reading " + keys[i] + ": " + statuses[i].ToString());
      }
      auto doc = detail::decode<Doc>(keys[i], values[i]);
      if (!doc) return doc.error();
      if (std::optional<json> body = detail::body(doc.value())) out.push_back(std::move(*body));
    }
    return out;
  }

  // Walks the keys that start with `prefix` from `from` (the prefix when
  // empty): visit(key, value) returns false to stop.
  template <class Visit>
  result<void> scan(const std::string& prefix, const std::string& from, Visit&& visit) {
    const std::string end = keys::prefix_end(prefix);
    const rocksdb::Slice upper(end);
    rocksdb::ReadOptions options = options_;
    if (!end.empty()) options.iterate_upper_bound = &upper;
    std::unique_ptr<rocksdb::Iterator> it(db_.NewIterator(options));
    for (it->Seek(from.empty() ? prefix : from); it->Valid() && it->key().starts_with(prefix); it->Next()) {
      if (!visit(std::string_view(it->key().data(), it->key().size()),
                 std::string_view(it->value().data(), it->value().size()))) {
        break;
      }
    }
    if (!it->status().ok()) return Error(errc::io_error, "read models: " + it->status().ToString());
    return outcome::success();
  }

 private:
  rocksdb::DB& db_;
  const rocksdb::Snapshot* snapshot_;
  rocksdb::ReadOptions options_;
};

// A document's served form with its version; nullopt for a miss or a
// document that shows nowhere (a deleted code, one whose batch is unknown).
template <class Doc>
result<std::optional<Document>> document(rocksdb::DB& db, const std::string& key) {
  Reader reader(db);
  auto doc = reader.read<Doc>(key);
  if (!doc) return doc.error();
  if (!doc.value()) return std::optional<Document>();
  std::optional<json> body = detail::body(*doc.value());
  if (!body) return std::optional<Document>();
  return std::optional<Document>(Document{std::move(*body), doc.value()->version});
}

std::string code_doc_key(std::string_view code_key) { return keys::doc(d::code_stream(code_key).str()); }

// Cursors: the issue position of the last code of a page, as 16 hex digits.
std::string encode_cursor(std::uint64_t position) {
  static constexpr char kHex[] = "0123456789abcdef";
  std::string out(16, '0');
  for (int i = 15; i >= 0; --i) {
    out[static_cast<std::size_t>(i)] = kHex[position & 0xf];
    position >>= 4;
  }
  return out;
}

std::optional<std::uint64_t> decode_cursor(const std::optional<std::string>& cursor) {
  if (!cursor || cursor->size() != 16) return std::nullopt;
  std::uint64_t value = 0;
  const auto [ptr, ec] = std::from_chars(cursor->data(), cursor->data() + cursor->size(), value, 16);
  if (ec != std::errc() || ptr != cursor->data() + cursor->size()) return std::nullopt;
  return value;
}

// Removes every key: a database of another layout is rebuilt from the log.
result<void> wipe(rocksdb::DB& db) {
  std::unique_ptr<rocksdb::Iterator> it(db.NewIterator(rocksdb::ReadOptions()));
  rocksdb::WriteBatch batch;
  for (it->SeekToFirst(); it->Valid(); it->Next()) {
    batch.Delete(it->key());
    if (batch.Count() >= 10'000) {
      if (!db.Write(rocksdb::WriteOptions(), &batch).ok()) return errc::io_error;
      batch.Clear();
    }
  }
  if (!it->status().ok()) return errc::io_error;
  if (!db.Write(rocksdb::WriteOptions(), &batch).ok()) return errc::io_error;
  return outcome::success();
}

}  // namespace

ReadModels::ReadModels(std::unique_ptr<rocksdb::DB> db, eventstore::Position checkpoint, std::uint64_t applied)
    : db_(std::move(db)), checkpoint_(checkpoint), applied_(applied), waiters_(checkpoint) {}

ReadModels::~ReadModels() = default;

result<std::unique_ptr<ReadModels>> ReadModels::open(const std::filesystem::path& dir) {
  std::error_code fs_error;
  std::filesystem::create_directories(dir, fs_error);
  if (fs_error) return errc::io_error;
  rocksdb::Options options;
  options.create_if_missing = true;
  // The fold reads a document by key for most events that are not a
  // stream's first (fold.h): a filter answers most misses without a block.
  rocksdb::BlockBasedTableOptions table;
  table.filter_policy.reset(rocksdb::NewBloomFilterPolicy(10));
  options.table_factory.reset(rocksdb::NewBlockBasedTableFactory(table));
  rocksdb::DB* raw = nullptr;
  const auto status = rocksdb::DB::Open(options, dir.string(), &raw);
  if (!status.ok()) return errc::io_error;
  std::unique_ptr<rocksdb::DB> db(raw);

  std::string value;
  auto s = db->Get(rocksdb::ReadOptions(), keys::kLayout, &value);
  if (!s.ok() && !s.IsNotFound()) return errc::io_error;
  if (s.IsNotFound() || value != keys::kLayoutVersion) {
    // Models of an older layout (or none): start over from position 0.
    if (auto wiped = wipe(*db); !wiped) return wiped.error();
    rocksdb::WriteOptions sync;
    sync.sync = true;
    if (!db->Put(sync, keys::kLayout, keys::kLayoutVersion).ok()) return errc::io_error;
  }

  auto checkpoint = read_count(*db, keys::kCheckpoint);
  if (!checkpoint) return checkpoint.error();
  auto applied = read_count(*db, keys::kKafkaApplied);
  if (!applied) return applied.error();
  return std::unique_ptr<ReadModels>(
      new ReadModels(std::move(db), eventstore::Position{checkpoint.value()}, applied.value()));
}

result<void> ReadModels::apply(std::span<const eventstore::RecordedEvent> events) {
  if (events.empty()) return outcome::success();
  auto applied = fold_and_write(events, nullptr);
  if (!applied) return applied.error();
  return outcome::success();
}

result<std::size_t> ReadModels::apply_from_kafka(std::span<const eventstore::RecordedEvent> events,
                                                 std::span<const PartitionOffset> offsets) {
  return fold_and_write(events, &offsets);
}

result<std::size_t> ReadModels::fold_and_write(std::span<const eventstore::RecordedEvent> events,
                                               const std::span<const PartitionOffset>* offsets) {
  eventstore::Position last = checkpoint();
  std::size_t applied = 0;
  try {
    detail::Fold fold(*db_, last);
    detail::DecodedAhead decoded(events);
    for (std::size_t i = 0; i < events.size(); ++i) {
      const auto& recorded = events[i];
      const auto& event = decoded.at(i);
      if (!event) return event.error();
      auto folded = fold.apply(recorded, event.value());
      if (!folded) return folded.error();
      if (folded.value()) ++applied;
      last = std::max(last, recorded.position);
    }
    auto& batch = fold.write();
    batch.Put(keys::kCheckpoint, encode_position(last));
    if (offsets != nullptr) {
      for (const auto& offset : *offsets) {
        batch.Put(keys::kafka_offset(offset.topic, offset.partition), std::to_string(offset.next));
      }
      batch.Put(keys::kKafkaApplied, std::to_string(applied_events() + applied));
    }
    // Not synced: the models can always be rebuilt from the durable log (or
    // Kafka), and the checkpoint travels in the same batch as the documents.
    const auto status = db_->Write(rocksdb::WriteOptions(), &batch);
    if (!status.ok()) return Error(errc::io_error, "read models: writing: " + status.ToString());
  } catch (const json::exception& e) {
    // Only dump() can throw here, on a string that is not UTF-8; every string
    // came out of a parsed payload, so this guards against a codec's bug.
    return Error(errc::corruption, std::string("read models: cannot encode a document: ") + e.what());
  }
  {
    std::lock_guard lock(mutex_);
    checkpoint_ = last;
    if (offsets != nullptr) applied_ += applied;
  }
  advanced_.notify_all();
  waiters_.reached(last);
  return applied;
}

result<std::vector<PartitionOffset>> ReadModels::kafka_offsets() const {
  std::vector<PartitionOffset> out;
  Reader reader(*db_);
  const std::string prefix(keys::kKafkaOffsetPrefix);
  bool readable = true;
  auto scanned = reader.scan(prefix, {}, [&](std::string_view key, std::string_view value) {
    const auto rest = key.substr(prefix.size());
    const auto slash = rest.rfind('/');
    const auto partition =
        slash == std::string_view::npos ? std::nullopt : parse_decimal<std::int32_t>(rest.substr(slash + 1));
    const auto next = parse_decimal<std::int64_t>(value);
    if (!partition || !next) {
      readable = false;
      return false;
    }
    out.push_back(PartitionOffset{std::string(rest.substr(0, slash)), *partition, *next});
    return true;
  });
  if (!scanned) return scanned.error();
  if (!readable) return errc::corruption;
  std::ranges::sort(out, {}, [](const PartitionOffset& o) { return std::tie(o.topic, o.partition); });
  return out;
}

std::uint64_t ReadModels::applied_events() const {
  std::lock_guard lock(mutex_);
  return applied_;
}

eventstore::Position ReadModels::checkpoint() const {
  std::lock_guard lock(mutex_);
  return checkpoint_;
}

bool ReadModels::wait_for(eventstore::Position position, std::chrono::milliseconds timeout) const {
  std::unique_lock lock(mutex_);
  return advanced_.wait_for(lock, timeout, [&] { return checkpoint_ >= position; });
}

PositionWaiters::Ticket ReadModels::when_reached(eventstore::Position position,
                                                 std::move_only_function<void()> then) const {
  return waiters_.wait(position, std::move(then));
}

void ReadModels::forget(const PositionWaiters::Ticket& ticket) const { waiters_.forget(ticket); }

result<std::optional<Seats>> ReadModels::seats(const domain::OrgId& org, const domain::SessionId& session) const {
  if (!keys::usable_id(org.str()) || !keys::usable_id(session.str())) return std::optional<Seats>();
  Reader reader(*db_);
  auto doc = reader.read<detail::SessionDoc>(keys::doc(d::session_stream(org, session).str()));
  if (!doc) return doc.error();
  if (!doc.value()) return std::optional<Seats>();
  return std::optional<Seats>(doc.value()->seats);
}

result<std::optional<Document>> ReadModels::code(const domain::OrgId& org, std::string_view code_key) const {
  if (code_key.empty()) return std::optional<Document>();
  Reader reader(*db_);
  auto doc = reader.read<detail::CodeDoc>(code_doc_key(code_key));
  if (!doc) return doc.error();
  if (!doc.value() || doc.value()->org != org) return std::optional<Document>();
  std::optional<json> body = detail::body(*doc.value());
  if (!body) return std::optional<Document>();
  return std::optional<Document>(Document{std::move(*body), doc.value()->version});
}

result<std::optional<Document>> ReadModels::contract(const domain::OrgId& org, const domain::ContractId& id) const {
  if (!keys::usable_id(org.str()) || !keys::usable_id(id.str())) return std::optional<Document>();
  return document<detail::ContractDoc>(*db_, keys::doc(d::contract_stream(org, id).str()));
}

result<std::optional<Document>> ReadModels::session(const domain::OrgId& org, const domain::SessionId& id) const {
  if (!keys::usable_id(org.str()) || !keys::usable_id(id.str())) return std::optional<Document>();
  return document<detail::SessionDoc>(*db_, keys::doc(d::session_stream(org, id).str()));
}

result<std::optional<Document>> ReadModels::batch(const domain::OrgId& org, const domain::BatchId& id) const {
  if (!keys::usable_id(org.str()) || !keys::usable_id(id.str())) return std::optional<Document>();
  return document<detail::BatchDoc>(*db_, keys::doc(d::batch_stream(org, id).str()));
}

result<std::optional<Document>> ReadModels::invitation(const domain::InvitationId& id) const {
  if (id.empty()) return std::optional<Document>();
  return document<detail::InvitationDoc>(*db_, keys::doc(d::invitation_stream(id).str()));
}

result<std::optional<Document>> ReadModels::registration(const domain::OrgId& org,
                                                         const domain::RegistrationId& id) const {
  if (!keys::usable_id(org.str()) || !keys::usable_id(id.str())) return std::optional<Document>();
  return document<detail::RegistrationDoc>(*db_, keys::doc(d::registration_stream(org, id).str()));
}

result<std::optional<json>> ReadModels::summary(const domain::OrgId& org, const domain::ContractId& id) const {
  if (!keys::usable_id(org.str()) || !keys::usable_id(id.str())) return std::optional<json>();
  Reader reader(*db_);
  auto contract = reader.exists(keys::doc(d::contract_stream(org, id).str()));
  if (!contract) return contract.error();
  if (!contract.value()) return std::optional<json>();
  auto counts = reader.read<detail::ContractSummary>(keys::summary(org.str(), id.str()));
  if (!counts) return counts.error();
  // No code counted yet: every count is zero.
  return std::optional<json>(detail::body(counts.value().value_or(detail::ContractSummary{})));
}

result<std::optional<json>> ReadModels::roster(const domain::OrgId& org, const domain::SessionId& id) const {
  if (!keys::usable_id(org.str()) || !keys::usable_id(id.str())) return std::optional<json>();
  Reader reader(*db_);
  auto session = reader.exists(keys::doc(d::session_stream(org, id).str()));
  if (!session) return session.error();
  if (!session.value()) return std::optional<json>();

  std::vector<std::string> invitation_keys;
  auto scanned = reader.scan(keys::roster_invitations(org.str(), id.str()), {}, [&](auto, std::string_view value) {
    invitation_keys.push_back(keys::doc(d::invitation_stream(d::InvitationId(std::string(value))).str()));
    return true;
  });
  if (!scanned) return scanned.error();
  std::vector<std::string> registration_keys;
  scanned = reader.scan(keys::roster_registrations(org.str(), id.str()), {}, [&](auto, std::string_view value) {
    registration_keys.push_back(keys::doc(d::registration_stream(org, d::RegistrationId(std::string(value))).str()));
    return true;
  });
  if (!scanned) return scanned.error();

  auto invitations = reader.bodies<detail::InvitationDoc>(invitation_keys);
  if (!invitations) return invitations.error();
  auto registrations = reader.bodies<detail::RegistrationDoc>(registration_keys);
  if (!registrations) return registrations.error();
  return std::optional<json>(
      json{{"invitations", std::move(invitations.value())}, {"registrations", std::move(registrations.value())}});
}

result<Page> ReadModels::codes(const domain::OrgId& org, const CodeFilter& filter,
                               const std::optional<std::string>& cursor, std::size_t limit) const {
  const auto& o = org.str();
  if (!keys::usable_id(o) || limit == 0) return Page{};
  if (filter.status && !d::parse_code_status(*filter.status)) return Page{};
  if ((filter.contract && !keys::usable_id(*filter.contract)) || (filter.batch && !keys::usable_id(*filter.batch))) {
    return Page{};
  }
  Reader reader(*db_);
  if (filter.batch && filter.contract) {
    auto batch = reader.read<detail::BatchDoc>(keys::doc(d::batch_stream(org, d::BatchId(*filter.batch)).str()));
    if (!batch) return batch.error();
    if (!batch.value() || batch.value()->terms.contract.str() != *filter.contract) return Page{};
  }
  // The narrowest index that answers the filter: the one of its status, or,
  // with no status asked, the one of each status merged by issue position
  // (a code is in the index of its one status; keys.h).
  const auto index = [&](std::string_view status) {
    if (filter.batch) return keys::codes_of_batch(o, *filter.batch, status);
    if (filter.contract) return keys::codes_of_contract(o, *filter.contract, status);
    return keys::codes_of_org(o, status);
  };
  std::vector<std::string> prefixes;
  if (filter.status) {
    prefixes.push_back(index(*filter.status));
  } else {
    for (const auto status : d::kCodeStatuses) prefixes.push_back(index(d::to_string(status)));
  }

  const auto after = decode_cursor(cursor);
  if (after && *after == std::numeric_limits<std::uint64_t>::max()) return Page{};
  // Up to limit + 1 codes of each index: the page, and whether more follow.
  std::vector<std::pair<std::uint64_t, std::string>> issued;
  for (const auto& prefix : prefixes) {
    std::size_t taken = 0;
    auto scanned = reader.scan(prefix, after ? prefix + keys::be64(*after + 1) : std::string(),
                               [&](std::string_view key, std::string_view value) {
                                 issued.emplace_back(keys::read_be64(key.substr(prefix.size())).value_or(0), value);
                                 return ++taken <= limit;
                               });
    if (!scanned) return scanned.error();
  }
  std::ranges::sort(issued, {}, &std::pair<std::uint64_t, std::string>::first);
  const bool more = issued.size() > limit;
  if (more) issued.resize(limit);
  std::vector<std::string> code_keys;
  code_keys.reserve(issued.size());
  for (const auto& [position, code_key] : issued) code_keys.push_back(code_doc_key(code_key));
  auto items = reader.bodies<detail::CodeDoc>(code_keys);
  if (!items) return items.error();
  Page page;
  page.items = std::move(items.value());
  if (more) page.next = encode_cursor(issued.back().first);
  return page;
}

result<std::vector<json>> ReadModels::participants(const domain::OrgId& org, const domain::ContractId& id) const {
  if (!keys::usable_id(org.str()) || !keys::usable_id(id.str())) return std::vector<json>();
  Reader reader(*db_);
  std::vector<std::string> code_keys;
  auto scanned = reader.scan(keys::participants_of_contract(org.str(), id.str()), {}, [&](auto, std::string_view v) {
    code_keys.push_back(code_doc_key(v));
    return true;
  });
  if (!scanned) return scanned.error();
  return reader.bodies<detail::CodeDoc>(code_keys);
}

result<std::vector<std::string>> ReadModels::pool(const domain::OrgId& org, const domain::ContractId& id,
                                                  std::size_t limit) const {
  std::vector<std::string> out;
  if (!keys::usable_id(org.str()) || !keys::usable_id(id.str()) || limit == 0) return out;
  Reader reader(*db_);
  auto scanned =
      reader.scan(keys::codes_of_contract(org.str(), id.str(), "available"), {}, [&](auto, std::string_view value) {
        out.emplace_back(value);
        return out.size() < limit;
      });
  if (!scanned) return scanned.error();
  return out;
}

result<std::vector<DueExpiry>> ReadModels::due_expiries(domain::Timestamp now, std::size_t limit) const {
  std::vector<DueExpiry> out;
  if (limit == 0) return out;
  Reader reader(*db_);
  const std::string prefix(keys::kDuePrefix);
  auto scanned = reader.scan(prefix, {}, [&](std::string_view key, auto) {
    const auto rest = key.substr(prefix.size());
    if (rest.size() < 8) return true;
    const auto micros = keys::read_sortable_micros(rest.substr(0, 8));
    if (micros > now.micros) return false;
    out.push_back(DueExpiry{domain::InvitationId(std::string(rest.substr(8))), domain::Timestamp{micros}});
    return out.size() < limit;
  });
  if (!scanned) return scanned.error();
  return out;
}

result<std::vector<GeneratingBatch>> ReadModels::generating_batches(std::size_t limit) const {
  std::vector<GeneratingBatch> out;
  if (limit == 0) return out;
  Reader reader(*db_);
  const std::string prefix(keys::kGeneratingPrefix);
  auto scanned = reader.scan(prefix, {}, [&](std::string_view key, auto) {
    const auto rest = key.substr(prefix.size());
    const auto slash = rest.find('/');
    if (slash == std::string_view::npos) return true;
    out.push_back(GeneratingBatch{domain::OrgId(std::string(rest.substr(0, slash))),
                                  domain::BatchId(std::string(rest.substr(slash + 1)))});
    return out.size() < limit;
  });
  if (!scanned) return scanned.error();
  return out;
}

}  // namespace tessera::projections
