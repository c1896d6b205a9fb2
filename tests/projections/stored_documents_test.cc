// The read models' stored documents as RocksDB holds them (binary:
// src/stored_form.cc): one that does not read is a corruption naming its key
// and the field, never an exception; a database of an earlier layout is
// rebuilt; a summary's zero counts are the domain's list of statuses.
#include <gtest/gtest.h>
#include <rocksdb/db.h>

#include <functional>
#include <map>
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

  // Closes the models, changes the bytes of one stored document, opens
  // them again.
  void tamper(const std::string& key, const std::function<void(std::string&)>& change) {
    models.reset();
    rewrite(dir.path(), key, [&](const std::string& value) {
      std::string changed = value;
      change(changed);
      return changed;
    });
    models = open_models(dir.path());
    ASSERT_TRUE(models);
  }

  // A code of a fresh batch of one, in contract c1; its key.
  std::string one_code() {
    run(d::CreateContract{w.org, d::ContractId("c1"), "Contract", false, std::nullopt});
    d::GenerateBatch g;
    g.org = w.org;
    g.batch = d::BatchId("b1");
    g.contract = d::ContractId("c1");
    g.quantity = 1;
    g.codes = w.fresh_codes(1);
    run(g);
    return g.codes[0].key;
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

TEST_F(StoredDocuments, ADocumentCutShortIsACorruptionNamingTheKeyAndTheField) {
  run(d::CreateContract{w.org, d::ContractId("c1"), "Contract", true, std::nullopt});
  const std::string key = "d/contract-acme-c1";
  // Its last field, the default price, is absent: one byte, cut off.
  tamper(key, [](std::string& stored) { stored.pop_back(); });

  const auto read = models->contract(w.org, d::ContractId("c1"));
  ASSERT_FALSE(read);
  EXPECT_TRUE(IsCorruptionNaming(read.error(), key, "default_price"));

  // Folding into it fails the same way and leaves the models as they were.
  const auto checkpoint = models->checkpoint();
  const auto applied = models->apply(record(d::ConfigureContract{w.org, d::ContractId("c1"), "Renamed", false, {}}));
  ASSERT_FALSE(applied);
  EXPECT_TRUE(IsCorruptionNaming(applied.error(), key, "default_price"));
  EXPECT_EQ(models->checkpoint(), checkpoint);
}

TEST_F(StoredDocuments, AnUnreadableValueIsACorruptionNamingIt) {
  run(d::CreateSession{w.org, d::SessionId("s1"), "Session", 4, std::nullopt, std::nullopt});
  const std::string key = "d/session-acme-s1";
  // The last field, the registered count (0: one byte), made a count that
  // goes on past the end.
  tamper(key, [](std::string& stored) { stored.back() = '\x80'; });
  const auto seats = models->seats(w.org, d::SessionId("s1"));
  ASSERT_FALSE(seats);
  EXPECT_TRUE(IsCorruptionNaming(seats.error(), key, "registered"));
  const auto session = models->session(w.org, d::SessionId("s1"));
  ASSERT_FALSE(session);
  EXPECT_TRUE(IsCorruptionNaming(session.error(), key, "registered"));
  // The roster reads the session too (that it exists), not its fields.
  EXPECT_TRUE(models->roster(w.org, d::SessionId("s1")));
}

TEST_F(StoredDocuments, ABooleanThatIsNeitherIsACorruptionNamingIt) {
  run(d::CreateContract{w.org, d::ContractId("c1"), "Contract", true, std::nullopt});
  const std::string key = "d/contract-acme-c1";
  // reuse_cancelled_codes, just before the absent default price.
  tamper(key, [](std::string& stored) { stored[stored.size() - 2] = '\x07'; });
  const auto read = models->contract(w.org, d::ContractId("c1"));
  ASSERT_FALSE(read);
  EXPECT_TRUE(IsCorruptionNaming(read.error(), key, "reuse_cancelled_codes"));
}

TEST_F(StoredDocuments, ANestedFieldIsNamedWithItsPath) {
  const std::string code_key = one_code();
  const std::string key = "d/code-" + code_key;
  // The code's last field is its batch's terms, whose last is max_uses (1).
  tamper(key, [](std::string& stored) { stored.pop_back(); });
  const auto code = models->code(w.org, code_key);
  ASSERT_FALSE(code);
  EXPECT_TRUE(IsCorruptionNaming(code.error(), key, "terms.max_uses"));
  const auto page = models->codes(w.org, {}, std::nullopt, 10);
  ASSERT_FALSE(page);
  EXPECT_TRUE(IsCorruptionNaming(page.error(), key, "terms.max_uses"));
}

TEST_F(StoredDocuments, EveryCutAndAnyTrailingByteIsACorruption) {
  const std::string code_key = one_code();
  const std::string key = "d/code-" + code_key;
  models.reset();
  std::string stored;
  rewrite(dir.path(), key, [&](const std::string& value) {
    stored = value;
    return value;
  });
  std::vector<std::string> damaged;
  for (std::size_t size = 0; size < stored.size(); ++size) damaged.push_back(stored.substr(0, size));
  damaged.push_back(stored + '\0');
  for (const auto& bytes : damaged) {
    rewrite(dir.path(), key, [&](const std::string&) { return bytes; });
    models = open_models(dir.path());
    ASSERT_TRUE(models);
    const auto code = models->code(w.org, code_key);
    ASSERT_FALSE(code) << bytes.size() << " bytes of " << stored.size() << " read";
    EXPECT_TRUE(IsCorruptionNaming(code.error(), key, "")) << code.error().message();
    models.reset();
  }
}

TEST_F(StoredDocuments, BytesOfAnotherKindAreACorruption) {
  run(d::CreateContract{w.org, d::ContractId("c1"), "Contract", false, std::nullopt});
  models.reset();
  // What layout 3 stored: JSON.
  rewrite(dir.path(), "d/contract-acme-c1", [](const std::string&) { return std::string(R"({"v":1})"); });
  models = open_models(dir.path());
  const auto read = models->contract(w.org, d::ContractId("c1"));
  ASSERT_FALSE(read);
  EXPECT_TRUE(IsCorruptionNaming(read.error(), "d/contract-acme-c1", "kind"));
}

TEST_F(StoredDocuments, ASummaryStartsAtZeroForEveryStatusOfTheDomain) {
  run(d::CreateContract{w.org, d::ContractId("c1"), "Contract", false, std::nullopt});
  const auto summary = models->summary(w.org, d::ContractId("c1"));
  ASSERT_TRUE(summary && summary.value());
  json expected = {{"total", 0}};
  for (const auto status : d::kCodeStatuses) expected[std::string(d::to_string(status))] = 0;
  EXPECT_EQ(*summary.value(), expected);
}

// Layout 2 stored {"v", "b", "x"}, layout 3 the documents as JSON: such a
// database is emptied on open and rebuilt from the log, not misread.
TEST(StoredDocumentsLayout, ADatabaseOfAnEarlierLayoutIsRebuiltFromTheStart) {
  const std::map<std::string, std::string> contracts = {
      {"2", R"({"v":1,"b":{"id":"c1","org":"acme","name":"Old","reuse_cancelled_codes":false,"default_price":null}})"},
      {"3", R"({"v":1,"org":"acme","id":"c1","name":"Old","reuse_cancelled_codes":false,"default_price":null})"}};
  for (const auto& [layout, contract_json] : contracts) {
    TempDir dir{"tessera-stored-documents"};
    {
      rocksdb::Options options;
      options.create_if_missing = true;
      rocksdb::DB* raw = nullptr;
      ASSERT_TRUE(rocksdb::DB::Open(options, dir.path().string(), &raw).ok());
      std::unique_ptr<rocksdb::DB> db(raw);
      ASSERT_TRUE(db->Put(rocksdb::WriteOptions(), "meta/layout", layout).ok());
      ASSERT_TRUE(db->Put(rocksdb::WriteOptions(), "checkpoint", "3").ok());
      ASSERT_TRUE(db->Put(rocksdb::WriteOptions(), "d/contract-acme-c1", contract_json).ok());
    }
    auto models = open_models(dir.path());
    ASSERT_TRUE(models);
    EXPECT_EQ(models->checkpoint().value, 0u) << "layout " << layout;
    const auto contract = models->contract(d::OrgId("acme"), d::ContractId("c1"));
    ASSERT_TRUE(contract) << contract.error().message();
    EXPECT_FALSE(contract.value()) << "layout " << layout;
  }
}

}  // namespace
}  // namespace tessera::test_support
