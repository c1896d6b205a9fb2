// The HTTP handler in process, beside the socket tests of tests/e2e: a real
// log, pipeline and read models on disk, requests handed to Handler::handle()
// directly. One test per way an error becomes an answer (problem.h), and the
// answers of a server whose read models lag.
#include <gtest/gtest.h>

#include <memory>
#include <nlohmann/json.hpp>
#include <string>

#include "temp_dir.h"
#include "tessera/api/errc.h"
#include "tessera/api/handler.h"
#include "tessera/api/problem.h"
#include "tessera/domain/errc.h"
#include "tessera/eventstore/errc.h"
#include "tessera/pipeline/errc.h"
#include "tessera/projections/projector.h"

namespace {

namespace api = tessera::api;
namespace http = tessera::api::http;
using nlohmann::json;
using tessera::Error;

constexpr std::string_view kProblems = "https://tessera.dev/problems/";

// A tesserad in process, without sockets or Kafka. With `projecting` false no
// projector runs, so the read models never catch up with the log.
using Headers = std::initializer_list<std::pair<std::string, std::string>>;

class Served {
 public:
  explicit Served(const std::filesystem::path& dir, bool projecting = true,
                  tessera::eventstore::LogOptions options = {}) {
    log_ = tessera::eventstore::Log::open(dir / "log", options).value();
    models_ = tessera::projections::ReadModels::open(dir / "readmodels").value();
    pipeline_ = std::make_unique<tessera::pipeline::Pipeline>(*log_, tessera::pipeline::system_sources());
    if (projecting) projector_ = std::make_unique<tessera::projections::Projector>(*log_, *models_);
    claims_ = std::make_unique<api::ClaimTokens>(std::string(32, 'k'));
    api::Services services{pipeline_.get(), *models_, claims_.get(), guesses_, {}};
    services.read_your_writes = std::chrono::milliseconds(projecting ? 5000 : 50);
    handler_ = std::make_unique<api::Handler>(std::move(services));
  }

  api::Response send(http::verb method, const std::string& target, const std::string& body = {},
                     Headers headers = {}) {
    api::Request request{method, target, 11};
    request.set(http::field::host, "tessera.test");
    for (const auto& [name, value] : headers) request.set(name, value);
    request.body() = body;
    request.prepare_payload();
    return handler_->handle(request, "192.0.2.1");
  }
  api::Response post(const std::string& target, const json& body, Headers headers = {}) {
    return send(http::verb::post, target, body.dump(), headers);
  }
  api::Response get(const std::string& target) { return send(http::verb::get, target); }


