#include "tessera/projections/read_models.h"

#include <rocksdb/db.h>
#include <rocksdb/write_batch.h>

#include <map>
#include <nlohmann/json.hpp>
#include <string>

#include "tessera/codec/json.h"
#include "tessera/domain/streams.h"
#include "tessera/eventstore/errc.h"

namespace tessera::projections {
namespace {

template <class... Ts>
struct Visitor : Ts... {
  using Ts::operator()...;
};

using nlohmann::json;
namespace d = tessera::domain;

constexpr std::string_view kCheckpointKey = "checkpoint";

std::string seats_key(std::string_view session_stream) { return "seats/" + std::string(session_stream); }

std::string encode_position(eventstore::Position p) { return std::to_string(p.value); }

// The documents one apply() reads and writes, buffered until its batch is written.
class Documents {
 public:
  explicit Documents(rocksdb::DB& db) : db_(db) {}

  result<json*> get(const std::string& key) {
    if (auto it = docs_.find(key); it != docs_.end()) return &it->second;
    std::string value;
    const auto s = db_.Get(rocksdb::ReadOptions(), key, &value);
    if (s.IsNotFound()) return &docs_[key];  // null: no document yet
    if (!s.ok()) return eventstore::errc::io_error;
    return &(docs_[key] = json::parse(value));
  }

  void write_to(rocksdb::WriteBatch& batch) const {
    for (const auto& [key, doc] : docs_) {
      if (!doc.is_null()) batch.Put(key, doc.dump());
    }
  }

 private:
  rocksdb::DB& db_;
  std::map<std::string, json> docs_;
};

// Adds `delta` to a counter of a seats document.
void bump(json& doc, const char* counter, int delta) {
  auto& value = doc[counter];
  value = value.get<std::int64_t>() + delta;
}

result<void> project_seats(const eventstore::RecordedEvent& recorded, const d::Event& event, Documents& docs) {
  if (d::stream_category(d::StreamId(recorded.stream)) != "session") return eventstore::outcome::success();
  auto found = docs.get(seats_key(recorded.stream));
  if (!found) return found.error();
  json& doc = *found.value();
  std::visit(Visitor{
                 [&](const d::SessionCreated& e) {
                   doc = json{{"capacity", e.capacity}, {"reserved", 0}, {"registered", 0}};
                 },
                 [&](const d::SessionCapacityChanged& e) { doc["capacity"] = e.capacity; },
                 [&](const d::SeatReserved& e) {
                   bump(doc, "reserved", 1);
                   if (e.over_capacity) bump(doc, "capacity", 1);
                 },
                 [&](const d::SeatReleased&) { bump(doc, "reserved", -1); },
                 [&](const d::SeatRegistered& e) {
                   if (e.invitation) bump(doc, "reserved", -1);
                   bump(doc, "registered", 1);
                 },
                 [&](const d::SeatFreed&) { bump(doc, "registered", -1); },
                 [](const auto&) {},
             },
             event);
  return eventstore::outcome::success();
}

}  // namespace

ReadModels::ReadModels(std::unique_ptr<rocksdb::DB> db, eventstore::Position checkpoint)
    : db_(std::move(db)), checkpoint_(checkpoint) {}

ReadModels::~ReadModels() = default;

result<std::unique_ptr<ReadModels>> ReadModels::open(const std::filesystem::path& dir) {
  std::error_code fs_error;
  std::filesystem::create_directories(dir, fs_error);
  if (fs_error) return eventstore::errc::io_error;
  rocksdb::Options options;
  options.create_if_missing = true;
  rocksdb::DB* raw = nullptr;
  const auto status = rocksdb::DB::Open(options, dir.string(), &raw);
  if (!status.ok()) return eventstore::errc::io_error;
  std::unique_ptr<rocksdb::DB> db(raw);
  std::string value;
  eventstore::Position checkpoint;
  const auto s = db->Get(rocksdb::ReadOptions(), kCheckpointKey, &value);
  if (s.ok()) {
    checkpoint.value = std::stoull(value);
  } else if (!s.IsNotFound()) {
    return eventstore::errc::io_error;
  }
  return std::unique_ptr<ReadModels>(new ReadModels(std::move(db), checkpoint));
}

result<void> ReadModels::apply(std::span<const eventstore::RecordedEvent> events) {
  if (events.empty()) return eventstore::outcome::success();
  Documents docs(*db_);
  for (const auto& recorded : events) {
    const auto event = codec::decode_event(recorded.type, recorded.schema, recorded.payload);
    if (!event) return eventstore::errc::corruption;
    if (auto projected = project_seats(recorded, *event, docs); !projected) return projected.error();
  }
  rocksdb::WriteBatch batch;
  docs.write_to(batch);
  batch.Put(kCheckpointKey, encode_position(events.back().position));
  // Not synced: the models can always be rebuilt from the durable log, and
  // the checkpoint travels in the same batch as the documents.
  const auto status = db_->Write(rocksdb::WriteOptions(), &batch);
  if (!status.ok()) return eventstore::errc::io_error;
  {
    std::lock_guard lock(mutex_);
    checkpoint_ = events.back().position;
  }
  advanced_.notify_all();
  return eventstore::outcome::success();
}

eventstore::Position ReadModels::checkpoint() const {
  std::lock_guard lock(mutex_);
  return checkpoint_;
}

bool ReadModels::wait_for(eventstore::Position position, std::chrono::milliseconds timeout) const {
  std::unique_lock lock(mutex_);
  return advanced_.wait_for(lock, timeout, [&] { return checkpoint_ >= position; });
}

result<std::optional<Seats>> ReadModels::seats(const domain::OrgId& org, const domain::SessionId& session) const {
  std::string value;
  const auto s = db_->Get(rocksdb::ReadOptions(), seats_key(d::session_stream(org, session).str()), &value);
  if (s.IsNotFound()) return std::optional<Seats>();
  if (!s.ok()) return eventstore::errc::io_error;
  const auto doc = json::parse(value);
  return std::optional<Seats>(Seats{doc.at("capacity").get<std::uint32_t>(), doc.at("reserved").get<std::uint32_t>(),
                                    doc.at("registered").get<std::uint32_t>()});
}

}  // namespace tessera::projections
