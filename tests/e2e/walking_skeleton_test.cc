// End to end: tesserad as a process, HTTP over a socket, the log on disk, the
// events read back from the embedded Kafka broker by a separate consumer.
#include <gtest/gtest.h>

#include <set>

#include "../support/http_client.h"
#include "../support/kafka_reader.h"
#include "../support/problem.h"
#include "../support/server_process.h"
#include "../support/temp_dir.h"

namespace tessera::test_support {
namespace {

using nlohmann::json;

class WalkingSkeleton : public ::testing::Test {
 protected:
  TempDir dir_;
  ServerProcess server_{TESSERAD_PATH, dir_.path() / "data"};
  HttpClient http_{"127.0.0.1", server_.port()};

  json create(const std::string& target, const json& body) {
    const auto r = http_.post(target, body);
    EXPECT_EQ(r.status, 201) << target << ": " << r.body;
    EXPECT_EQ(r.headers.count("location"), 1U);
    return r.json();
  }
};

TEST_F(WalkingSkeleton, RedeemsOnceCountsSeatsAndPublishesEveryEvent) {
  const json contract = create("/v1/orgs/acme/contracts", {{"name", "Acme 2027"}});
  const json session =
      create("/v1/orgs/acme/sessions", {{"name", "Onboarding"}, {"capacity", 10}, {"contract_id", contract["id"]}});
  const json batch =
      create("/v1/orgs/acme/contracts/" + contract["id"].get<std::string>() + "/batches",
             {{"quantity", 5}, {"session_id", session["id"]}, {"price", {{"amount", 4900}, {"currency", "EUR"}}}});
  ASSERT_EQ(batch["codes"].size(), 5U);
  std::set<std::string> distinct;
  for (const auto& c : batch["codes"]) distinct.insert(c["code"].get<std::string>());
  EXPECT_EQ(distinct.size(), 5U);

  const std::string code = batch["codes"][0]["code"];
  const json redemption = {{"code", code}, {"participant", {{"email", "ada@example.com"}, {"name", "Ada"}}}};
  const auto first = http_.post("/v1/orgs/acme/redemptions", redemption);
  ASSERT_EQ(first.status, 201) << first.body;
  EXPECT_EQ(first.json()["session_id"], session["id"]);
  EXPECT_EQ(first.json()["price"], json({{"amount", 4900}, {"currency", "EUR"}}));
  EXPECT_EQ(first.json()["status"], "active");

  const auto again = http_.post("/v1/orgs/acme/redemptions", redemption);
  EXPECT_TRUE(IsProblem(again, 409, "code-exhausted"));

  const auto seats = http_.get("/v1/orgs/acme/sessions/" + session["id"].get<std::string>() + "/seats");
  ASSERT_EQ(seats.status, 200) << seats.body;
  EXPECT_EQ(seats.json(), json({{"capacity", 10}, {"reserved", 0}, {"registered", 1}, {"available", 9}}));

  // Contract, session, batch, 5 codes, then the redemption's three events.
  const auto status = http_.get("/v1/status").json();
  EXPECT_EQ(status["log_position"], 1 + 1 + 1 + 5 + 3);
  const std::string bootstrap = status.at("kafka_bootstrap");
  const auto messages = read_messages(
      bootstrap, {"tessera.contracts", "tessera.sessions", "tessera.batches", "tessera.codes", "tessera.registrations"},
      status["log_position"].get<std::size_t>(), std::chrono::seconds(30));
  std::set<std::uint64_t> positions;
  for (const auto& m : messages) positions.insert(std::stoull(m.headers.at("tessera_position")));
  EXPECT_EQ(positions.size(), status["log_position"].get<std::size_t>());
  EXPECT_EQ(*positions.begin(), 1U);
  EXPECT_EQ(*positions.rbegin(), status["log_position"].get<std::uint64_t>());
}

// The sample of an unlabelled metric in GET /metrics' text, after checking
// that it is declared a counter.
double counter_in(const std::string& metrics, const std::string& name) {
  EXPECT_NE(metrics.find("# TYPE " + name + " counter\n"), std::string::npos) << name << " in\n" << metrics;
  const auto line = metrics.find("\n" + name + " ");
  if (line == std::string::npos) {
    ADD_FAILURE() << name << " missing from\n" << metrics;
    return 0;
  }
  return std::stod(metrics.substr(line + name.size() + 2));
}

TEST_F(WalkingSkeleton, MetricsCountTheLogsGroupCommitsAndTheTimeItsSyncsTake) {
  const auto before = http_.get("/metrics").body;
  create("/v1/orgs/acme/contracts", {{"name", "One"}});
  create("/v1/orgs/acme/contracts", {{"name", "Two"}});
  const auto after = http_.get("/metrics").body;
  // One answered before the next was sent: two group commits, each synced.
  EXPECT_GE(
      counter_in(after, "tessera_log_group_commits_total") - counter_in(before, "tessera_log_group_commits_total"),
      2.0);
  EXPECT_GE(counter_in(after, "tessera_log_syncs_total") - counter_in(before, "tessera_log_syncs_total"), 2.0);
  EXPECT_GT(counter_in(after, "tessera_log_sync_seconds_total"), counter_in(before, "tessera_log_sync_seconds_total"));
}

TEST_F(WalkingSkeleton, StateSurvivesARestart) {
  const json contract = create("/v1/orgs/acme/contracts", {{"name", "Acme"}});
  const json session = create("/v1/orgs/acme/sessions", {{"name", "S"}, {"capacity", 3}});
  const json batch = create("/v1/orgs/acme/contracts/" + contract["id"].get<std::string>() + "/batches",
                            {{"quantity", 1}, {"session_id", session["id"]}});
  const std::string code = batch["codes"][0]["code"];
  ASSERT_EQ(http_.post("/v1/orgs/acme/redemptions", {{"code", code}, {"participant", {{"email", "a@b.co"}}}}).status,
            201);
  server_.stop(SIGKILL);

  ServerProcess restarted(TESSERAD_PATH, dir_.path() / "data");
  HttpClient http("127.0.0.1", restarted.port());
  const auto again = http.post("/v1/orgs/acme/redemptions", {{"code", code}, {"participant", {{"email", "a@b.co"}}}});
  EXPECT_EQ(again.status, 409);
  EXPECT_EQ(problem_slug(again), "code-exhausted");
  const auto seats = http.get("/v1/orgs/acme/sessions/" + session["id"].get<std::string>() + "/seats").json();
  EXPECT_EQ(seats["registered"], 1);
  EXPECT_EQ(seats["available"], 2);
}

TEST_F(WalkingSkeleton, BadInputGetsAProblemAndChangesNothing) {
  const auto before = http_.get("/v1/status").json()["log_position"];
  struct Case {
    std::string method, target, body;
    int status;
    std::string slug;
  };
  const std::vector<Case> cases = {
      {"POST", "/v1/orgs/acme/contracts", "{not json", 400, "malformed-json"},
      {"POST", "/v1/orgs/acme/contracts", R"({"name": 7})", 422, "validation"},
      {"POST", "/v1/orgs/acme/contracts", R"({})", 422, "validation"},
      {"POST", "/v1/orgs/acme/contracts", R"({"name":"x","default_price":{"amount":5,"currency":"euro"}})", 422,
       "validation"},
      {"POST", "/v1/orgs/acme/sessions", R"({"name":"s"})", 422, "validation"},
      {"POST", "/v1/orgs/acme/sessions", R"({"name":"s","capacity":-1})", 422, "validation"},
      {"POST", "/v1/orgs/acme/sessions", R"({"name":"s","capacity":2,"contract_id":"nope"})", 404, "contract-unknown"},
      {"POST", "/v1/orgs/acme/contracts/nope/batches", R"({"quantity":1})", 404, "contract-unknown"},
      {"POST", "/v1/orgs/acme/redemptions", R"({"code":"7K4Q-M9XD-2HFA-0","participant":{"email":"a@b.co"}})", 422,
       "code-malformed"},
      {"POST", "/v1/orgs/acme/redemptions", R"({"code":"0000-0000-0000-0","participant":{"email":"a@b.co"}})", 404,
       "code-unknown"},
      {"POST", "/v1/orgs/acme/redemptions", R"({"code":"0000-0000-0000-0"})", 422, "validation"},
      {"GET", "/v1/orgs/acme/sessions/nope/seats", "", 404, "session-unknown"},
      {"GET", "/v1/orgs/acme/redemptions", "", 405, "method-not-allowed"},
      {"GET", "/v1/nothing/here", "", 404, "not-found"},
  };
  for (const auto& c : cases) {
    const auto r = http_.send(c.method, c.target, c.body, {{"content-type", "application/json"}});
    EXPECT_TRUE(IsProblem(r, c.status, c.slug)) << c.method << " " << c.target << " " << c.body;
    EXPECT_EQ(r.json()["status"], c.status);
  }
  EXPECT_EQ(http_.get("/v1/status").json()["log_position"], before);
}

TEST_F(WalkingSkeleton, AFullSessionRefusesTheNextRedemption) {
  const json contract = create("/v1/orgs/acme/contracts", {{"name", "Acme"}});
  const json session = create("/v1/orgs/acme/sessions", {{"name", "Tiny"}, {"capacity", 1}});
  const json batch = create("/v1/orgs/acme/contracts/" + contract["id"].get<std::string>() + "/batches",
                            {{"quantity", 2}, {"session_id", session["id"]}});
  const auto ok = http_.post("/v1/orgs/acme/redemptions",
                             {{"code", batch["codes"][0]["code"]}, {"participant", {{"email", "a@b.co"}}}});
  ASSERT_EQ(ok.status, 201) << ok.body;
  const auto full = http_.post("/v1/orgs/acme/redemptions",
                               {{"code", batch["codes"][1]["code"]}, {"participant", {{"email", "c@d.co"}}}});
  EXPECT_EQ(full.status, 409);
  EXPECT_EQ(problem_slug(full), "session-full");
}

TEST_F(WalkingSkeleton, AnotherOrganisationsCodeIsUnknown) {
  const json contract = create("/v1/orgs/acme/contracts", {{"name", "Acme"}});
  const json session = create("/v1/orgs/acme/sessions", {{"name", "S"}, {"capacity", 5}});
  const json batch = create("/v1/orgs/acme/contracts/" + contract["id"].get<std::string>() + "/batches",
                            {{"quantity", 1}, {"session_id", session["id"]}});
  const auto r = http_.post("/v1/orgs/globex/redemptions",
                            {{"code", batch["codes"][0]["code"]}, {"participant", {{"email", "a@b.co"}}}});
  EXPECT_EQ(r.status, 404);
  EXPECT_EQ(problem_slug(r), "code-unknown");
}

}  // namespace
}  // namespace tessera::test_support