 private:
  std::unique_ptr<tessera::eventstore::Log> log_;
  std::unique_ptr<tessera::projections::ReadModels> models_;
  std::unique_ptr<tessera::pipeline::Pipeline> pipeline_;
  std::unique_ptr<tessera::projections::Projector> projector_;
  std::unique_ptr<api::ClaimTokens> claims_;
  api::GuessLimiter guesses_;
  std::unique_ptr<api::Handler> handler_;
};

json body_of(const api::Response& r) { return json::parse(r.body(), nullptr, /*allow_exceptions=*/false); }

// Whether `r` is a problem of `status` whose type ends in `slug`, with the
// status repeated in the body, and a detail.
testing::AssertionResult IsProblem(const api::Response& r, http::status status, std::string_view slug) {
  const json body = body_of(r);
  if (r.result() != status) {
    return testing::AssertionFailure() << "status " << r.result_int() << ", expected " << static_cast<int>(status)
                                       << ": " << r.body();
  }
  if (r[http::field::content_type] != "application/problem+json") {
    return testing::AssertionFailure() << "content type " << r[http::field::content_type];
  }
  if (!body.is_object() || body.value("type", "") != std::string(kProblems) + std::string(slug) ||
      body.value("status", 0) != static_cast<int>(status) || body.value("detail", "").empty()) {
    return testing::AssertionFailure() << "body " << r.body() << ", expected type " << slug;
  }
  return testing::AssertionSuccess();
}

const std::string kContracts = "/v1/orgs/acme/contracts";

std::string create_contract(Served& s) {
  const auto r = s.post(kContracts, {{"name", "Training"}});
  EXPECT_EQ(r.result(), http::status::created) << r.body();
  return body_of(r).value("id", "");
}

// ---------------------------------------------------------------------------
// Errors of the HTTP layer itself.

TEST(Handler, ABodyThatIsNotJsonIsMalformedJson) {
  tessera::test_support::TempDir dir;
  Served s(dir.path());
  EXPECT_TRUE(IsProblem(s.send(http::verb::post, kContracts, "{nope"), http::status::bad_request, "malformed-json"));
}

TEST(Handler, AnUnknownPathIsNotFound) {
  tessera::test_support::TempDir dir;
  Served s(dir.path());
  EXPECT_TRUE(IsProblem(s.get("/v1/nothing/here"), http::status::not_found, "not-found"));
}

TEST(Handler, AnotherMethodOfAKnownPathIsMethodNotAllowedWithAllow) {
  tessera::test_support::TempDir dir;
  Served s(dir.path());
  const auto r = s.send(http::verb::put, kContracts + "/c1");
  EXPECT_TRUE(IsProblem(r, http::status::method_not_allowed, "method-not-allowed"));
  EXPECT_EQ(r[http::field::allow], "GET, PATCH");
}

// ---------------------------------------------------------------------------
// Refusals of the domain and the pipeline.

TEST(Handler, AnInvalidFieldIsValidation) {
  tessera::test_support::TempDir dir;
  Served s(dir.path());
  EXPECT_TRUE(IsProblem(s.post(kContracts, {{"name", ""}}), http::status::unprocessable_entity, "validation"));
}

TEST(Handler, AnUnknownResourceIsItsOwnNotFound) {
  tessera::test_support::TempDir dir;
  Served s(dir.path());
  EXPECT_TRUE(IsProblem(s.get(kContracts + "/c404"), http::status::not_found, "contract-unknown"));
  EXPECT_TRUE(IsProblem(s.post(kContracts + "/c404/batches", {{"quantity", 1}}), http::status::not_found,
                        "contract-unknown"));
}

TEST(Handler, AConflictWithSettledStateIsConflict) {
  tessera::test_support::TempDir dir;
  Served s(dir.path());
  const auto session = s.post("/v1/orgs/acme/sessions", {{"name", "Day"}, {"capacity", 1}});
  ASSERT_EQ(session.result(), http::status::created) << session.body();
  const std::string id = body_of(session).value("id", "");
  const auto lower = s.send(http::verb::patch, "/v1/orgs/acme/sessions/" + id, json{{"capacity", 0}}.dump());
  EXPECT_EQ(lower.result(), http::status::ok) << lower.body();
  const std::string invite = "/v1/orgs/acme/sessions/" + id + "/invitations";
  EXPECT_TRUE(IsProblem(s.post(invite, {{"participant", {{"email", "ann@example.com"}}}}), http::status::conflict,
                        "session-full"));
}

TEST(Handler, AnIfMatchOfAnotherVersionIsAPreconditionFailure) {
  tessera::test_support::TempDir dir;
  Served s(dir.path());
  const std::string id = create_contract(s);
  const auto r = s.send(http::verb::patch, kContracts + "/" + id, json{{"name", "Renamed"}}.dump(),
                        {{"If-Match", "\"7\""}});
  EXPECT_TRUE(IsProblem(r, http::status::precondition_failed, "version-conflict"));
  EXPECT_EQ(body_of(s.get(kContracts + "/" + id)).value("name", ""), "Training");
}

TEST(Handler, AnIdempotencyKeyReusedForAnotherBodyIsRefused) {
  tessera::test_support::TempDir dir;
  Served s(dir.path());
  const auto first = s.post(kContracts, {{"name", "A"}}, {{"Idempotency-Key", "k-1"}});
  ASSERT_EQ(first.result(), http::status::created) << first.body();
  EXPECT_TRUE(IsProblem(s.post(kContracts, {{"name", "B"}}, {{"Idempotency-Key", "k-1"}}),
                        http::status::unprocessable_entity, "idempotency-key-reused"));
  const auto again = s.post(kContracts, {{"name", "A"}}, {{"Idempotency-Key", "k-1"}});
  EXPECT_EQ(again.result(), http::status::created);
  EXPECT_EQ(again["Idempotent-Replayed"], "true");
  EXPECT_EQ(body_of(again), body_of(first));
}

TEST(Handler, RepeatedUnknownCodesAreRateLimitedWithRetryAfter) {
  tessera::test_support::TempDir dir;
  Served s(dir.path());
  api::Response last;
  for (int i = 0; i < 20; ++i) {
    last = s.post("/v1/orgs/acme/redemptions",
                  {{"code", "ZZZZ-ZZZZ-ZZZZ-ZZZZ"}, {"participant", {{"email", "eve@example.com"}}}});
    if (last.result() == http::status::too_many_requests) break;
    ASSERT_TRUE(IsProblem(last, http::status::not_found, "code-unknown") ||
                IsProblem(last, http::status::unprocessable_entity, "code-malformed"))
        << last.body();
  }
  EXPECT_TRUE(IsProblem(last, http::status::too_many_requests, "rate-limited"));
  EXPECT_FALSE(last[http::field::retry_after].empty());
}

TEST(Handler, APatchRenamesAReschedulesAndResizesASessionAtOnce) {
  tessera::test_support::TempDir dir;
  Served s(dir.path());
  const auto created =
      s.post("/v1/orgs/acme/sessions", {{"name", "Day"}, {"capacity", 5}, {"opens_at", "2027-01-01T09:00:00Z"}});
  ASSERT_EQ(created.result(), http::status::created) << created.body();
  const std::string path = "/v1/orgs/acme/sessions/" + body_of(created).value("id", "");
  const auto patched = s.send(http::verb::patch, path,
                              json{{"name", "Evening"}, {"opens_at", "2027-01-01T18:00:00Z"}, {"capacity", 8}}.dump());
  ASSERT_EQ(patched.result(), http::status::ok) << patched.body();
  const json session = body_of(s.get(path));
  EXPECT_EQ(session.value("name", ""), "Evening");
  EXPECT_EQ(session.value("opens_at", ""), "2027-01-01T18:00:00Z");
  EXPECT_EQ(session.value("capacity", 0), 8);
  const auto opened = s.send(http::verb::patch, path, json{{"opens_at", nullptr}}.dump());
  ASSERT_EQ(opened.result(), http::status::ok) << opened.body();
  EXPECT_TRUE(body_of(opened).at("opens_at").is_null());
  EXPECT_EQ(body_of(opened).value("name", ""), "Evening");
  EXPECT_TRUE(IsProblem(s.send(http::verb::patch, path, json{{"name", ""}}.dump()),
                        http::status::unprocessable_entity, "validation"));
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
  EXPECT_TRUE(IsProblem(r, http::status::service_unavailable, "unavailable"));
  EXPECT_EQ(r[http::field::retry_after], "1");
  EXPECT_EQ(body_of(s.get(kContracts + "/" + id)).value("name", ""), "Training");
}

TEST(ProblemFor, EachAdviceHasItsStatus) {
  using tessera::retry;
  EXPECT_EQ(api::detail::status_for(Error(tessera::eventstore::errc::io_error, "disk")),
            http::status::service_unavailable);
  EXPECT_EQ(api::detail::status_for(Error(tessera::eventstore::errc::version_conflict, "raced")),
            http::status::conflict);
  EXPECT_EQ(api::detail::status_for(Error(tessera::eventstore::errc::corruption, "bad")),
            http::status::internal_server_error);
  EXPECT_EQ(api::detail::status_for(Error(std::make_error_code(std::errc::invalid_argument))),
            http::status::internal_server_error);
  const auto unavailable = api::detail::problem_for(Error(tessera::eventstore::errc::io_error, "disk"));
  EXPECT_TRUE(IsProblem(unavailable, http::status::service_unavailable, "unavailable"));
  EXPECT_EQ(unavailable[http::field::retry_after], "1");
  EXPECT_TRUE(IsProblem(api::detail::problem_for(Error(tessera::eventstore::errc::corruption, "a bad record")),
                        http::status::internal_server_error, "internal"));
}

// ---------------------------------------------------------------------------
// Read models that lag behind the log.

TEST(Handler, AGetWhoseModelsLagIsUnavailableNeverA2xx) {
  tessera::test_support::TempDir dir;
  Served s(dir.path(), /*projecting=*/false);
  const auto created = s.post(kContracts, {{"name", "Training"}});
  // The command is durable; only its resource is not readable yet.
  ASSERT_EQ(created.result(), http::status::accepted) << created.body();
  const std::string location(created[http::field::location]);
  ASSERT_TRUE(location.starts_with(kContracts + "/")) << location;
  const auto r = s.get(location);
  EXPECT_TRUE(IsProblem(r, http::status::service_unavailable, "unavailable"));
  EXPECT_EQ(r[http::field::retry_after], "1");
}

}  // namespace
