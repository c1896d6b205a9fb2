#include "log_tamper.h"

#include <rocksdb/db.h>

#include <memory>
#include <vector>

namespace tessera::test_support {

std::string tamper_payload(const std::filesystem::path& log_dir, std::uint64_t position, const std::string& payload) {
  std::vector<std::string> names;
  if (!rocksdb::DB::ListColumnFamilies(rocksdb::DBOptions(), log_dir.string(), &names).ok()) return "no database";
  std::vector<rocksdb::ColumnFamilyDescriptor> families;
  std::size_t events = names.size();
  for (std::size_t i = 0; i < names.size(); ++i) {
    families.emplace_back(names[i], rocksdb::ColumnFamilyOptions());
    if (names[i] == "events") events = i;
  }
  if (events == names.size()) return "no events column family";
  std::vector<rocksdb::ColumnFamilyHandle*> handles;
  rocksdb::DB* raw = nullptr;
  if (!rocksdb::DB::Open(rocksdb::DBOptions(), log_dir.string(), families, &handles, &raw).ok()) return "cannot open";
  std::unique_ptr<rocksdb::DB> db(raw);
  std::string error;
  // Positions are big-endian 8-byte keys.
  std::string key(8, '\0');
  for (int i = 7; i >= 0; --i, position >>= 8U) key[static_cast<std::size_t>(i)] = static_cast<char>(position & 0xFFU);
  std::string value;
  if (!db->Get(rocksdb::ReadOptions(), handles[events], key, &value).ok()) {
    error = "no record at that position";
  } else if (const auto at = value.find(payload); at == std::string::npos) {
    error = "payload not found in the record";
  } else {
    value[at + payload.size() / 2] ^= 0x01;
    rocksdb::WriteOptions wo;
    wo.sync = true;
    if (!db->Put(wo, handles[events], key, value).ok()) error = "cannot write the record";
  }
  for (auto* h : handles) db->DestroyColumnFamilyHandle(h);
  db->Close();
  return error;
}

}  // namespace tessera::test_support
