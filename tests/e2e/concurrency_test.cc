// Invariants 1 and 2 under concurrent HTTP clients: many clients redeem one
// code at the same instant; exactly as many succeed as the code has uses, and
// a session never holds more registrations than seats. And read-your-writes
// (DESIGN.md, "HTTP edge") while many clients write: a GET sees every write
// answered before it was sent, its own client's or another's.
#include <gtest/gtest.h>

#include <barrier>
#include <mutex>
#include <thread>

#include "../support/http_client.h"
#include "../support/problem.h"
#include "../support/server_process.h"
#include "../support/temp_dir.h"

namespace tessera::test_support {
namespace {

using nlohmann::json;

struct Tally {
  int created = 0;
  std::map<std::string, int> refused;  // by problem slug
};

class ConcurrentRedemptions : public ::testing::Test {
 protected:
  TempDir dir_;
  ServerProcess server_{TESSERAD_PATH, dir_.path() / "data", {"--kafka", "none"}};
  HttpClient http_{"127.0.0.1", server_.port()};

  // A session of `capacity` seats and a batch of `codes` codes of `max_uses` uses for it.
  std::pair<std::string, std::vector<std::string>> setup(int capacity, int codes, int max_uses) {
    const auto contract = http_.post("/v1/orgs/acme/contracts", {{"name", "Acme"}}).json();
    const auto session = http_.post("/v1/orgs/acme/sessions", {{"name", "S"}, {"capacity", capacity}}).json();
    const auto batch = http_
                           .post("/v1/orgs/acme/contracts/" + contract["id"].get<std::string>() + "/batches",
                                 {{"quantity", codes}, {"max_uses", max_uses}, {"session_id", session["id"]}})
                           .json();
    std::vector<std::string> values;
    for (const auto& c : batch["codes"]) values.push_back(c["code"]);
    return {session["id"], values};
  }

  // `clients` clients, released together, each redeeming code_of(i) once.
  Tally redeem_at_once(int clients, const std::function<std::string(int)>& code_of) {
    std::barrier start(clients);
    std::vector<HttpResponse> answers(static_cast<std::size_t>(clients));
    std::vector<std::thread> threads;
    for (int i = 0; i < clients; ++i) {
      threads.emplace_back([&, i] {
        const json body = {{"code", code_of(i)},
                           {"participant", {{"email", "client" + std::to_string(i) + "@example.com"}}}};
        start.arrive_and_wait();
        answers[static_cast<std::size_t>(i)] = http_.post("/v1/orgs/acme/redemptions", body);
      });
    }
    for (auto& t : threads) t.join();
    Tally tally;
    for (const auto& a : answers) {
      if (a.status == 201) {
        ++tally.created;
      } else {
        ++tally.refused[problem_slug(a)];
      }
    }
    return tally;
  }

  json seats(const std::string& session) { return http_.get("/v1/orgs/acme/sessions/" + session + "/seats").json(); }
};

TEST_F(ConcurrentRedemptions, FiftyClientsOneSingleUseCodeExactlyOneWins) {
  const auto [session, codes] = setup(100, 1, 1);
  const Tally tally = redeem_at_once(50, [&codes = codes](int) { return codes[0]; });
  EXPECT_EQ(tally.created, 1);
  EXPECT_EQ(tally.refused.at("code-exhausted"), 49);
  EXPECT_EQ(seats(session)["registered"], 1);
}

TEST_F(ConcurrentRedemptions, TenTimesKClientsOnAKUseCodeExactlyKWin) {
  constexpr int k = 4;
  const auto [session, codes] = setup(100, 1, k);
  const Tally tally = redeem_at_once(10 * k, [&codes = codes](int) { return codes[0]; });
  EXPECT_EQ(tally.created, k);
  EXPECT_EQ(tally.refused.at("code-exhausted"), 9 * k);
  EXPECT_EQ(seats(session)["registered"], k);
  const auto code = http_.get("/v1/orgs/acme/codes/" + codes[0]).json();
  EXPECT_EQ(code["uses"], k);
  EXPECT_EQ(code["status"], "used");
}

TEST_F(ConcurrentRedemptions, AFullSessionNeverOverbooks) {
  const auto [session, codes] = setup(5, 30, 1);
  const Tally tally = redeem_at_once(30, [&codes = codes](int i) { return codes[static_cast<std::size_t>(i)]; });
  EXPECT_EQ(tally.created, 5);
  EXPECT_EQ(tally.refused.at("session-full"), 25);
  const auto now = seats(session);
  EXPECT_EQ(now["registered"], 5);
  EXPECT_EQ(now["available"], 0);
}

TEST_F(ConcurrentRedemptions, AGetSeesEveryWriteAnsweredBeforeItWasSentByAnyClient) {
  constexpr int kClients = 16;
  constexpr int kRounds = 25;
  const auto [session, codes] = setup(kClients * kRounds, kClients * kRounds, 1);
  // Each client redeems, reads its own registration back at once, then reads
  // the one another client was last answered: neither read may miss it.
  std::mutex mutex;
  std::vector<json> answered;  // registrations whose creation was answered
  std::vector<std::string> failures;
  std::vector<std::thread> threads;
  for (int c = 0; c < kClients; ++c) {
    threads.emplace_back([&, c] {
      for (int r = 0; r < kRounds; ++r) {
        const auto i = static_cast<std::size_t>(c * kRounds + r);
        const auto created =
            http_.post("/v1/orgs/acme/redemptions",
                       {{"code", codes[i]}, {"participant", {{"email", std::to_string(i) + ".reader@example.com"}}}});
        const auto own = created.status == 201
                             ? http_.get("/v1/orgs/acme/registrations/" + created.json()["id"].get<std::string>())
                             : HttpResponse{};
        std::lock_guard lock(mutex);
        if (created.status != 201) {
          failures.push_back("redemption: " + std::to_string(created.status) + " " + created.body);
          continue;
        }
        if (own.status != 200 || own.json() != created.json()) {
          failures.push_back("own read: " + std::to_string(own.status) + " " + own.body);
        }
        answered.push_back(created.json());
      }
    });
    threads.emplace_back([&] {
      for (int r = 0; r < kRounds; ++r) {
        json last;
        {
          std::lock_guard lock(mutex);
          if (!answered.empty()) last = answered.back();
        }
        if (last.is_null()) continue;
        const auto read = http_.get("/v1/orgs/acme/registrations/" + last["id"].get<std::string>());
        if (read.status != 200 || read.json() != last) {
          std::lock_guard lock(mutex);
          failures.push_back("read back: " + std::to_string(read.status) + " " + read.body);
        }
      }
    });
  }
  for (auto& t : threads) t.join();
  EXPECT_TRUE(failures.empty()) << failures.size() << " failures, the first: " << failures.front();
  EXPECT_EQ(answered.size(), static_cast<std::size_t>(kClients * kRounds));
  EXPECT_EQ(seats(session)["registered"], kClients * kRounds);
}

}  // namespace
}  // namespace tessera::test_support
