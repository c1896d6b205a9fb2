// The problems that the scenario tests do not reach, each over HTTP: status,
// problem+json, stable type; and the per-address limit on code guessing.
#include <gtest/gtest.h>

#include "../support/http_client.h"
#include "../support/problem.h"
#include "../support/server_process.h"
#include "../support/temp_dir.h"

namespace tessera::test_support {
namespace {

using nlohmann::json;

class Errors : public ::testing::Test {
 protected:
  TempDir dir_;
  ServerProcess server_{TESSERAD_PATH, dir_.path() / "data", {"--kafka", "none"}};
  HttpClient http_{"127.0.0.1", server_.port()};

  std::string contract_ = http_.post("/v1/orgs/acme/contracts", {{"name", "Acme"}}).json()["id"];
  std::string session_ = http_.post("/v1/orgs/acme/sessions", {{"name", "S"}, {"capacity", 10}}).json()["id"];

  std::vector<std::string> codes(const json& extra) {
    json body = {{"quantity", 3}, {"session_id", session_}};
    body.update(extra);
    const auto batch = http_.post("/v1/orgs/acme/contracts/" + contract_ + "/batches", body);
    EXPECT_EQ(batch.status, 201) << batch.body;
    std::vector<std::string> out;
    if (batch.status == 201) {
      const json answer = batch.json();
      for (const auto& c : answer["codes"]) out.push_back(c["code"]);
    }
    return out;
  }

  HttpResponse redeem(const std::string& code, const std::string& email) {
    return http_.post("/v1/orgs/acme/redemptions", {{"code", code}, {"participant", {{"email", email}}}});
  }
};

TEST_F(Errors, RestrictionsAreEnforced) {
  const auto by_domain = codes({{"restrictions", {{"email_domains", json::array({"example.com"})}}}});
  EXPECT_TRUE(IsProblem(redeem(by_domain.at(0), "eve@elsewhere.org"), 403, "code-restricted"));
  EXPECT_EQ(redeem(by_domain.at(0), "ada@example.com").status, 201);
  const auto by_group = codes({{"restrictions", {{"groups", json::array({"scholars"})}}}});
  EXPECT_TRUE(IsProblem(redeem(by_group.at(0), "ada@example.com"), 403, "code-restricted"));
  const auto ok =
      http_.post("/v1/orgs/acme/redemptions",
                 {{"code", by_group.at(0)}, {"participant", {{"email", "ada@example.com"}, {"group", "scholars"}}}});
  EXPECT_EQ(ok.status, 201) << ok.body;
}

TEST_F(Errors, UnknownInvitationsAndRegistrations) {
  EXPECT_TRUE(IsProblem(http_.get("/v1/orgs/acme/invitations/nope"), 404, "invitation-unknown"));
  EXPECT_TRUE(IsProblem(http_.send("POST", "/v1/claims/nope.nope", "", {}), 404, "invitation-unknown"));
  EXPECT_TRUE(
      IsProblem(http_.send("POST", "/v1/orgs/acme/registrations/nope/cancel", "", {}), 404, "registration-unknown"));
  EXPECT_TRUE(IsProblem(http_.get("/v1/orgs/acme/registrations/nope"), 404, "registration-unknown"));
}

TEST_F(Errors, ACancelledRegistrationIsNotActive) {
  const auto code = codes(json::object()).at(0);
  const auto registration = redeem(code, "ada@example.com").json();
  const std::string path = "/v1/orgs/acme/registrations/" + registration["id"].get<std::string>();
  EXPECT_EQ(http_.send("POST", path + "/cancel", "", {}).status, 200);
  EXPECT_TRUE(IsProblem(http_.send("POST", path + "/cancel", "", {}), 409, "registration-not-active"));
  EXPECT_TRUE(IsProblem(http_.send("POST", path + "/revoke", "", {}), 409, "registration-not-active"));
}

TEST_F(Errors, ACodeWithPendingInvitationsIsNotDeleted) {
  const auto code = codes(json::object()).at(0);
  const auto invitation = http_.post("/v1/orgs/acme/sessions/" + session_ + "/invitations",
                                     {{"participant", {{"email", "ada@example.com"}}}, {"code", code}});
  ASSERT_EQ(invitation.status, 201) << invitation.body;
  EXPECT_TRUE(IsProblem(http_.send("DELETE", "/v1/orgs/acme/codes/" + code, "", {}), 409, "code-invited"));
}

TEST_F(Errors, ABodyOverTheLimitIsRefused) {
  const std::string huge(9 << 20, 'x');
  EXPECT_TRUE(IsProblem(http_.send("POST", "/v1/orgs/acme/contracts", huge, {{"content-type", "application/json"}}),
                        413, "payload-too-large"));
  EXPECT_EQ(http_.get("/healthz").status, 200);
}

TEST_F(Errors, GuessingCodesIsRateLimitedPerAddress) {
  const auto code = codes(json::object()).at(0);
  int limited_at = -1;
  for (int i = 0; i < 30 && limited_at < 0; ++i) {
    const auto r = redeem("0000-0000-0000-0", "eve@example.com");
    if (r.status == 429) {
      limited_at = i;
      EXPECT_EQ(problem_slug(r), "rate-limited");
      EXPECT_GE(std::stoi(r.headers.at("retry-after")), 1);
    } else {
      EXPECT_TRUE(IsProblem(r, 404, "code-unknown"));
    }
  }
  EXPECT_GE(limited_at, 5) << "the limit leaves honest typos room";
  EXPECT_LE(limited_at, 20) << "guessing is not slowed down";
  // While limited, even a real code waits: the limit comes before any lookup.
  EXPECT_TRUE(IsProblem(redeem(code, "ada@example.com"), 429, "rate-limited"));
}

TEST_F(Errors, ConflictsWithRealCodesAreNotRateLimited) {
  const auto code = codes(json::object()).at(0);
  ASSERT_EQ(redeem(code, "ada@example.com").status, 201);
  for (int i = 0; i < 30; ++i) EXPECT_TRUE(IsProblem(redeem(code, "ada@example.com"), 409, "code-exhausted"));
}

}  // namespace
}  // namespace tessera::test_support
