// End to end: Idempotency-Key on POSTs (docs/architecture.md, the promise that
// a retried key never applies twice: a retry with the same key returns the
// first answer and changes nothing), with tesserad as a process, killed with SIGKILL and restarted on
// the same data directory.
#include <gtest/gtest.h>

#include <barrier>
#include <optional>
#include <thread>
#include <tuple>

#include "../support/http_client.h"
#include "../support/log_tamper.h"
#include "../support/problem.h"
#include "../support/server_process.h"
#include "../support/temp_dir.h"

namespace tessera::test_support {
namespace {

using nlohmann::json;

class Idempotency : public ::testing::Test {
 protected:
  TempDir dir_;
  std::optional<ServerProcess> server_{std::in_place, TESSERAD_PATH, dir_.path() / "data",
                                       std::vector<std::string>{"--kafka", "none"}};
  HttpClient http_{"127.0.0.1", server_->port()};

  // kill -9, then the same data directory again.
  void crash_and_restart(bool lose_kept_answers = false) {
    server_->stop(SIGKILL);
    server_.reset();
    if (lose_kept_answers) {
      EXPECT_EQ(forget_kept_answers(dir_.path() / "data" / "log"), "");
    }
    server_.emplace(TESSERAD_PATH, dir_.path() / "data", std::vector<std::string>{"--kafka", "none"});
    http_ = HttpClient("127.0.0.1", server_->port());
  }

  HttpResponse post(const std::string& target, const std::string& body, const std::string& key) const {
    return http_.send("POST", target, body, {{"content-type", "application/json"}, {"Idempotency-Key", key}});
  }

  std::uint64_t log_position() const { return http_.get("/v1/status").json().at("log_position"); }

  json seats(const std::string& session) const {
    return http_.get("/v1/orgs/acme/sessions/" + session + "/seats").json();
  }

  json create(const std::string& target, const json& body) const {
    const auto r = http_.post(target, body);
    EXPECT_EQ(r.status, 201) << target << ": " << r.body;
    return r.json();
  }

