#include "rocks_log.h"

namespace tessera::eventstore {
namespace {

// A read-only reader's RocksDB info log: it goes nowhere.
class SilentLogger final : public rocksdb::Logger {
 public:
  using rocksdb::Logger::Logv;
  void Logv(const char* /*format*/, va_list /*arguments*/) override {}
};

}  // namespace

using detail::from_status;
using detail::kEvents;
using detail::kHeads;
using detail::kIdempotency;
using detail::kMeta;
using detail::kSnapshots;
using detail::kStreams;
using detail::RocksLog;

result<std::unique_ptr<Log>> Log::open(const std::filesystem::path& dir, LogOptions options) {
  std::error_code fs_error;
  if (!options.read_only) std::filesystem::create_directories(dir, fs_error);
  if (fs_error) return errc::io_error;

  rocksdb::Options db_options;
  db_options.create_if_missing = !options.read_only;
  db_options.create_missing_column_families = !options.read_only;
  // A writer's write-ahead log is zero-filled ahead of its appends, so that
  // each group commit's fsync flushes data alone (see zero_filled_wal.h).
  std::unique_ptr<rocksdb::Env> env;
  if (!options.read_only) {
    env = rocksdb::NewCompositeEnv(detail::zero_filled_wal(rocksdb::FileSystem::Default()));
    db_options.env = env.get();
  }

  rocksdb::BlockBasedTableOptions table;
  table.filter_policy.reset(rocksdb::NewBloomFilterPolicy(10));
  rocksdb::ColumnFamilyOptions point_lookups;
  point_lookups.table_factory.reset(rocksdb::NewBlockBasedTableFactory(table));
  // Families read by whole key (the stream index too: stream_version() asks
  // it for a stream's first entry) get bloom filters, over the memtable's
  // keys as well: most lookups are for streams and keys that do not exist yet
  // (a fresh code, a new key), and a miss then costs no skiplist search.
  point_lookups.memtable_prefix_bloom_size_ratio = 0.1;
  point_lookups.memtable_whole_key_filtering = true;

  const std::vector<rocksdb::ColumnFamilyDescriptor> families = {
      {rocksdb::kDefaultColumnFamilyName, rocksdb::ColumnFamilyOptions()},
      {kEvents, rocksdb::ColumnFamilyOptions()},
      {kStreams, point_lookups},
      {kHeads, point_lookups},
      {kMeta, rocksdb::ColumnFamilyOptions()},
      {kIdempotency, point_lookups},
      {kSnapshots, point_lookups},
  };
  std::vector<rocksdb::ColumnFamilyHandle*> handles;
  rocksdb::DB* raw = nullptr;
  rocksdb::Status status;
  if (options.read_only) {
    // A secondary instance keeps every table file open (max_open_files -1),
    // so files the writer compacts away stay readable. Given a logger it
    // writes nothing, not even in its own path.
    db_options.max_open_files = -1;
    db_options.info_log = std::make_shared<SilentLogger>();
    status = rocksdb::DB::OpenAsSecondary(db_options, dir.string(), std::filesystem::temp_directory_path().string(),
                                          families, &handles, &raw);
  } else {
    status = rocksdb::DB::Open(db_options, dir.string(), families, &handles, &raw);
  }
  if (!status.ok()) return from_status(status);
  auto log = std::make_unique<RocksLog>(std::move(env), std::unique_ptr<rocksdb::DB>(raw), std::move(handles), options);
  if (auto recovered = log->recover(); !recovered) return recovered.error();
  return std::unique_ptr<Log>(std::move(log));
}

}  // namespace tessera::eventstore
