// Read models: the query side, built by folding the log's events into JSON
// documents kept in their own RocksDB.
//
// Each apply() writes its documents and the checkpoint (the position of the
// last event applied) in one write batch, so after a crash the models are
// exactly those of some prefix of the log and resume from there: no event is
// applied twice, none is skipped.
//
// Threading: apply() from one thread (the projector); queries from any thread.
#pragma once

#include <chrono>
#include <condition_variable>
#include <cstdint>
#include <filesystem>
#include <memory>
#include <mutex>
#include <optional>
#include <span>

#include "tessera/domain/ids.h"
#include "tessera/eventstore/types.h"

namespace rocksdb {
class DB;
}

namespace tessera::projections {

template <class T>
using result = eventstore::result<T>;

struct Seats {
  std::uint32_t capacity = 0;
  std::uint32_t reserved = 0;
  std::uint32_t registered = 0;
  std::uint32_t available() const {
    const std::uint32_t taken = reserved + registered;
    return taken >= capacity ? 0 : capacity - taken;
  }
};

class ReadModels {
 public:
  static result<std::unique_ptr<ReadModels>> open(const std::filesystem::path& dir);
  ~ReadModels();

  // Folds `events` (consecutive, after checkpoint()) into the models.
  result<void> apply(std::span<const eventstore::RecordedEvent> events);

  // The position of the last event applied.
  eventstore::Position checkpoint() const;

  // Blocks until checkpoint() >= position or the timeout passes.
  bool wait_for(eventstore::Position position, std::chrono::milliseconds timeout) const;

  // A session's seats; nullopt when no such session is known.
  result<std::optional<Seats>> seats(const domain::OrgId& org, const domain::SessionId& session) const;

 private:
  ReadModels(std::unique_ptr<rocksdb::DB> db, eventstore::Position checkpoint);

  std::unique_ptr<rocksdb::DB> db_;
  mutable std::mutex mutex_;
  mutable std::condition_variable advanced_;
  eventstore::Position checkpoint_;
};

}  // namespace tessera::projections
