// Large batches as jobs, over HTTP against tesserad: answered 202 at once
// with a progress count, generated in chunks, and, after a kill -9 mid-batch,
// resumed by the restarted server where its last durable chunk ended, with
// no code lost and none issued twice.
#include <gtest/gtest.h>
#include <signal.h>

#include <chrono>
#include <string>
#include <thread>

#include "../support/http_client.h"
#include "../support/problem.h"
#include "../support/server_process.h"
#include "../support/temp_dir.h"

namespace tessera::test_support {
namespace {

using nlohmann::json;
using Clock = std::chrono::steady_clock;

// Large enough that a kill lands while its chunks are still being written.
constexpr std::uint32_t kQuantity = 200'000;

// The batch document, polled until `done` holds of it or `limit` passes.
template <class Done>
json poll(const HttpClient& http, const std::string& location, Done done, std::chrono::seconds limit) {
  const auto deadline = Clock::now() + limit;
  json batch;
  do {
    const auto r = http.get(location);
    if (r.status == 200) batch = r.json();
    if (!batch.is_null() && done(batch)) return batch;
    std::this_thread::sleep_for(std::chrono::milliseconds(20));
  } while (Clock::now() < deadline);
  return batch;
}

TEST(BatchJobs, AKillMidBatchIsResumedByTheRestartedServerWithEveryCodeOnce) {
  TempDir dir;
  const auto data = dir.path() / "data";
  std::string contract, session, location;
  std::uint32_t generated_at_kill = 0;
  {
    ServerProcess server(TESSERAD_PATH, data, {"--kafka", "none"});
    HttpClient http("127.0.0.1", server.port());
    contract = http.post("/v1/orgs/acme/contracts", {{"name", "Big"}}).json()["id"];
    session =
        http.post("/v1/orgs/acme/sessions", {{"name", "S"}, {"capacity", 10}, {"contract_id", contract}}).json()["id"];
    const auto job = http.post("/v1/orgs/acme/contracts/" + contract + "/batches",
                               {{"quantity", kQuantity}, {"session_id", session}});
    ASSERT_EQ(job.status, 202) << job.body;
    EXPECT_EQ(job.json()["status"], "generating");
    location = job.header("location");
    const json started = poll(
        http, location, [](const json& b) { return b["generated"].get<std::uint32_t>() > 0; },
        std::chrono::seconds(60));
    generated_at_kill = started["generated"].get<std::uint32_t>();
    server.stop(SIGKILL);
  }
  ASSERT_GT(generated_at_kill, 0U);
  ASSERT_LT(generated_at_kill, kQuantity) << "the batch was done before the kill: nothing left to resume";

  ServerProcess server(TESSERAD_PATH, data, {"--kafka", "none"});
  HttpClient http("127.0.0.1", server.port());
  const json resumed = poll(
      http, location, [](const json& b) { return b["status"] == "ready"; }, std::chrono::seconds(300));
  ASSERT_EQ(resumed["status"], "ready") << resumed.dump();
  EXPECT_EQ(resumed["generated"], kQuantity);
  // Every code of the contract is the batch's: a chunk issued twice would
  // show more, a lost one fewer.
  const json summary = http.get("/v1/orgs/acme/contracts/" + contract + "/summary").json();
  EXPECT_EQ(summary["total"], kQuantity) << summary.dump();
  EXPECT_EQ(summary["available"], kQuantity);
  const json page = http.get("/v1/orgs/acme/codes?limit=1&batch=" + resumed.value("id", "")).json();
  const auto redeemed = http.post("/v1/orgs/acme/redemptions", {{"code", page["items"][0]["code"]},
                                                                {"participant", {{"email", "ada@example.com"}}}});
  EXPECT_EQ(redeemed.status, 201) << redeemed.body;
}

}  // namespace
}  // namespace tessera::test_support