  // A contract, a session of `capacity` seats and `codes` codes of `max_uses`
  // uses each for it: the session's id and the codes.
  std::pair<std::string, std::vector<std::string>> setup(int capacity, int codes, int max_uses) {
    const json contract = create("/v1/orgs/acme/contracts", {{"name", "Acme"}});
    const json session = create("/v1/orgs/acme/sessions", {{"name", "S"}, {"capacity", capacity}});
    const json batch = create("/v1/orgs/acme/contracts/" + contract["id"].get<std::string>() + "/batches",
                              {{"quantity", codes}, {"max_uses", max_uses}, {"session_id", session["id"]}});
    std::vector<std::string> values;
    for (const auto& c : batch["codes"]) values.push_back(c["code"]);
    return {session["id"], values};
  }
};

TEST_F(Idempotency, ARetryAnswersTheFirstAnswerAndAppliesOnceAcrossAKill) {
  // Codes of several uses: only the key can stop the retry from registering again.
  const auto [session, codes] = setup(10, 2, 5);
  const std::string body =
      json{{"code", codes[0]}, {"participant", {{"email", "ada@example.com"}, {"name", "Ada"}}}}.dump();
  const auto first = post("/v1/orgs/acme/redemptions", body, "redeem-ada-1");
  ASSERT_EQ(first.status, 201) << first.body;
  EXPECT_EQ(first.header("idempotent-replayed"), "");
  const std::uint64_t after_first = log_position();

  const auto again = post("/v1/orgs/acme/redemptions", body, "redeem-ada-1");
  EXPECT_EQ(again.status, 201);
  EXPECT_EQ(again.body, first.body);  // byte for byte
  EXPECT_EQ(again.header("location"), first.header("location"));
  EXPECT_EQ(again.header("content-type"), first.header("content-type"));
  EXPECT_EQ(again.header("idempotent-replayed"), "true");
  EXPECT_EQ(log_position(), after_first);
  EXPECT_EQ(seats(session)["registered"], 1);

  crash_and_restart();
  const auto after_kill = post("/v1/orgs/acme/redemptions", body, "redeem-ada-1");
  EXPECT_EQ(after_kill.status, 201);
  EXPECT_EQ(after_kill.body, first.body);
  EXPECT_EQ(after_kill.header("location"), first.header("location"));
  EXPECT_EQ(after_kill.header("idempotent-replayed"), "true");
  EXPECT_EQ(log_position(), after_first);
  EXPECT_EQ(seats(session)["registered"], 1);
  const std::string registration = first.json().at("id");
  EXPECT_EQ(http_.get("/v1/orgs/acme/registrations/" + registration).status, 200);

  // Another request under the same key is refused, and changes nothing.
  const std::string other =
      json{{"code", codes[0]}, {"participant", {{"email", "bob@example.com"}, {"name", "Bob"}}}}.dump();
  const auto reused = post("/v1/orgs/acme/redemptions", other, "redeem-ada-1");
  EXPECT_TRUE(IsProblem(reused, 422, "idempotency-key-reused"));
  EXPECT_EQ(log_position(), after_first);
  EXPECT_EQ(seats(session)["registered"], 1);

  // Keys are scoped by organisation and route: the same key elsewhere is another key.
  const auto contract = post("/v1/orgs/acme/contracts", json{{"name", "Other"}}.dump(), "redeem-ada-1");
  EXPECT_EQ(contract.status, 201) << contract.body;
  EXPECT_EQ(contract.header("idempotent-replayed"), "");
  const auto elsewhere = post("/v1/orgs/globex/redemptions", body, "redeem-ada-1");
  EXPECT_EQ(elsewhere.status, 404) << elsewhere.body;  // globex knows no such code
  EXPECT_EQ(problem_slug(elsewhere), "code-unknown");
}

TEST_F(Idempotency, TwentyConcurrentRetriesRegisterOnce) {
  const auto [session, codes] = setup(30, 1, 30);
  const std::string body = json{{"code", codes[0]}, {"participant", {{"email", "ada@example.com"}}}}.dump();
  const std::uint64_t before = log_position();
  constexpr int kClients = 20;
  std::barrier start(kClients);
  std::vector<HttpResponse> answers(kClients);
  std::vector<std::thread> threads;
  for (int i = 0; i < kClients; ++i) {
    threads.emplace_back([&, i] {
      start.arrive_and_wait();
      answers[static_cast<std::size_t>(i)] = post("/v1/orgs/acme/redemptions", body, "one-registration");
    });
  }
  for (auto& t : threads) t.join();
  int first_answers = 0;
  for (const auto& a : answers) {
    ASSERT_EQ(a.status, 201) << a.body;
    EXPECT_EQ(a.body, answers[0].body);
    EXPECT_EQ(a.header("location"), answers[0].header("location"));
    if (a.header("idempotent-replayed").empty()) ++first_answers;
  }
  EXPECT_EQ(first_answers, 1);
  EXPECT_EQ(seats(session)["registered"], 1);
  EXPECT_EQ(log_position(), before + 3);  // one redemption: CodeRedeemed, SeatRegistered, RegistrationCreated
}

// A crash between the write of the events and the keeping of the answer: the
// retry is replayed by the pipeline, and every create rebuilds its answer
// from the first command's ids, not from the retry's fresh ones.
TEST_F(Idempotency, WithoutAKeptAnswerEveryCreateRebuildsItFromTheFirstCommand) {
  struct Keyed {
    std::string target, body, key;
    bool changed_since;  // whether later requests changed the resource
    HttpResponse first;
  };
  std::vector<Keyed> requests;
  auto send = [&](std::string target, json body, std::string key, bool changed_since = false) -> json {
    Keyed k{std::move(target), body.dump(), std::move(key), changed_since, {}};
    k.first = post(k.target, k.body, k.key);
    EXPECT_EQ(k.first.status, 201) << k.target << ": " << k.first.body;
    requests.push_back(k);
    return k.first.json();
  };
  const json contract = send("/v1/orgs/acme/contracts", {{"name", "Acme"}}, "c");
  const std::string contract_id = contract.at("id");
  const json session =
      send("/v1/orgs/acme/sessions", {{"name", "S"}, {"capacity", 5}, {"contract_id", contract_id}}, "s",
           /*changed_since=*/true);  // seats taken
  const std::string session_id = session.at("id");
  const json batch =
      send("/v1/orgs/acme/contracts/" + contract_id + "/batches", {{"quantity", 3}, {"session_id", session_id}}, "b");
  send("/v1/orgs/acme/redemptions", {{"code", batch["codes"][0]["code"]}, {"participant", {{"email", "a@b.co"}}}}, "r");
  const json invitation = send("/v1/orgs/acme/sessions/" + session_id + "/invitations",
                               {{"participant", {{"email", "c@d.co"}}}, {"code", batch["codes"][1]["code"]}}, "i",
                               /*changed_since=*/true);  // claimed
  send("/v1/claims/" + invitation.at("claim_token").get<std::string>(), json::object(), "claim");
  const std::uint64_t written = log_position();

  crash_and_restart(/*lose_kept_answers=*/true);
  for (const auto& k : requests) {
    const auto rebuilt = post(k.target, k.body, k.key);
    ASSERT_EQ(rebuilt.status, 201) << k.target << ": " << rebuilt.body;
    EXPECT_EQ(rebuilt.header("idempotent-replayed"), "true") << k.target;
    EXPECT_EQ(rebuilt.header("location"), k.first.header("location")) << k.target;
    json expected = k.first.json();
    json got = rebuilt.json();
    // The same resource, whatever ids the retry's command was given...
    EXPECT_EQ(got.at("id"), expected.at("id")) << k.target;
    // ...as it is now: the first answer itself was lost with the crash.
    if (!k.changed_since) {
      // The claim link names the host the client called, whose port changed with the restart.
      if (expected.contains("claim_url")) {
        expected.erase("claim_url");
        got.erase("claim_url");
      }
      EXPECT_EQ(got, expected) << k.target;
    }
    // The rebuilt answer is kept in turn: the next retry hears it byte for byte.
    const auto kept = post(k.target, k.body, k.key);
    EXPECT_EQ(kept.status, 201);
    EXPECT_EQ(kept.body, rebuilt.body) << k.target;
  }
  EXPECT_EQ(log_position(), written);
  EXPECT_EQ(seats(session_id)["registered"], 2);  // the redemption and the claim, once each
}

// A participants upload assigns a code per row, one command each: under a
// key, a retry gives each row the code it was given the first time, although
// the pool has none left by then.
TEST_F(Idempotency, ARetriedUploadGivesEachRowTheCodeItWasGivenTheFirstTime) {
  const json contract = create("/v1/orgs/acme/contracts", {{"name", "Acme"}});
  const std::string participants = "/v1/orgs/acme/contracts/" + contract["id"].get<std::string>() + "/participants";
  create("/v1/orgs/acme/contracts/" + contract["id"].get<std::string>() + "/batches", {{"quantity", 2}});
  const std::string csv = "email,name\r\nada@example.com,Ada\r\nbob@example.com,Bob\r\n";
  auto upload = [&](const std::string& target, const std::string& body, const std::string& key) {
    return http_.send("POST", target, body, {{"content-type", "text/csv"}, {"Idempotency-Key", key}});
  };
  const auto pool = upload(participants, csv, "upload-1");
  ASSERT_EQ(pool.status, 200) << pool.body;
  const json pool_rows = pool.json().at("rows");
  for (const auto& row : pool_rows) ASSERT_EQ(row["result"], "assigned") << pool.body;
  const auto generated = upload(participants + "?mode=generate", csv, "upload-2");
  ASSERT_EQ(generated.status, 200) << generated.body;
  const std::uint64_t written = log_position();

  crash_and_restart(/*lose_kept_answers=*/true);
  for (const auto& [target, first, key] : {std::tuple(participants, pool, "upload-1"),
                                           std::tuple(participants + "?mode=generate", generated, "upload-2")}) {
    const auto retried = upload(target, csv, key);
    EXPECT_EQ(retried.status, 200) << retried.body;
    EXPECT_EQ(retried.body, first.body) << target;
    EXPECT_EQ(retried.header("idempotent-replayed"), "true") << target;
  }
  EXPECT_EQ(log_position(), written);

  const auto other = upload(participants, "email\r\ncarol@example.com\r\n", "upload-1");
  EXPECT_EQ(other.status, 422) << other.body;
  EXPECT_EQ(problem_slug(other), "idempotency-key-reused");
  crash_and_restart(/*lose_kept_answers=*/true);
  const auto other_after_loss = upload(participants, "email\r\ncarol@example.com\r\n", "upload-1");
  EXPECT_EQ(other_after_loss.status, 422) << other_after_loss.body;
  EXPECT_EQ(problem_slug(other_after_loss), "idempotency-key-reused");
  EXPECT_EQ(log_position(), written);
}

TEST_F(Idempotency, ARefusedKeyedRequestKeepsNothingSoItsRetryIsDecidedAgain) {
  const auto [session, codes] = setup(1, 2, 1);
  ASSERT_EQ(
      http_.post("/v1/orgs/acme/redemptions", {{"code", codes[0]}, {"participant", {{"email", "a@b.co"}}}}).status,
      201);
  const std::string body = json{{"code", codes[1]}, {"participant", {{"email", "c@d.co"}}}}.dump();
  const auto full = post("/v1/orgs/acme/redemptions", body, "late");
  EXPECT_EQ(full.status, 409);
  EXPECT_EQ(problem_slug(full), "session-full");
  ASSERT_EQ(http_
                .send("PATCH", "/v1/orgs/acme/sessions/" + session, json{{"capacity", 2}}.dump(),
                      {{"content-type", "application/json"}})
                .status,
            200);
  const auto retried = post("/v1/orgs/acme/redemptions", body, "late");
  EXPECT_EQ(retried.status, 201) << retried.body;
  EXPECT_EQ(retried.header("idempotent-replayed"), "");
  EXPECT_EQ(seats(session)["registered"], 2);
}

TEST_F(Idempotency, AMalformedKeyIsAValidationProblem) {
  const std::uint64_t before = log_position();
  const std::string body = json{{"name", "Acme"}}.dump();
  for (const std::string& key : {std::string(256, 'k'), std::string("caf\xC3\xA9"), std::string("a\tb")}) {
    const auto r = post("/v1/orgs/acme/contracts", body, key);
    EXPECT_EQ(r.status, 422) << key << ": " << r.body;
    EXPECT_EQ(problem_slug(r), "validation");
  }
  const auto empty = http_.send("POST", "/v1/orgs/acme/contracts", body,
                                {{"content-type", "application/json"}, {"Idempotency-Key", ""}});
  EXPECT_EQ(empty.status, 422) << empty.body;
  EXPECT_EQ(log_position(), before);
  // The longest key is fine, spaces and all.
  EXPECT_EQ(post("/v1/orgs/acme/contracts", body, std::string(127, 'k') + " " + std::string(127, 'k')).status, 201);
}

}  // namespace
}  // namespace tessera::test_support
