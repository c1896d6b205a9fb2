// A write's answer is the resource as a GET right after it reads it (DESIGN.md,
// "HTTP edge"): for random sequences of writes over the whole lifecycle, every
// 2xx answer that shows a resource equals, body and ETag, the GET of that
// resource that follows it.
#include <gtest/gtest.h>
#include <rapidcheck.h>
#include <rapidcheck/gtest.h>

#include <string>
#include <tuple>
#include <vector>

#include "served.h"
#include "temp_dir.h"

namespace {

namespace http = tessera::api::http;
using nlohmann::json;
using tessera::test_support::HttpResponse;
using tessera::test_support::Served;

const std::string kOrg = "/v1/orgs/acme";

// What the sequence has made so far, for the next writes to act on.
struct Made {
  std::vector<std::string> contracts, sessions, codes, registrations, invitations, tokens;
};

const std::string& pick(const std::vector<std::string>& from, int choice) {
  return from[static_cast<std::size_t>(choice) % from.size()];
}

class Writer {
 public:
  explicit Writer(Served& served) : served_(served) {}

  // One write chosen by `action` on what `choice` picks; the answer and the
  // path of the resource it shows (empty when it shows none).
  std::pair<HttpResponse, std::string> write(int action, int choice) {
    switch (action) {
      case 0:
        return create(kOrg + "/contracts",
                      {{"name", "C" + std::to_string(choice)},
                       {"reuse_cancelled_codes", choice % 2 == 0},
                       {"default_price", {{"amount", 100 * (choice % 5)}, {"currency", "EUR"}}}},
                      made_.contracts);
      case 1:
        if (made_.contracts.empty()) return {};
        return create(kOrg + "/sessions",
                      {{"name", "S" + std::to_string(choice)},
                       {"capacity", 1 + choice % 4},
                       {"contract_id", pick(made_.contracts, choice)}},
                      made_.sessions);
      case 2: {
        if (made_.contracts.empty() || made_.sessions.empty()) return {};
        json body = {
            {"quantity", 1 + choice % 3}, {"max_uses", 1 + choice % 2}, {"session_id", pick(made_.sessions, choice)}};
        if (choice % 3 == 0) body["price"] = {{"amount", 250}, {"currency", "EUR"}};
        const auto answer = served_.post(kOrg + "/contracts/" + pick(made_.contracts, choice) + "/batches", body);
        if (answer.status != 201) return {answer, ""};
        const json batch = answer.json();
        for (const auto& code : batch["codes"]) made_.codes.push_back(code["code"]);
        return {answer, answer.header("location")};
      }
      case 3:
        if (made_.codes.empty()) return {};
        return create(kOrg + "/redemptions",
                      {{"code", pick(made_.codes, choice)},
                       {"participant", {{"email", "p" + std::to_string(choice % 7) + "@example.org"}}}},
                      made_.registrations);
      case 4:
        return act(made_.registrations, choice, "/registrations/", "/cancel");
      case 5:
        return act(made_.registrations, choice, "/registrations/", "/revoke");
      case 6: {
        if (made_.codes.empty()) return {};
        const std::string path = kOrg + "/codes/" + tessera::test_support::percent_encode(pick(made_.codes, choice));
        return {served_.post(path + "/assign",
                             {{"participant", {{"email", "a" + std::to_string(choice) + "@example.org"}}}}),
                path};
      }
      case 7: {
        if (made_.codes.empty()) return {};
        const std::string path = kOrg + "/codes/" + tessera::test_support::percent_encode(pick(made_.codes, choice));
        return {served_.send(http::verb::patch, path, json{{"note", "n" + std::to_string(choice)}}.dump()), path};
      }
      case 8: {
        if (made_.sessions.empty()) return {};
        json body = {{"participant", {{"email", "i" + std::to_string(choice) + "@example.org"}}},
                     {"confirm_over_capacity", choice % 2 == 0}};
        if (!made_.codes.empty() && choice % 3 == 0) body["code"] = pick(made_.codes, choice);
        auto made =
            create(kOrg + "/sessions/" + pick(made_.sessions, choice) + "/invitations", body, made_.invitations);
        if (made.first.status == 201) made_.tokens.push_back(made.first.json()["claim_token"]);
        return made;
      }
      case 9:
        return act(made_.invitations, choice, "/invitations/", choice % 2 == 0 ? "/resend" : "/cancel");
      case 10:
        if (made_.tokens.empty()) return {};
        return create("/v1/claims/" + pick(made_.tokens, choice), json::object(), made_.registrations);
      case 11: {
        if (made_.sessions.empty()) return {};
        const std::string path = kOrg + "/sessions/" + pick(made_.sessions, choice);
        return {served_.send(http::verb::patch, path,
                             json{{"capacity", choice % 6}, {"name", "R" + std::to_string(choice)}}.dump()),
                path};
      }
      default: {
        if (made_.registrations.empty()) return {};
        const std::string path = kOrg + "/registrations/" + pick(made_.registrations, choice);
        return {
            served_.send(http::verb::patch, path,
                         json{{"access_until", "2031-01-0" + std::to_string(1 + choice % 9) + "T00:00:00Z"}}.dump()),
            path};
      }
    }
  }

 private:
  std::pair<HttpResponse, std::string> create(const std::string& target, const json& body,
                                              std::vector<std::string>& into) {
    const auto answer = served_.post(target, body);
    if (answer.status != 201) return {answer, ""};
    into.push_back(answer.json()["id"]);
    return {answer, answer.header("location")};
  }
  std::pair<HttpResponse, std::string> act(const std::vector<std::string>& ids, int choice, const std::string& kind,
                                           const std::string& action) {
    if (ids.empty()) return {};
    const std::string path = kOrg + kind + pick(ids, choice);
    return {served_.post(path + action, json::object()), path};
  }

  Served& served_;
  Made made_;
};

RC_GTEST_PROP(WriteAnswers, EqualTheGetThatFollows, ()) {
  // At most 24 steps each: every write waits for its fsync, and a hundred
  // sequences of a few dozen writes cover every kind of write many times.
  const auto steps = *rc::gen::resize(24, rc::gen::container<std::vector<std::tuple<int, int>>>(
                                              rc::gen::tuple(rc::gen::inRange(0, 13), rc::gen::inRange(0, 1000))));
  tessera::test_support::TempDir dir;
  Served served(dir.path());
  Writer writer(served);
  const auto write = [&](int action, int choice) {
    const auto [answer, path] = writer.write(action, choice);
    if (path.empty() || (answer.status != 200 && answer.status != 201)) return;
    const auto read = served.get(path);
    RC_ASSERT(read.status == 200);
    // A batch's answer is its document and the codes it issued, which its
    // document does not list.
    json answered = answer.json();
    if (path.find("/batches/") != std::string::npos) answered.erase("codes");
    RC_ASSERT(read.json() == answered);
    RC_ASSERT(read.header("etag") == answer.header("etag"));
  };
  // A contract, a session and codes first, so that most steps have
  // something to act on.
  write(0, 0);
  write(1, 3);
  write(2, 2);
  for (const auto& [action, choice] : steps) write(action, choice);
}

}  // namespace
