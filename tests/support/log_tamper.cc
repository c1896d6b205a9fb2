#include "log_tamper.h"

#include <rocksdb/db.h>

#include <memory>
#include <vector>

namespace tessera::test_support {
namespace {

// The log's RocksDB, opened with every column family (RocksDB opens a
// database only with all of them); `family` is the one the caller changes.
struct RawLog {
  std::unique_ptr<rocksdb::DB> db;
  std::vector<rocksdb::ColumnFamilyHandle*> handles;
  rocksdb::ColumnFamilyHandle* family = nullptr;
};

// What went wrong, or an empty string when `log` is open.
std::string open_raw(const std::filesystem::path& log_dir, const std::string& family, RawLog& log) {
  std::vector<std::string> names;
  if (!rocksdb::DB::ListColumnFamilies(rocksdb::DBOptions(), log_dir.string(), &names).ok()) return "no database";
  std::vector<rocksdb::ColumnFamilyDescriptor> families;
  std::size_t wanted = names.size();
  for (std::size_t i = 0; i < names.size(); ++i) {
    families.emplace_back(names[i], rocksdb::ColumnFamilyOptions());
    if (names[i] == family) wanted = i;
  }
  if (wanted == names.size()) return "no " + family + " column family";
  rocksdb::DB* raw = nullptr;
  if (!rocksdb::DB::Open(rocksdb::DBOptions(), log_dir.string(), families, &log.handles, &raw).ok()) {
    return "cannot open";
  }
  log.db.reset(raw);
  log.family = log.handles[wanted];
  return "";
}

// What went wrong, or an empty string when `log` closed cleanly.
std::string close_raw(RawLog& log) {
  bool ok = true;
  for (auto* h : log.handles) ok = log.db->DestroyColumnFamilyHandle(h).ok() && ok;
  ok = log.db->Close().ok() && ok;
  return ok ? "" : "cannot close";
}

}  // namespace

std::string tamper_payload(const std::filesystem::path& log_dir, std::uint64_t position, const std::string& payload) {
  RawLog log;
  if (auto error = open_raw(log_dir, "events", log); !error.empty()) return error;
  std::string error;
  // Positions are big-endian 8-byte keys.
  std::string key(8, '\0');
  for (int i = 7; i >= 0; --i, position >>= 8U) key[static_cast<std::size_t>(i)] = static_cast<char>(position & 0xFFU);
  std::string value;
  if (!log.db->Get(rocksdb::ReadOptions(), log.family, key, &value).ok()) {
    error = "no record at that position";
  } else if (const auto at = value.find(payload); at == std::string::npos) {
    error = "payload not found in the record";
  } else {
    value[at + payload.size() / 2] ^= 0x01;
    rocksdb::WriteOptions wo;
    wo.sync = true;
    if (!log.db->Put(wo, log.family, key, value).ok()) error = "cannot write the record";
  }
  auto closed = close_raw(log);
  return error.empty() ? closed : error;
}

std::string forget_kept_answers(const std::filesystem::path& log_dir) {
  RawLog log;
  if (auto error = open_raw(log_dir, "meta", log); !error.empty()) return error;
  std::string error;
  std::size_t deleted = 0;
  {
    std::unique_ptr<rocksdb::Iterator> it(log.db->NewIterator(rocksdb::ReadOptions(), log.family));
    for (it->Seek("idem."); it->Valid() && it->key().starts_with("idem."); it->Next()) {
      rocksdb::WriteOptions wo;
      wo.sync = true;
      if (!log.db->Delete(wo, log.family, it->key()).ok()) {
        error = "cannot delete a kept answer";
        break;
      }
      ++deleted;
    }
  }
  if (error.empty() && deleted == 0) error = "no kept answer to forget";
  auto closed = close_raw(log);
  return error.empty() ? closed : error;
}

}  // namespace tessera::test_support
