// The HTTP handler in process, beside the socket tests of tests/e2e: a real
// log, pipeline and read models on disk, requests handed to Handler::handle()
// directly. One test per way an error becomes an answer (problem.h), and the
// answers of a server whose read models lag.
#include <gtest/gtest.h>

#include <chrono>
#include <memory>
#include <nlohmann/json.hpp>
#include <string>
#include <thread>

#include "problem.h"
#include "served.h"
#include "temp_dir.h"
#include "tessera/api/errc.h"
#include "tessera/api/problem.h"
#include "tessera/domain/commands.h"
#include "tessera/domain/errc.h"
#include "tessera/eventstore/errc.h"
#include "tessera/pipeline/errc.h"

namespace {

namespace api = tessera::api;
namespace http = tessera::api::http;
using nlohmann::json;
using tessera::Error;
using tessera::test_support::as_client_sees;
using tessera::test_support::HttpResponse;
using tessera::test_support::IsProblem;
using tessera::test_support::Served;

json body_of(const HttpResponse& r) { return json::parse(r.body, nullptr, /*allow_exceptions=*/false); }

// A problem also repeats its status in the body and says why.
testing::AssertionResult IsFullProblem(const HttpResponse& r, int status, std::string_view slug) {
  if (auto problem = IsProblem(r, status, slug); !problem) return problem;
  const json body = body_of(r);
  if (body.value("status", 0) != status || body.value("detail", "").empty()) {
    return testing::AssertionFailure() << "no status or detail in " << r.body;
  }
  return testing::AssertionSuccess();
}

const std::string kContracts = "/v1/orgs/acme/contracts";

std::string create_contract(Served& s) {
  const auto r = s.post(kContracts, {{"name", "Training"}});
  EXPECT_EQ(r.status, 201) << r.body;
  return body_of(r).value("id", "");
}

// ---------------------------------------------------------------------------
// Errors of the HTTP layer itself.

TEST(Handler, ABodyThatIsNotJsonIsMalformedJson) {
  tessera::test_support::TempDir dir;
  Served s(dir.path());
  EXPECT_TRUE(IsFullProblem(s.send(http::verb::post, kContracts, "{nope"), 400, "malformed-json"));
}

TEST(Handler, AnUnknownPathIsNotFound) {
  tessera::test_support::TempDir dir;
  Served s(dir.path());
  EXPECT_TRUE(IsFullProblem(s.get("/v1/nothing/here"), 404, "not-found"));
}

TEST(Handler, AnotherMethodOfAKnownPathIsMethodNotAllowedWithAllow) {
  tessera::test_support::TempDir dir;
  Served s(dir.path());
  const auto r = s.send(http::verb::put, kContracts + "/c1");
  EXPECT_TRUE(IsFullProblem(r, 405, "method-not-allowed"));
  EXPECT_EQ(r.header("allow"), "GET, PATCH");
}

// ---------------------------------------------------------------------------
// Refusals of the domain and the pipeline.

TEST(Handler, AnInvalidFieldIsValidation) {
  tessera::test_support::TempDir dir;
  Served s(dir.path());
  EXPECT_TRUE(IsFullProblem(s.post(kContracts, {{"name", ""}}), 422, "validation"));
}

TEST(Handler, AnUnknownResourceIsItsOwnNotFound) {
  tessera::test_support::TempDir dir;
  Served s(dir.path());
  EXPECT_TRUE(IsFullProblem(s.get(kContracts + "/c404"), 404, "contract-unknown"));
  EXPECT_TRUE(IsFullProblem(s.post(kContracts + "/c404/batches", {{"quantity", 1}}), 404, "contract-unknown"));
}

TEST(Handler, AConflictWithSettledStateIsConflict) {
  tessera::test_support::TempDir dir;
  Served s(dir.path());
  const auto session = s.post("/v1/orgs/acme/sessions", {{"name", "Day"}, {"capacity", 1}});
  ASSERT_EQ(session.status, 201) << session.body;
  const std::string id = body_of(session).value("id", "");
  const auto lower = s.send(http::verb::patch, "/v1/orgs/acme/sessions/" + id, json{{"capacity", 0}}.dump());
  EXPECT_EQ(lower.status, 200) << lower.body;
  const std::string invite = "/v1/orgs/acme/sessions/" + id + "/invitations";
  EXPECT_TRUE(IsFullProblem(s.post(invite, {{"participant", {{"email", "ann@example.com"}}}}), 409, "session-full"));
}

TEST(Handler, AnIfMatchOfAnotherVersionIsAPreconditionFailure) {
  tessera::test_support::TempDir dir;
  Served s(dir.path());
  const std::string id = create_contract(s);
  const auto r =
      s.send(http::verb::patch, kContracts + "/" + id, json{{"name", "Renamed"}}.dump(), {{"If-Match", "\"7\""}});
  EXPECT_TRUE(IsFullProblem(r, 412, "version-conflict"));
  EXPECT_EQ(body_of(s.get(kContracts + "/" + id)).value("name", ""), "Training");
}

TEST(Handler, AnIdempotencyKeyReusedForAnotherBodyIsRefused) {
  tessera::test_support::TempDir dir;
  Served s(dir.path());
  const auto first = s.post(kContracts, {{"name", "A"}}, {{"Idempotency-Key", "k-1"}});
  ASSERT_EQ(first.status, 201) << first.body;
  EXPECT_TRUE(
      IsFullProblem(s.post(kContracts, {{"name", "B"}}, {{"Idempotency-Key", "k-1"}}), 422, "idempotency-key-reused"));
  const auto again = s.post(kContracts, {{"name", "A"}}, {{"Idempotency-Key", "k-1"}});
  EXPECT_EQ(again.status, 201);
  EXPECT_EQ(again.header("idempotent-replayed"), "true");
  EXPECT_EQ(body_of(again), body_of(first));
}

TEST(Handler, RepeatedUnknownCodesAreRateLimitedWithRetryAfter) {
  tessera::test_support::TempDir dir;
  Served s(dir.path());
  HttpResponse last;
  for (int i = 0; i < 20; ++i) {
    last = s.post("/v1/orgs/acme/redemptions",
                  {{"code", "ZZZZ-ZZZZ-ZZZZ-ZZZZ"}, {"participant", {{"email", "eve@example.com"}}}});
    if (last.status == 429) break;
    ASSERT_TRUE(IsFullProblem(last, 404, "code-unknown") || IsFullProblem(last, 422, "code-malformed")) << last.body;
  }
  EXPECT_TRUE(IsFullProblem(last, 429, "rate-limited"));
  EXPECT_FALSE(last.header("retry-after").empty());
}

TEST(Handler, APatchRenamesAReschedulesAndResizesASessionAtOnce) {
  tessera::test_support::TempDir dir;
  Served s(dir.path());
  const auto created =
      s.post("/v1/orgs/acme/sessions", {{"name", "Day"}, {"capacity", 5}, {"opens_at", "2027-01-01T09:00:00Z"}});
  ASSERT_EQ(created.status, 201) << created.body;
  const std::string path = "/v1/orgs/acme/sessions/" + body_of(created).value("id", "");
  const auto patched = s.send(http::verb::patch, path,
                              json{{"name", "Evening"}, {"opens_at", "2027-01-01T18:00:00Z"}, {"capacity", 8}}.dump());
  ASSERT_EQ(patched.status, 200) << patched.body;
  const json session = body_of(s.get(path));
  EXPECT_EQ(session.value("name", ""), "Evening");
  EXPECT_EQ(session.value("opens_at", ""), "2027-01-01T18:00:00Z");
  EXPECT_EQ(session.value("capacity", 0), 8);
  const auto opened = s.send(http::verb::patch, path, json{{"opens_at", nullptr}}.dump());
  ASSERT_EQ(opened.status, 200) << opened.body;
  EXPECT_TRUE(body_of(opened).at("opens_at").is_null());
  EXPECT_EQ(body_of(opened).value("name", ""), "Evening");
  EXPECT_TRUE(IsFullProblem(s.send(http::verb::patch, path, json{{"name", ""}}.dump()), 422, "validation"));
}

// ---------------------------------------------------------------------------
// Errors below the domain follow their retry advice.

TEST(Handler, ALogThatCannotTakeWritesAnswersUnavailableWithRetryAfter) {
  tessera::test_support::TempDir dir;
  std::string id;
  {
    Served writable(dir.path());
    id = create_contract(writable);
  }
  tessera::eventstore::LogOptions read_only;
  read_only.read_only = true;
  Served s(dir.path(), /*projecting=*/true, read_only);
  const auto r = s.send(http::verb::patch, kContracts + "/" + id, json{{"name", "Renamed"}}.dump());
  EXPECT_TRUE(IsFullProblem(r, 503, "unavailable"));
  EXPECT_EQ(r.header("retry-after"), "1");
  EXPECT_EQ(body_of(s.get(kContracts + "/" + id)).value("name", ""), "Training");
}

// An error no route maps follows its category's retry advice.
TEST(ProblemFor, EachAdviceHasItsStatus) {
  const auto answer = [](const Error& error) { return as_client_sees(api::detail::problem_for(error)); };
  const auto unavailable = answer(Error(tessera::eventstore::errc::io_error, "disk"));
  EXPECT_TRUE(IsFullProblem(unavailable, 503, "unavailable"));
  EXPECT_EQ(unavailable.header("retry-after"), "1");
  EXPECT_TRUE(IsFullProblem(answer(Error(tessera::eventstore::errc::version_conflict, "raced")), 409, "conflict"));
  EXPECT_TRUE(IsFullProblem(answer(Error(tessera::eventstore::errc::corruption, "a bad record")), 500, "internal"));
  // A category that gives no advice is a fault too, never a bare 500.
  EXPECT_TRUE(IsFullProblem(answer(Error(std::make_error_code(std::errc::invalid_argument))), 500, "internal"));
}

// ---------------------------------------------------------------------------
// Read models that lag behind the log.

// A write's answer needs no projector: it is folded from the command's own
// events (ReadModels::preview). A GET after it waits for the models to hold
// the write, and says they lag rather than answer without it.
TEST(Handler, AWriteIsAnsweredWithoutTheProjectorButTheGetAfterItIsUnavailableNeverStale) {
  tessera::test_support::TempDir dir;
  Served s(dir.path(), /*projecting=*/false);
  const auto created = s.post(kContracts, {{"name", "Training"}});
  ASSERT_EQ(created.status, 201) << created.body;
  EXPECT_EQ(body_of(created).value("name", ""), "Training");
  const std::string location(created.header("location"));
  ASSERT_TRUE(location.starts_with(kContracts + "/")) << location;
  const auto r = s.get(location);
  EXPECT_TRUE(IsFullProblem(r, 503, "unavailable"));
  EXPECT_EQ(r.header("retry-after"), "1");
}

// A second write on a stream whose first the models do not hold yet folds
// the first one's events, read from the log, before its own: answered at
// once, as the GET will read once the models catch up.
TEST(Handler, AWriteOnAStreamTheModelsLagOnIsAnsweredFromTheLogsEvents) {
  tessera::test_support::TempDir dir;
  Served s(dir.path(), /*projecting=*/false);
  const auto created = s.post(kContracts, {{"name", "Training"}, {"reuse_cancelled_codes", true}});
  ASSERT_EQ(created.status, 201) << created.body;
  const std::string location(created.header("location"));
  const auto renamed = s.send(http::verb::patch, location, json{{"name", "Renamed"}}.dump());
  ASSERT_EQ(renamed.status, 200) << renamed.body;
  const json body = body_of(renamed);
  EXPECT_EQ(body.value("name", ""), "Renamed");
  EXPECT_EQ(body.value("reuse_cancelled_codes", false), true);  // from the first write's event
  EXPECT_EQ(renamed.header("etag"), "\"2\"");
}

// ---------------------------------------------------------------------------
// Batches: at once (201, with their codes) or, larger, as jobs (202).

TEST(Handler, ASmallBatchIsCreatedWithItsCodesAndReadBackWithoutThem) {
  tessera::test_support::TempDir dir;
  Served s(dir.path());
  const std::string contract = create_contract(s);
  const auto created = s.post(kContracts + "/" + contract + "/batches", {{"quantity", 3}, {"note", "spring"}});
  ASSERT_EQ(created.status, 201) << created.body;
  json answer = body_of(created);
  EXPECT_EQ(answer["status"], "ready");
  EXPECT_EQ(answer["generated"], 3);
  EXPECT_EQ(answer["codes"].size(), 3U);
  const std::string location(created.header("location"));
  EXPECT_EQ(location, "/v1/orgs/acme/batches/" + answer.value("id", ""));
  const auto read = s.get(location);
  ASSERT_EQ(read.status, 200) << read.body;
  answer.erase("codes");
  EXPECT_EQ(body_of(read), answer);
  EXPECT_EQ(read.header("etag"), created.header("etag"));
  EXPECT_TRUE(IsFullProblem(s.get("/v1/orgs/acme/batches/nope"), 404, "batch-unknown"));
  EXPECT_TRUE(IsFullProblem(s.get("/v1/orgs/globex/batches/" + answer.value("id", "")), 404, "batch-unknown"));
}

// A job stopped by a restart (nothing in process resumes it here: tesserad's
// resumer does, see tests/e2e) stays generating: its codes are listed as
// issued and refused with 409 until the last chunk.
TEST(Handler, ALargeBatchIsAJobWhoseCodesWaitForItsLastChunk) {
  tessera::test_support::TempDir dir;
  const std::uint32_t quantity = tessera::domain::kLargestBatchAtOnce + 5 * tessera::domain::kCodesPerChunk;
  std::string location;
  std::string session;
  {
    Served s(dir.path());
    const std::string contract = create_contract(s);
    const auto made = s.post("/v1/orgs/acme/sessions", {{"name", "S"}, {"capacity", 5}, {"contract_id", contract}});
    ASSERT_EQ(made.status, 201) << made.body;
    session = body_of(made).value("id", "");
    const auto job =
        s.post(kContracts + "/" + contract + "/batches", {{"quantity", quantity}, {"session_id", session}});
    ASSERT_EQ(job.status, 202) << job.body.substr(0, 500);
    const json answer = body_of(job);
    EXPECT_EQ(answer["status"], "generating");
    EXPECT_EQ(answer["generated"], 0);
    EXPECT_EQ(answer["quantity"], quantity);
    EXPECT_FALSE(answer.contains("codes"));
    location = job.header("location");
    EXPECT_EQ(location, "/v1/orgs/acme/batches/" + answer.value("id", ""));
  }
  Served s(dir.path());
  const json generating = body_of(s.get(location));
  ASSERT_EQ(generating["status"], "generating") << generating.dump();
  ASSERT_GT(generating["generated"].get<std::uint32_t>(), 0U);
  ASSERT_LT(generating["generated"].get<std::uint32_t>(), quantity);
  const auto listed = s.get("/v1/orgs/acme/codes?limit=1&batch=" + generating.value("id", ""));
  ASSERT_EQ(listed.status, 200) << listed.body;
  const std::string code = body_of(listed)["items"][0]["code"];
  const json redemption = {{"code", code}, {"participant", {{"email", "early@example.com"}}}};
  const auto early = s.post("/v1/orgs/acme/redemptions", redemption);
  EXPECT_TRUE(IsFullProblem(early, 409, "batch-not-ready"));
  EXPECT_EQ(early.header("retry-after"), "1");

  s.pipeline().continue_batch(tessera::domain::OrgId{"acme"}, tessera::domain::BatchId{generating.value("id", "")});
  json progress;
  for (int polls = 0; polls < 6000; ++polls) {
    progress = body_of(s.get(location));
    if (progress["status"] == "ready") break;
    std::this_thread::sleep_for(std::chrono::milliseconds(10));
  }
  EXPECT_EQ(progress["status"], "ready");
  EXPECT_EQ(progress["generated"], quantity);
  EXPECT_EQ(body_of(s.get(kContracts + "/" + progress.value("contract_id", "") + "/summary"))["total"], quantity);
  EXPECT_EQ(s.post("/v1/orgs/acme/redemptions", redemption).status, 201);
}

}  // namespace
