// tessera-admin run as a process over a real log on disk: verify passes an
// intact log (also while a writer holds it open), names the first tampered
// position, dump prints what the log holds, and rebuild deletes the read
// models only when no tesserad runs, after which tesserad rebuilds them.
#include <gtest/gtest.h>

#include <filesystem>
#include <sstream>
#include <string>
#include <vector>

#include "../support/http_client.h"
#include "../support/log_tamper.h"
#include "../support/run_command.h"
#include "../support/server_process.h"
#include "../support/temp_dir.h"
#include "tessera/eventstore/log.h"

namespace tessera::test_support {
namespace {

namespace es = tessera::eventstore;
using nlohmann::json;

CommandResult admin(std::vector<std::string> args) {
  args.insert(args.begin(), TESSERA_ADMIN_PATH);
  return run_command(args);
}

std::vector<json> json_lines(const std::string& text) {
  std::vector<json> out;
  std::istringstream in(text);
  for (std::string line; std::getline(in, line);) out.push_back(json::parse(line));
  return out;
}

class Admin : public ::testing::Test {
 protected:
  TempDir dir_{"tessera-admin-test"};
  const std::filesystem::path data_ = dir_.path() / "data";

  // Five events: a@1 {"n":1}, b@1 {"n":2}, a@2 {"n":3}, b@2 {"n":4}, a@3 {"n":5}.
  std::unique_ptr<es::Log> five_events() {
    auto log = es::Log::open(data_ / "log").value();
    for (int n = 1; n <= 5; ++n) {
      es::AppendRequest request;
      request.writes.push_back(
          es::StreamWrite{n % 2 == 1 ? "a" : "b",
                          std::nullopt,
                          {es::ProposedEvent{"Counted", 1, R"({"n":)" + std::to_string(n) + R"(,"text":"payload"})"}}});
      request.recorded_at_micros = 1'700'000'000'000'000 + n;
      EXPECT_TRUE(log->append(request));
    }
    return log;
  }
};

TEST_F(Admin, VerifyOnAnIntactLogExitsZero) {
  five_events().reset();
  const auto run = admin({"verify", "--data-dir", data_.string()});
  ASSERT_EQ(run.exit_code, 0) << run.out << run.err;
  EXPECT_EQ(json::parse(run.out), (json{{"checked", 5}, {"broken", nullptr}, {"head", 5}}));
}

TEST_F(Admin, VerifyRunsBesideAWriterThatHoldsTheLogOpen) {
  const auto log = five_events();
  const auto run = admin({"verify", "--data-dir", data_.string()});
  ASSERT_EQ(run.exit_code, 0) << run.out << run.err;
  EXPECT_EQ(json::parse(run.out), (json{{"checked", 5}, {"broken", nullptr}, {"head", 5}}));
  EXPECT_EQ(log->head().value, 5U);
}

TEST_F(Admin, VerifyOnATamperedLogNamesTheBrokenPositionAndExitsOne) {
  five_events().reset();
  ASSERT_EQ(tamper_payload(data_ / "log", 3, R"({"n":3,"text":"payload"})"), "");
  const auto run = admin({"verify", "--data-dir", data_.string()});
  ASSERT_EQ(run.exit_code, 1) << run.out << run.err;
  EXPECT_EQ(json::parse(run.out), (json{{"checked", 2}, {"broken", 3}, {"head", 5}}));
}

TEST_F(Admin, VerifyWithoutALogExitsTwoAndCreatesNothing) {
  const auto run = admin({"verify", "--data-dir", data_.string()});
  EXPECT_EQ(run.exit_code, 2) << run.out << run.err;
  EXPECT_TRUE(run.out.empty()) << run.out;
  EXPECT_NE(run.err.find("cannot open the log"), std::string::npos) << run.err;
  EXPECT_FALSE(std::filesystem::exists(data_));
}

TEST_F(Admin, UsageErrorsExitTwo) {
  EXPECT_EQ(admin({}).exit_code, 2);
  EXPECT_EQ(admin({"verify"}).exit_code, 2);
  EXPECT_EQ(admin({"frobnicate", "--data-dir", data_.string()}).exit_code, 2);
  EXPECT_EQ(admin({"dump", "--data-dir", data_.string(), "--limit", "many"}).exit_code, 2);
  EXPECT_EQ(admin({"--help"}).exit_code, 0);
}

TEST_F(Admin, DumpPrintsOneJsonLinePerEvent) {
  std::vector<es::RecordedEvent> events;
  {
    const auto log = five_events();
    events = log->read_all(es::Position{0}, 100).value();
  }
  const auto run = admin({"dump", "--data-dir", data_.string()});
  ASSERT_EQ(run.exit_code, 0) << run.err;
  const auto lines = json_lines(run.out);
  ASSERT_EQ(lines.size(), 5U) << run.out;
  static constexpr char kHex[] = "0123456789abcdef";
  for (std::size_t i = 0; i < lines.size(); ++i) {
    const auto& line = lines[i];
    const auto& event = events[i];
    std::string hash;
    for (const unsigned char b : event.hash) {
      hash.push_back(kHex[b >> 4U]);
      hash.push_back(kHex[b & 15U]);
    }
    EXPECT_EQ(line.at("position"), i + 1);
    EXPECT_EQ(line.at("stream"), event.stream);
    EXPECT_EQ(line.at("version"), event.version.value);
    EXPECT_EQ(line.at("type"), "Counted");
    EXPECT_EQ(line.at("payload"), json::parse(event.payload)) << "the payload is JSON, not a string";
    EXPECT_EQ(line.at("hash"), hash);
  }
  EXPECT_EQ(lines[0].at("recorded_at"), "2023-11-14T22:13:20.000001Z");
}

TEST_F(Admin, DumpSelectsByPositionLimitAndStream) {
  five_events().reset();
  const auto field = [](const std::vector<json>& lines, const char* name) {
    std::vector<json> out;
    for (const auto& line : lines) out.push_back(line.at(name));
    return out;
  };
  const auto from = admin({"dump", "--data-dir", data_.string(), "--from", "3", "--limit", "2"});
  ASSERT_EQ(from.exit_code, 0) << from.err;
  EXPECT_EQ(field(json_lines(from.out), "position"), (std::vector<json>{3, 4}));

  const auto stream = admin({"dump", "--data-dir", data_.string(), "--stream", "a", "--from", "2"});
  ASSERT_EQ(stream.exit_code, 0) << stream.err;
  const auto a = json_lines(stream.out);
  EXPECT_EQ(field(a, "position"), (std::vector<json>{3, 5}));
  EXPECT_EQ(field(a, "version"), (std::vector<json>{2, 3}));

  const auto beyond = admin({"dump", "--data-dir", data_.string(), "--from", "6"});
  ASSERT_EQ(beyond.exit_code, 0) << beyond.err;
  EXPECT_TRUE(beyond.out.empty()) << beyond.out;

  const auto unknown = admin({"dump", "--data-dir", data_.string(), "--stream", "nope"});
  ASSERT_EQ(unknown.exit_code, 0) << unknown.err;
  EXPECT_TRUE(unknown.out.empty()) << unknown.out;
}

TEST_F(Admin, RebuildRefusesWhileTesseradRunsAndTesseradRebuildsAfterIt) {
  std::string contract;
  {
    ServerProcess server(TESSERAD_PATH, data_, {"--kafka", "none"});
    HttpClient http("127.0.0.1", server.port());
    const auto created = http.post("/v1/orgs/acme/contracts", {{"name", "Acme 2027"}});
    ASSERT_EQ(created.status, 201) << created.body;
    contract = created.json().at("id");

    const auto refused = admin({"rebuild", "--data-dir", data_.string()});
    EXPECT_EQ(refused.exit_code, 2) << refused.out << refused.err;
    EXPECT_NE(refused.err.find("is tesserad running"), std::string::npos) << refused.err;
    EXPECT_TRUE(std::filesystem::exists(data_ / "readmodels"));
  }
  const auto rebuilt = admin({"rebuild", "--data-dir", data_.string()});
  ASSERT_EQ(rebuilt.exit_code, 0) << rebuilt.out << rebuilt.err;
  EXPECT_EQ(json::parse(rebuilt.out).at("removed"), (data_ / "readmodels").string());
  EXPECT_FALSE(std::filesystem::exists(data_ / "readmodels"));

  ServerProcess server(TESSERAD_PATH, data_, {"--kafka", "none"});
  HttpClient http("127.0.0.1", server.port());
  const auto read = http.get("/v1/orgs/acme/contracts/" + contract);
  ASSERT_EQ(read.status, 200) << read.body;
  EXPECT_EQ(read.json().at("name"), "Acme 2027");
}

TEST_F(Admin, RebuildWithoutALogExitsTwo) {
  const auto run = admin({"rebuild", "--data-dir", data_.string()});
  EXPECT_EQ(run.exit_code, 2) << run.out << run.err;
  EXPECT_FALSE(std::filesystem::exists(data_));
}

}  // namespace
}  // namespace tessera::test_support
