// The read models' stored documents as RocksDB holds them: one that does not
// read is a corruption naming its key and the field, never an exception; a
// database of the previous layout is rebuilt; a summary's zero counts are the
// domain's list of statuses.
#include <gtest/gtest.h>
#include <rocksdb/db.h>

#include <functional>
#include <memory>
#include <string>

#include "temp_dir.h"
#include "tessera/domain/code_rules.h"
#include "tessera/eventstore/errc.h"
#include "tessera/projections/read_models.h"
#include "world.h"

namespace tessera::test_support {
namespace {

using nlohmann::json;
using projections::ReadModels;

std::unique_ptr<ReadModels> open_models(const std::filesystem::path& dir) {
  auto opened = ReadModels::open(dir);
  if (!opened) {
    ADD_FAILURE() << "open: " << opened.error().message();
    return nullptr;
  }
  return std::move(opened).value();
}

// Rewrites the value at `key` of a closed database.
void rewrite(const std::filesystem::path& dir, const std::string& key,
             const std::function<std::string(const std::string&)>& change) {
  rocksdb::DB* raw = nullptr;
  ASSERT_TRUE(rocksdb::DB::Open(rocksdb::Options(), dir.string(), &raw).ok());
  std::unique_ptr<rocksdb::DB> db(raw);
  std::string value;
  ASSERT_TRUE(db->Get(rocksdb::ReadOptions(), key, &value).ok()) << key;
  ASSERT_TRUE(db->Put(rocksdb::WriteOptions(), key, change(value)).ok());
}

class StoredDocuments : public ::testing::Test {
 protected:
  TempDir dir{"tessera-stored-documents"};
  World w;
  std::unique_ptr<ReadModels> models = open_models(dir.path());

  template <class Command>
  std::vector<RecordedEvent> record(const Command& command) {
    auto decided = w.decide(command);
    EXPECT_TRUE(decided.has_value()) << decided.error().message();
    return decided.has_value() ? w.commit(decided.value()) : std::vector<RecordedEvent>{};
  }
  template <class Command>
  void run(const Command& command) {
    const auto applied = models->apply(record(command));
    ASSERT_TRUE(applied) << applied.error().message();
  }

  // Closes the models, changes one stored document, opens them again.
  void tamper(const std::string& key, const std::function<void(json&)>& change) {
    models.reset();
    rewrite(dir.path(), key, [&](const std::string& value) {
      json doc = json::parse(value);
      change(doc);
      return doc.dump();
    });
    models = open_models(dir.path());
    ASSERT_TRUE(models);
  }
};

::testing::AssertionResult IsCorruptionNaming(const Error& error, const std::string& key, const std::string& field) {
  if (error != eventstore::errc::corruption)
    return ::testing::AssertionFailure() << "not corruption: " << error.message();
  const auto message = error.message();
  if (message.find(key) == std::string::npos || message.find(field) == std::string::npos) {
    return ::testing::AssertionFailure() << "'" << message << "' names not both " << key << " and " << field;
  }
  return ::testing::AssertionSuccess();
}

TEST_F(StoredDocuments, AMissingFieldIsACorruptionNamingTheKeyAndTheField) {
  run(d::CreateContract{w.org, d::ContractId("c1"), "Contract", true, std::nullopt});
  const std::string key = "d/contract-acme-c1";
  tamper(key, [](json& doc) { doc.erase("name"); });

  const auto read = models->contract(w.org, d::ContractId("c1"));
  ASSERT_FALSE(read);
  EXPECT_TRUE(IsCorruptionNaming(read.error(), key, "name"));

  // Folding into it fails the same way and leaves the models as they were.
  const auto checkpoint = models->checkpoint();
  const auto applied = models->apply(record(d::ConfigureContract{w.org, d::ContractId("c1"), "Renamed", false, {}}));
  ASSERT_FALSE(applied);
  EXPECT_TRUE(IsCorruptionNaming(applied.error(), key, "name"));
  EXPECT_EQ(models->checkpoint(), checkpoint);
}

TEST_F(StoredDocuments, AMistypedFieldIsACorruptionNamingIt) {
  run(d::CreateSession{w.org, d::SessionId("s1"), "Session", 4, std::nullopt, std::nullopt});
  const std::string key = "d/session-acme-s1";
  tamper(key, [](json& doc) { doc["capacity"] = "four"; });
  const auto seats = models->seats(w.org, d::SessionId("s1"));
  ASSERT_FALSE(seats);
  EXPECT_TRUE(IsCorruptionNaming(seats.error(), key, "capacity"));
  const auto session = models->session(w.org, d::SessionId("s1"));
  ASSERT_FALSE(session);
  EXPECT_TRUE(IsCorruptionNaming(session.error(), key, "capacity"));
  // The roster reads the session too (that it exists), not its fields.
  EXPECT_TRUE(models->roster(w.org, d::SessionId("s1")));
}

TEST_F(StoredDocuments, ANestedFieldIsNamedWithItsPath) {
  run(d::CreateContract{w.org, d::ContractId("c1"), "Contract", false, std::nullopt});
  d::GenerateBatch g;
  g.org = w.org;
  g.batch = d::BatchId("b1");
  g.contract = d::ContractId("c1");
  g.quantity = 1;
  g.codes = w.fresh_codes(1);
  run(g);
  const std::string key = "d/code-" + g.codes[0].key;
  tamper(key, [](json& doc) { doc["terms"].erase("max_uses"); });
  const auto code = models->code(w.org, g.codes[0].key);
  ASSERT_FALSE(code);
  EXPECT_TRUE(IsCorruptionNaming(code.error(), key, "terms.max_uses"));
  const auto page = models->codes(w.org, {}, std::nullopt, 10);
  ASSERT_FALSE(page);
  EXPECT_TRUE(IsCorruptionNaming(page.error(), key, "terms.max_uses"));
}

TEST_F(StoredDocuments, TextThatIsNotJsonIsACorruption) {
  run(d::CreateContract{w.org, d::ContractId("c1"), "Contract", false, std::nullopt});
  models.reset();
  rewrite(dir.path(), "d/contract-acme-c1", [](const std::string&) { return std::string("{not json"); });
  models = open_models(dir.path());
  const auto read = models->contract(w.org, d::ContractId("c1"));
  ASSERT_FALSE(read);
  EXPECT_TRUE(IsCorruptionNaming(read.error(), "d/contract-acme-c1", "JSON"));
}

TEST_F(StoredDocuments, ASummaryStartsAtZeroForEveryStatusOfTheDomain) {
  run(d::CreateContract{w.org, d::ContractId("c1"), "Contract", false, std::nullopt});
  const auto summary = models->summary(w.org, d::ContractId("c1"));
  ASSERT_TRUE(summary && summary.value());
  json expected = {{"total", 0}};
  for (const auto status : d::kCodeStatuses) expected[std::string(d::to_string(status))] = 0;
  EXPECT_EQ(*summary.value(), expected);
}

// Layout 2 stored {"v", "b", "x"}: such a database is emptied on open and
// rebuilt from the log, not misread.
TEST(StoredDocumentsLayout, ADatabaseOfLayoutTwoIsRebuiltFromTheStart) {
  TempDir dir{"tessera-stored-documents"};
  {
    rocksdb::Options options;
    options.create_if_missing = true;
    rocksdb::DB* raw = nullptr;
    ASSERT_TRUE(rocksdb::DB::Open(options, dir.path().string(), &raw).ok());
    std::unique_ptr<rocksdb::DB> db(raw);
    ASSERT_TRUE(db->Put(rocksdb::WriteOptions(), "meta/layout", "2").ok());
    ASSERT_TRUE(db->Put(rocksdb::WriteOptions(), "checkpoint", "3").ok());
    ASSERT_TRUE(db->Put(rocksdb::WriteOptions(), "d/contract-acme-c1",
                        R"({"v":1,"b":{"id":"c1","org":"acme","name":"Old","reuse_cancelled_codes":false,)"
                        R"("default_price":null}})")
                    .ok());
  }
  auto models = open_models(dir.path());
  ASSERT_TRUE(models);
  EXPECT_EQ(models->checkpoint().value, 0u);
  const auto contract = models->contract(d::OrgId("acme"), d::ContractId("c1"));
  ASSERT_TRUE(contract) << contract.error().message();
  EXPECT_FALSE(contract.value());
}

}  // namespace
}  // namespace tessera::test_support
