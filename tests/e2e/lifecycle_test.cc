// End to end: the lifecycle of codes, invitations and registrations, walked
// through the HTTP API as the README documents it (its answers, fields and
// problem types). Each test runs a
// fresh tesserad as a process on its own data directory and talks to it over
// a socket; nothing here reaches inside the server.
#include <gtest/gtest.h>

#include <cctype>
#include <chrono>
#include <cstdio>
#include <ctime>
#include <map>
#include <optional>
#include <set>
#include <stdexcept>
#include <string>
#include <string_view>
#include <thread>
#include <vector>

#include "../support/http_client.h"
#include "../support/problem.h"
#include "../support/server_process.h"
#include "../support/temp_dir.h"

namespace tessera::test_support {
namespace {

using nlohmann::json;
using Clock = std::chrono::system_clock;

const json kEur4900 = {{"amount", 4900}, {"currency", "EUR"}};
const json kEur1500 = {{"amount", 1500}, {"currency", "EUR"}};

// ---------------------------------------------------------------------------
// Small helpers: URLs, times, CSV.

std::string enc(std::string_view text) { return percent_encode(text); }

// RFC 3339 UTC with milliseconds.
std::string rfc3339(Clock::time_point tp) {
  const auto ms = std::chrono::duration_cast<std::chrono::milliseconds>(tp.time_since_epoch()).count();
  const std::time_t secs = static_cast<std::time_t>(ms / 1000);
  std::tm tm{};
  gmtime_r(&secs, &tm);
  char buf[64];
  std::snprintf(buf, sizeof buf, "%04d-%02d-%02dT%02d:%02d:%02d.%03dZ", tm.tm_year + 1900, tm.tm_mon + 1, tm.tm_mday,
                tm.tm_hour, tm.tm_min, tm.tm_sec, static_cast<int>(ms % 1000));
  return buf;
}

// An RFC 4180 reading: records of fields; `crlf` is false if any record
// ended with a bare LF or CR; `closed` false if a quote was left open.
struct Csv {
  std::vector<std::vector<std::string>> records;
  bool crlf = true;
  bool closed = true;

  std::size_t column(const std::string& name) const {
    if (records.empty()) throw std::runtime_error("CSV without a header row");
    for (std::size_t i = 0; i < records.front().size(); ++i) {
      if (records.front()[i] == name) return i;
    }
    throw std::runtime_error("CSV header has no column " + name);
  }
  // The data rows (after the header) as maps from column name to value.
  std::vector<std::map<std::string, std::string>> rows() const {
    std::vector<std::map<std::string, std::string>> out;
    for (std::size_t r = 1; r < records.size(); ++r) {
      std::map<std::string, std::string> row;
      for (std::size_t i = 0; i < records.front().size(); ++i) {
        row[records.front()[i]] = i < records[r].size() ? records[r][i] : std::string("<missing>");
      }
      out.push_back(std::move(row));
    }
    return out;
  }
};

Csv parse_csv(std::string_view text) {
  Csv out;
  std::vector<std::string> record;
  std::string field;
  bool quoted = false;
  bool was_quoted = false;
  std::size_t i = 0;
  while (i < text.size()) {
    const char c = text[i];
    if (quoted) {
      if (c == '"') {
        if (i + 1 < text.size() && text[i + 1] == '"') {
          field.push_back('"');
          i += 2;
          continue;
        }
        quoted = false;
        ++i;
        continue;
      }
      field.push_back(c);
      ++i;
      continue;
    }
    if (c == '"' && field.empty() && !was_quoted) {
      quoted = was_quoted = true;
      ++i;
      continue;
    }
    if (c == ',') {
      record.push_back(std::move(field));
      field.clear();
      was_quoted = false;
      ++i;
      continue;
    }
    if (c == '\r' || c == '\n') {
      if (c == '\r' && i + 1 < text.size() && text[i + 1] == '\n') {
        i += 2;
      } else {
        out.crlf = false;
        ++i;
      }
      record.push_back(std::move(field));
      field.clear();
      was_quoted = false;
      out.records.push_back(std::move(record));
      record.clear();
      continue;
    }
    field.push_back(c);
    ++i;
  }
  if (quoted) out.closed = false;
  if (!field.empty() || !record.empty() || was_quoted) {  // a last record without its line break
    record.push_back(std::move(field));
    out.records.push_back(std::move(record));
  }
  return out;
}

std::string email_of(const json& resource) {
  if (!resource.contains("participant") || !resource["participant"].is_object()) return "<no participant>";
  return resource["participant"].value("email", "<no email>");
}

// ---------------------------------------------------------------------------
// The fixture: one fresh tesserad per test, org "acme".

class Lifecycle : public ::testing::Test {
 protected:
  TempDir dir_{"tessera-lifecycle"};
  ServerProcess server_{TESSERAD_PATH, dir_.path() / "data", {"--kafka", "none"}};
  HttpClient http_{"127.0.0.1", server_.port()};
  const std::string org_ = "/v1/orgs/acme";

  // The body of an answer that must have `status`; throws (ending the test
  // with the message) otherwise, since the steps after it would be noise.
  static json must(const HttpResponse& r, int status, const std::string& what) {
    if (r.status != status) {
      throw std::runtime_error(what + ": expected " + std::to_string(status) + ", got " + std::to_string(r.status) +
                               " " + r.body);
    }
    return r.body.empty() ? json() : r.json();
  }

  json create(const std::string& target, const json& body) {
    const auto r = http_.post(target, body);
    json created = must(r, 201, "POST " + target + " " + body.dump());
    EXPECT_EQ(r.headers.count("location"), 1U) << "a create answers with a Location: POST " << target;
    EXPECT_TRUE(created.contains("id")) << "a created resource carries its id: " << r.body;
    return created;
  }

  HttpResponse get(const std::string& target, const std::map<std::string, std::string>& headers = {}) {
    return http_.send("GET", target, "", headers);
  }
  json read(const std::string& target) { return must(get(target), 200, "GET " + target); }

  HttpResponse patch(const std::string& target, const json& body, const std::string& if_match = "") {
    std::map<std::string, std::string> headers{{"content-type", "application/json"}};
    if (!if_match.empty()) headers["if-match"] = if_match;
    return http_.send("PATCH", target, body.dump(), headers);
  }

  // Resources.
  std::string contract(const json& body = {{"name", "Acme 2027"}}) { return create(org_ + "/contracts", body)["id"]; }
  std::string session(int capacity, json extra = json::object()) {
    extra["name"] = extra.value("name", "Onboarding");
    extra["capacity"] = capacity;
    return create(org_ + "/sessions", extra)["id"];
  }
  json batch(const std::string& contract_id, const json& body) {
    return create(org_ + "/contracts/" + contract_id + "/batches", body);
  }
  static std::vector<std::string> codes_of(const json& batch) {
    std::vector<std::string> out;
    for (const auto& c : batch.at("codes")) out.push_back(c.at("code"));
    return out;
  }

  std::string code_url(const std::string& code) { return org_ + "/codes/" + enc(code); }
  json code(const std::string& value) { return read(code_url(value)); }
  json seats(const std::string& session_id) { return read(org_ + "/sessions/" + session_id + "/seats"); }
  json roster(const std::string& session_id) { return read(org_ + "/sessions/" + session_id + "/roster"); }
  json summary(const std::string& contract_id) { return read(org_ + "/contracts/" + contract_id + "/summary"); }
  json invitation(const std::string& id) { return read(org_ + "/invitations/" + id); }
  json registration(const std::string& id) { return read(org_ + "/registrations/" + id); }

  HttpResponse redeem(const std::string& code, const std::string& email,
                      const std::optional<std::string>& session_id = std::nullopt) {
    json body = {{"code", code}, {"participant", {{"email", email}}}};
    if (session_id) body["session_id"] = *session_id;
    return http_.post(org_ + "/redemptions", body);
  }
  json redeemed(const std::string& code, const std::string& email,
                const std::optional<std::string>& session_id = std::nullopt) {
    return must(redeem(code, email, session_id), 201, "redeem " + code + " as " + email);
  }

  HttpResponse invite(const std::string& session_id, const json& body) {
    return http_.post(org_ + "/sessions/" + session_id + "/invitations", body);
  }
  json invited(const std::string& session_id, const json& body) {
    return must(invite(session_id, body), 201, "invite to " + session_id + " " + body.dump());
  }
  // A claim; without a body (nullopt) the invitee is registered.
  HttpResponse claim(const std::string& token, const std::optional<json>& body = std::nullopt) {
    if (!body) return http_.send("POST", "/v1/claims/" + enc(token), "", {});
    return http_.post("/v1/claims/" + enc(token), *body);
  }

  HttpResponse action(const std::string& target) { return http_.post(target, json::object()); }

  static json seats_of(int capacity, int reserved, int registered, int available) {
    return {{"capacity", capacity}, {"reserved", reserved}, {"registered", registered}, {"available", available}};
  }
  static json summary_of(int total, int available, int assigned, int used, int archived) {
    return {{"total", total}, {"available", available}, {"assigned", assigned}, {"used", used}, {"archived", archived}};
  }
  // A summary's five counts (ignoring any other field it may carry).
  static json counts(const json& summary) {
    json out;
    for (const char* key : {"total", "available", "assigned", "used", "archived"}) {
      out[key] = summary.contains(key) ? summary[key] : json("<missing>");
    }
    return out;
  }
  static json seat_counts(const json& seats) {
    json out;
    for (const char* key : {"capacity", "reserved", "registered", "available"}) {
      out[key] = seats.contains(key) ? seats[key] : json("<missing>");
    }
    return out;
  }

  // The codes of a batch by their assignee's email, read from each code.
  std::map<std::string, std::string> codes_by_assignee(const json& batch) {
    std::map<std::string, std::string> out;
    for (const auto& value : codes_of(batch)) out[email_of(code(value))] = value;
    return out;
  }

  static bool lists_id(const json& list, const std::string& id) {
    if (!list.is_array()) return false;
    for (const auto& item : list) {
      if (item.is_object() && item.value("id", std::string()) == id) return true;
    }
    return false;
  }
};

// ---------------------------------------------------------------------------
// 1. Prices: the batch's, else the contract's default_price, else none.

TEST_F(Lifecycle, RedemptionRecordsTheBatchPriceElseTheContractPriceElseNone) {
  const std::string priced_contract = contract({{"name", "Priced"}, {"default_price", kEur1500}});
  const std::string free_contract = contract({{"name", "Free"}});
  const std::string s = session(10);

  const auto with_price = codes_of(batch(priced_contract, {{"quantity", 1}, {"session_id", s}, {"price", kEur4900}}));
  const auto by_contract = codes_of(batch(priced_contract, {{"quantity", 1}, {"session_id", s}}));
  const auto no_price = codes_of(batch(free_contract, {{"quantity", 1}, {"session_id", s}}));

  EXPECT_EQ(code(with_price[0])["price"], kEur4900);
  EXPECT_TRUE(code(no_price[0])["price"].is_null()) << code(no_price[0]);

  json a = redeemed(with_price[0], "ada@example.com");
  EXPECT_EQ(a["price"], kEur4900) << a;
  EXPECT_EQ(a["session_id"], s);
  EXPECT_EQ(a["status"], "active");
  EXPECT_EQ(email_of(a), "ada@example.com");

  json b = redeemed(by_contract[0], "bob@example.com");
  EXPECT_EQ(b["price"], kEur1500) << "no batch price: the contract's default_price: " << b;

  json c = redeemed(no_price[0], "cy@example.com");
  EXPECT_TRUE(c.contains("price") && c["price"].is_null()) << "neither: price null: " << c;

  // The price is recorded on the registration, as read back.
  EXPECT_EQ(registration(b["id"])["price"], kEur1500);

  // A registration without a code is priced by its session's contract's
  // default_price (an invitation without a code, claimed).
  const std::string contracted = session(5, {{"name", "Contracted"}, {"contract_id", priced_contract}});
  json inv = invited(contracted, {{"participant", {{"email", "dee@example.com"}}}});
  json reg = must(claim(inv["claim_token"]), 201, "claim an invitation without a code");
  EXPECT_EQ(reg["price"], kEur1500) << reg;
}

// ---------------------------------------------------------------------------
// 2. Assigned codes; assign; the contract summary.

TEST_F(Lifecycle, AssignedCodesAreRedeemedOnlyByTheirAssignee) {
  const std::string k = contract();
  const std::string s = session(10);
  json assigned_batch =
      batch(k, {{"session_id", s},
                {"participants", {{{"email", "ada@example.com"}, {"name", "Ada"}}, {{"email", "bob@example.com"}}}}});
  ASSERT_EQ(assigned_batch["codes"].size(), 2U);
  const auto unassigned = codes_of(batch(k, {{"quantity", 2}, {"session_id", s}}));
  EXPECT_EQ(counts(summary(k)), summary_of(4, 2, 2, 0, 0));

  const auto by_email = codes_by_assignee(assigned_batch);
  ASSERT_EQ(by_email.count("ada@example.com"), 1U) << "each code of a participants batch reads its participant";
  ASSERT_EQ(by_email.count("bob@example.com"), 1U);
  const std::string ada_code = by_email.at("ada@example.com");
  const std::string bob_code = by_email.at("bob@example.com");
  EXPECT_EQ(code(ada_code)["status"], "assigned");
  EXPECT_EQ(code(ada_code)["participant"]["name"], "Ada");

  json ada = redeemed(ada_code, "ada@example.com");
  EXPECT_EQ(email_of(ada), "ada@example.com");
  EXPECT_EQ(ada["code"], ada_code);

  EXPECT_TRUE(IsProblem(redeem(bob_code, "carol@example.com"), 403, "code-assigned-elsewhere"));
  EXPECT_EQ(code(bob_code)["uses"], 0) << "a refused redemption takes no use";
  EXPECT_EQ(counts(summary(k)), summary_of(4, 2, 1, 1, 0));

  // Assign an unassigned code.
  const auto assigned = http_.post(code_url(unassigned[0]) + "/assign",
                                   {{"participant", {{"email", "carol@example.com"}, {"name", "Carol"}}}});
  json carol_code = must(assigned, 200, "assign an unassigned code");
  EXPECT_EQ(carol_code["status"], "assigned");
  EXPECT_EQ(email_of(carol_code), "carol@example.com");
  EXPECT_EQ(counts(summary(k)), summary_of(4, 1, 2, 1, 0));

  // An assigned code cannot be assigned to someone else.
  EXPECT_TRUE(
      IsProblem(http_.post(code_url(unassigned[0]) + "/assign", {{"participant", {{"email", "dan@example.com"}}}}), 403,
                "code-assigned-elsewhere"));
  EXPECT_TRUE(IsProblem(redeem(unassigned[0], "dan@example.com"), 403, "code-assigned-elsewhere"));

  json carol = redeemed(unassigned[0], "carol@example.com");
  EXPECT_EQ(email_of(carol), "carol@example.com");
  EXPECT_EQ(counts(summary(k)), summary_of(4, 1, 1, 2, 0));

  // An unassigned code is anyone's; the assignee's own code still works.
  redeemed(unassigned[1], "erin@example.com");
  redeemed(bob_code, "bob@example.com");
  EXPECT_EQ(counts(summary(k)), summary_of(4, 0, 0, 4, 0));
  EXPECT_EQ(seat_counts(seats(s)), seats_of(10, 0, 4, 6));
}

// ---------------------------------------------------------------------------
// 3. An invitation to an open session reserves a seat; its claim registers.

TEST_F(Lifecycle, AnInvitationReservesASeatAndItsClaimRegisters) {
  const std::string s = session(3);
  const auto r = invite(s, {{"participant", {{"email", "dana@example.com"}, {"name", "Dana"}}}});
  json inv = must(r, 201, "invite");
  EXPECT_EQ(r.headers.count("location"), 1U);
  ASSERT_TRUE(inv.contains("id") && inv["id"].is_string()) << inv;
  EXPECT_EQ(inv["status"], "pending");
  EXPECT_EQ(email_of(inv), "dana@example.com");
  ASSERT_TRUE(inv.contains("claim_token") && inv["claim_token"].is_string()) << inv;
  const std::string token = inv["claim_token"];
  EXPECT_GE(token.size(), 22U) << "128 bits or more";
  ASSERT_TRUE(inv.contains("claim_url") && inv["claim_url"].is_string()) << inv;
  const std::string url = inv["claim_url"];
  EXPECT_TRUE(url.ends_with("/v1/claims/" + token)) << url;

  EXPECT_EQ(seat_counts(seats(s)), seats_of(3, 1, 0, 2));
  json before = roster(s);
  EXPECT_TRUE(lists_id(before["invitations"], inv["id"])) << before;
  EXPECT_TRUE(before["registrations"].is_array() && before["registrations"].empty()) << before;

  json read_back = invitation(inv["id"]);
  EXPECT_EQ(read_back["status"], "pending");
  EXPECT_EQ(read_back["claim_token"], token) << "the same token on every read";

  const auto claimed = claim(token);
  json reg = must(claimed, 201, "claim");
  EXPECT_EQ(claimed.headers.count("location"), 1U);
  EXPECT_EQ(reg["status"], "active");
  EXPECT_EQ(reg["session_id"], s);
  EXPECT_EQ(email_of(reg), "dana@example.com") << "without a participant, the invitee is registered";

  EXPECT_EQ(seat_counts(seats(s)), seats_of(3, 0, 1, 2));
  json after = roster(s);
  EXPECT_FALSE(lists_id(after["invitations"], inv["id"])) << after;
  EXPECT_TRUE(lists_id(after["registrations"], reg["id"])) << after;
  EXPECT_EQ(invitation(inv["id"])["status"], "accepted");

  // A second claim of the same link is refused.
  EXPECT_TRUE(IsProblem(claim(token, json::object()), 410, "invitation-not-pending"));
  EXPECT_EQ(seat_counts(seats(s)), seats_of(3, 0, 1, 2));
}

// ---------------------------------------------------------------------------
// 4. A full session takes an invitation only with confirm_over_capacity.

TEST_F(Lifecycle, AFullSessionTakesAnInvitationOnlyOverCapacityConfirmed) {
  const std::string k = contract();
  const std::string s = session(1);
  const auto codes = codes_of(batch(k, {{"quantity", 1}, {"session_id", s}}));
  invited(s, {{"participant", {{"email", "amy@example.com"}}}});
  EXPECT_EQ(seat_counts(seats(s)), seats_of(1, 1, 0, 0));
  // The reserved seat left public availability.
  EXPECT_TRUE(IsProblem(redeem(codes[0], "pat@example.com"), 409, "session-full"));

  EXPECT_TRUE(IsProblem(invite(s, {{"participant", {{"email", "ben@example.com"}}}}), 409, "session-full"));
  EXPECT_TRUE(IsProblem(invite(s, {{"participant", {{"email", "ben@example.com"}}}, {"confirm_over_capacity", false}}),
                        409, "session-full"));
  EXPECT_EQ(seat_counts(seats(s)), seats_of(1, 1, 0, 0)) << "a refused invitation changes nothing";

  json ben = invited(s, {{"participant", {{"email", "ben@example.com"}}}, {"confirm_over_capacity", true}});
  EXPECT_EQ(ben["status"], "pending");
  EXPECT_EQ(seat_counts(seats(s)), seats_of(2, 2, 0, 0));
  EXPECT_EQ(read(org_ + "/sessions/" + s)["capacity"], 2);
}

// ---------------------------------------------------------------------------
// 5. Resend and cancel.

TEST_F(Lifecycle, ResendKeepsAnInvitationPendingAndCancelFreesItsSeat) {
  const std::string s = session(2);
  json inv = invited(s, {{"participant", {{"email", "eve@example.com"}}}});
  const std::string id = inv["id"];

  json resent = must(action(org_ + "/invitations/" + id + "/resend"), 200, "resend");
  EXPECT_EQ(resent["id"], id);
  EXPECT_EQ(resent["status"], "pending");
  EXPECT_EQ(seat_counts(seats(s)), seats_of(2, 1, 0, 1));

  json cancelled = must(action(org_ + "/invitations/" + id + "/cancel"), 200, "cancel");
  EXPECT_EQ(cancelled["id"], id);
  EXPECT_EQ(cancelled["status"], "cancelled");
  EXPECT_EQ(seat_counts(seats(s)), seats_of(2, 0, 0, 2));
  EXPECT_FALSE(lists_id(roster(s)["invitations"], id));
  EXPECT_EQ(invitation(id)["status"], "cancelled");

  EXPECT_TRUE(IsProblem(action(org_ + "/invitations/" + id + "/cancel"), 410, "invitation-not-pending"));
  EXPECT_TRUE(IsProblem(claim(inv["claim_token"]), 410, "invitation-not-pending"));
  EXPECT_EQ(seat_counts(seats(s)), seats_of(2, 0, 0, 2));
}

// ---------------------------------------------------------------------------
// 6. Several invitations on one single-use code: the first accept wins.

TEST_F(Lifecycle, FirstAcceptWinsAndSupersedesTheOtherInvitations) {
  const std::string k = contract();
  const std::string s1 = session(5, {{"name", "Morning"}});
  const std::string s2 = session(5, {{"name", "Afternoon"}});
  const auto codes = codes_of(batch(k, {{"quantity", 2}}));  // no session: usable in either

  // Different sessions.
  json first = invited(s1, {{"participant", {{"email", "fay@example.com"}}}, {"code", codes[0]}});
  json other = invited(s2, {{"participant", {{"email", "gus@example.com"}}}, {"code", codes[0]}});
  EXPECT_EQ(first["code"], codes[0]);
  EXPECT_EQ(seat_counts(seats(s1)), seats_of(5, 1, 0, 4));
  EXPECT_EQ(seat_counts(seats(s2)), seats_of(5, 1, 0, 4));

  json reg = must(claim(first["claim_token"]), 201, "first claim");
  EXPECT_EQ(reg["code"], codes[0]);
  EXPECT_EQ(reg["session_id"], s1);
  EXPECT_EQ(email_of(reg), "fay@example.com");
  EXPECT_EQ(invitation(first["id"])["status"], "accepted");
  EXPECT_EQ(invitation(other["id"])["status"], "superseded");
  EXPECT_EQ(seat_counts(seats(s1)), seats_of(5, 0, 1, 4));
  EXPECT_EQ(seat_counts(seats(s2)), seats_of(5, 0, 0, 5)) << "the superseded invitation's seat is released";
  EXPECT_FALSE(lists_id(roster(s2)["invitations"], other["id"]));
  EXPECT_TRUE(IsProblem(claim(other["claim_token"]), 410, "invitation-not-pending"));
  EXPECT_EQ(code(codes[0])["status"], "used");
  EXPECT_EQ(code(codes[0])["uses"], 1);

  // The same session, and the second invitee is the one who accepts first.
  json a = invited(s1, {{"participant", {{"email", "hal@example.com"}}}, {"code", codes[1]}});
  json b = invited(s1, {{"participant", {{"email", "ivy@example.com"}}}, {"code", codes[1]}});
  EXPECT_EQ(seat_counts(seats(s1)), seats_of(5, 2, 1, 2));
  json won = must(claim(b["claim_token"], json::object()), 201, "claim of the later invitation");
  EXPECT_EQ(email_of(won), "ivy@example.com");
  EXPECT_EQ(invitation(a["id"])["status"], "superseded");
  EXPECT_EQ(invitation(b["id"])["status"], "accepted");
  EXPECT_EQ(seat_counts(seats(s1)), seats_of(5, 0, 2, 3));
  EXPECT_TRUE(IsProblem(claim(a["claim_token"]), 410, "invitation-not-pending"));
  EXPECT_EQ(seat_counts(seats(s1)), seats_of(5, 0, 2, 3));
}

// ---------------------------------------------------------------------------
// 7. bind_to_email.

TEST_F(Lifecycle, ABoundInvitationIsClaimedOnlyWithTheInviteesEmail) {
  const std::string s = session(5);
  json bound = invited(s, {{"participant", {{"email", "jo@example.com"}}}, {"bind_to_email", true}});
  EXPECT_EQ(bound["bind_to_email"], true);

  EXPECT_TRUE(IsProblem(claim(bound["claim_token"], json{{"participant", {{"email", "mallory@example.com"}}}}), 403,
                        "invitation-bound"));
  EXPECT_EQ(invitation(bound["id"])["status"], "pending") << "a refused claim leaves the invitation pending";
  EXPECT_EQ(seat_counts(seats(s)), seats_of(5, 1, 0, 4));

  json jo = must(claim(bound["claim_token"], json{{"participant", {{"email", "jo@example.com"}, {"name", "Jo"}}}}), 201,
                 "claim of a bound invitation with the invitee's email");
  EXPECT_EQ(email_of(jo), "jo@example.com");

  // An unbound invitation: a forwarded link registers whoever claims it.
  json open = invited(s, {{"participant", {{"email", "kim@example.com"}}}});
  EXPECT_EQ(open["bind_to_email"], false) << "bind_to_email defaults to false";
  json lee = must(claim(open["claim_token"], json{{"participant", {{"email", "lee@example.com"}}}}), 201,
                  "claim of an unbound invitation with another email");
  EXPECT_EQ(email_of(lee), "lee@example.com");
  EXPECT_EQ(seat_counts(seats(s)), seats_of(5, 0, 2, 3));
  json r = roster(s);
  EXPECT_TRUE(lists_id(r["registrations"], jo["id"]));
  EXPECT_TRUE(lists_id(r["registrations"], lee["id"]));
}

// ---------------------------------------------------------------------------
// 8. Expiry: nobody cancels, the seat comes back and the link stops working.

TEST_F(Lifecycle, AnInvitationExpiresOnItsOwnAndFreesItsSeat) {
  const std::string s = session(2);
  const auto expires = Clock::now() + std::chrono::milliseconds(1500);
  json inv = invited(s, {{"participant", {{"email", "max@example.com"}}}, {"expires_at", rfc3339(expires)}});
  EXPECT_TRUE(inv.contains("expires_at") && inv["expires_at"].is_string()) << inv;
  EXPECT_EQ(seat_counts(seats(s)), seats_of(2, 1, 0, 1));

  // Poll (up to 10 s) instead of sleeping a fixed time.
  std::string status = "pending";
  const auto deadline = Clock::now() + std::chrono::seconds(10);
  while (Clock::now() < deadline) {
    json now = invitation(inv["id"]);
    status = now.value("status", "<none>");
    if (status != "pending") {
      EXPECT_TRUE(Clock::now() >= expires) << "it ended before its expires_at, as " << status;
      break;
    }
    std::this_thread::sleep_for(std::chrono::milliseconds(100));
  }
  ASSERT_EQ(status, "expired") << "the invitation did not read expired within 10 s";
  EXPECT_EQ(seat_counts(seats(s)), seats_of(2, 0, 0, 2));
  EXPECT_FALSE(lists_id(roster(s)["invitations"], inv["id"]));
  EXPECT_TRUE(IsProblem(claim(inv["claim_token"]), 410, "invitation-not-pending"));

  // A claim after expires_at fails whether or not the expiry is recorded yet.
  const auto soon = Clock::now() + std::chrono::milliseconds(1500);
  json late = invited(s, {{"participant", {{"email", "ned@example.com"}}}, {"expires_at", rfc3339(soon)}});
  std::this_thread::sleep_until(soon + std::chrono::milliseconds(50));
  EXPECT_TRUE(IsProblem(claim(late["claim_token"]), 410, "invitation-not-pending"));
  EXPECT_EQ(seats(s)["registered"], 0);
}

// ---------------------------------------------------------------------------
// 9. Cancelled-code reuse: off by default; on, the code comes back as it was.

TEST_F(Lifecycle, ACancelledBookingFreesTheCodeOnlyUnderTheReusePolicy) {
  const std::string s = session(5);

  // Off (the default).
  const std::string strict = contract({{"name", "Strict"}});
  EXPECT_EQ(read(org_ + "/contracts/" + strict)["reuse_cancelled_codes"], false);
  const auto strict_codes = codes_of(batch(strict, {{"quantity", 1}, {"session_id", s}}));
  json first = redeemed(strict_codes[0], "oli@example.com");
  json cancelled =
      must(action(org_ + "/registrations/" + first["id"].get<std::string>() + "/cancel"), 200, "cancel a registration");
  EXPECT_EQ(cancelled["status"], "cancelled");
  EXPECT_EQ(seat_counts(seats(s)), seats_of(5, 0, 0, 5)) << "a cancelled booking frees its seat";
  EXPECT_FALSE(lists_id(roster(s)["registrations"], first["id"]));
  EXPECT_TRUE(IsProblem(redeem(strict_codes[0], "oli@example.com"), 409, "code-exhausted"));
  EXPECT_EQ(code(strict_codes[0])["status"], "used");

  // On.
  const std::string lenient = contract({{"name", "Lenient"}});
  json configured =
      must(patch(org_ + "/contracts/" + lenient, {{"reuse_cancelled_codes", true}}), 200, "configure reuse");
  EXPECT_EQ(configured["reuse_cancelled_codes"], true);
  EXPECT_EQ(read(org_ + "/contracts/" + lenient)["reuse_cancelled_codes"], true);

  const auto open_code = codes_of(batch(lenient, {{"quantity", 1}, {"session_id", s}}));
  json once = redeemed(open_code[0], "pia@example.com");
  must(action(org_ + "/registrations/" + once["id"].get<std::string>() + "/cancel"), 200, "cancel");
  EXPECT_EQ(code(open_code[0])["status"], "available");
  EXPECT_EQ(code(open_code[0])["uses"], 0);
  json twice = redeemed(open_code[0], "pia@example.com");
  EXPECT_EQ(twice["code"], open_code[0]);

  json assigned_batch = batch(lenient, {{"session_id", s}, {"participants", {{{"email", "quin@example.com"}}}}});
  const std::string quin_code = codes_of(assigned_batch)[0];
  json booked = redeemed(quin_code, "quin@example.com");
  must(action(org_ + "/registrations/" + booked["id"].get<std::string>() + "/cancel"), 200, "cancel");
  json after = code(quin_code);
  EXPECT_EQ(after["status"], "assigned") << after;
  EXPECT_EQ(email_of(after), "quin@example.com");
  EXPECT_TRUE(IsProblem(redeem(quin_code, "rex@example.com"), 403, "code-assigned-elsewhere"));
  redeemed(quin_code, "quin@example.com");
  EXPECT_EQ(seat_counts(seats(s)), seats_of(5, 0, 2, 3));
}

// ---------------------------------------------------------------------------
// 10. Revoke returns the code to the pool; it can be reassigned.

TEST_F(Lifecycle, RevokeFreesTheSeatAndReturnsTheCodeToThePool) {
  const std::string k = contract();
  const std::string s = session(3);
  const std::string c = codes_of(batch(k, {{"session_id", s}, {"participants", {{{"email", "sam@example.com"}}}}}))[0];
  json reg = redeemed(c, "sam@example.com");
  EXPECT_EQ(code(c)["status"], "used");
  EXPECT_EQ(seat_counts(seats(s)), seats_of(3, 0, 1, 2));

  json revoked = must(action(org_ + "/registrations/" + reg["id"].get<std::string>() + "/revoke"), 200, "revoke");
  EXPECT_EQ(revoked["status"], "revoked");
  EXPECT_EQ(registration(reg["id"])["status"], "revoked");
  EXPECT_EQ(seat_counts(seats(s)), seats_of(3, 0, 0, 3));
  EXPECT_FALSE(lists_id(roster(s)["registrations"], reg["id"]));

  json freed = code(c);
  EXPECT_EQ(freed["status"], "available") << freed;
  EXPECT_TRUE(!freed.contains("participant") || freed["participant"].is_null()) << freed;
  EXPECT_EQ(freed["uses"], 0);
  EXPECT_EQ(counts(summary(k)), summary_of(1, 1, 0, 0, 0));

  json reassigned =
      must(http_.post(code_url(c) + "/assign", {{"participant", {{"email", "tess@example.com"}}}}), 200, "reassign");
  EXPECT_EQ(reassigned["status"], "assigned");
  EXPECT_EQ(email_of(reassigned), "tess@example.com");
  EXPECT_TRUE(IsProblem(redeem(c, "sam@example.com"), 403, "code-assigned-elsewhere"));
  json tess = redeemed(c, "tess@example.com");
  EXPECT_EQ(email_of(tess), "tess@example.com");
  EXPECT_EQ(seat_counts(seats(s)), seats_of(3, 0, 1, 2));
}

// ---------------------------------------------------------------------------
// 11. CSV out, and JSON pagination.

TEST_F(Lifecycle, CodesDownloadAsCsvAndPageAsJson) {
  const std::string k = contract();
  const std::string other = contract({{"name", "Other"}});
  const std::string s = session(20);
  json priced =
      batch(k, {{"quantity", 5}, {"session_id", s}, {"price", kEur4900}, {"valid_until", "2099-01-01T00:00:00Z"}});
  json named = batch(k, {{"session_id", s},
                         {"participants",
                          {{{"email", "uma@example.com"}, {"name", "Lovelace, Ada"}},
                           {{"email", "vic@example.com"}, {"name", "Vic \"the\" Great"}}}}});
  batch(other, {{"quantity", 3}, {"session_id", s}});
  const auto priced_codes = codes_of(priced);
  redeemed(priced_codes[0], "wes@example.com");

  const auto r = get(org_ + "/codes?contract=" + enc(k) + "&status=available", {{"accept", "text/csv"}});
  ASSERT_EQ(r.status, 200) << r.body;
  EXPECT_TRUE(r.header("content-type").starts_with("text/csv")) << r.header("content-type");
  const Csv csv = parse_csv(r.body);
  EXPECT_TRUE(csv.closed);
  EXPECT_TRUE(csv.crlf) << "RFC 4180 records end with CRLF";
  ASSERT_FALSE(csv.records.empty());
  EXPECT_EQ(csv.records.front(), (std::vector<std::string>{"code", "status", "uses", "max_uses", "price", "currency",
                                                           "email", "name", "batch_id", "session_id", "valid_until"}));
  EXPECT_TRUE(
      r.body.starts_with("code,status,uses,max_uses,price,currency,email,name,batch_id,session_id,valid_until\r\n"));
  const auto rows = csv.rows();
  std::set<std::string> listed;
  for (const auto& row : rows) {
    listed.insert(row.at("code"));
    EXPECT_EQ(row.at("status"), "available");
    EXPECT_EQ(row.at("uses"), "0");
    EXPECT_EQ(row.at("max_uses"), "1");
    EXPECT_EQ(row.at("price"), "4900");
    EXPECT_EQ(row.at("currency"), "EUR");
    EXPECT_EQ(row.at("email"), "");
    EXPECT_EQ(row.at("batch_id"), priced["id"]);
    EXPECT_EQ(row.at("session_id"), s);
    EXPECT_EQ(row.at("valid_until"), "2099-01-01T00:00:00Z");
  }
  EXPECT_EQ(rows.size(), 4U) << "one row per matching code:\n" << r.body;
  EXPECT_EQ(listed, (std::set<std::string>(priced_codes.begin() + 1, priced_codes.end())));

  // Assigned: names with a comma and with quotes survive the quoting.
  const auto assigned = get(org_ + "/codes?contract=" + enc(k) + "&status=assigned", {{"accept", "text/csv"}});
  ASSERT_EQ(assigned.status, 200) << assigned.body;
  const auto assigned_rows = parse_csv(assigned.body).rows();
  ASSERT_EQ(assigned_rows.size(), 2U) << assigned.body;
  std::map<std::string, std::string> names;
  for (const auto& row : assigned_rows) {
    EXPECT_EQ(row.at("status"), "assigned");
    EXPECT_EQ(row.at("price"), "");
    EXPECT_EQ(row.at("batch_id"), named["id"]);
    names[row.at("email")] = row.at("name");
  }
  EXPECT_EQ(names, (std::map<std::string, std::string>{{"uma@example.com", "Lovelace, Ada"},
                                                       {"vic@example.com", "Vic \"the\" Great"}}));

  const auto used = parse_csv(get(org_ + "/codes?contract=" + enc(k) + "&status=used", {{"accept", "text/csv"}}).body);
  ASSERT_EQ(used.rows().size(), 1U);
  EXPECT_EQ(used.rows()[0].at("code"), priced_codes[0]);
  EXPECT_EQ(used.rows()[0].at("uses"), "1");

  // JSON: pages of 2 cover the contract's 7 codes exactly once.
  std::multiset<std::string> paged;
  std::optional<std::string> cursor;
  int pages = 0;
  do {
    std::string target = org_ + "/codes?contract=" + enc(k) + "&limit=2";
    if (cursor) target += "&cursor=" + enc(*cursor);
    json page = read(target);
    ASSERT_TRUE(page.contains("items") && page["items"].is_array()) << page;
    ASSERT_TRUE(page.contains("next")) << "a list answers {items, next}: " << page;
    EXPECT_LE(page["items"].size(), 2U);
    for (const auto& item : page["items"]) paged.insert(item.at("code").get<std::string>());
    cursor = page["next"].is_null() ? std::nullopt : std::optional<std::string>(page["next"].get<std::string>());
  } while (cursor && ++pages < 20);
  EXPECT_FALSE(cursor) << "pagination did not end";
  std::multiset<std::string> expected(priced_codes.begin(), priced_codes.end());
  for (const auto& c : codes_of(named)) expected.insert(c);
  EXPECT_EQ(paged, expected);
  EXPECT_GE(pages, 3);
}

// ---------------------------------------------------------------------------
// 12. CSV in: bulk assignment from the pool, and generation per row.

TEST_F(Lifecycle, ParticipantsUploadAssignsFromThePoolOrGeneratesCodes) {
  const std::string k = contract();
  const std::string s = session(20);
  const auto pool = codes_of(batch(k, {{"quantity", 3}, {"session_id", s}}));
  const std::set<std::string> pool_set(pool.begin(), pool.end());
  const std::string target = org_ + "/contracts/" + k + "/participants";
  const auto upload = [&](const std::string& csv, const std::string& query = "") {
    return http_.send("POST", target + query, csv, {{"content-type", "text/csv"}});
  };

  json first = must(upload("email,name\r\nann@example.com,Ann\r\nnot-an-email,Bad\r\n"
                           "ben@example.com,\"Ben, Jr\"\r\n"),
                    200, "upload participants");
  ASSERT_TRUE(first.contains("rows") && first["rows"].size() == 3U) << first;
  json& rows = first["rows"];
  EXPECT_EQ(rows[0]["line"], 2);
  EXPECT_EQ(rows[0]["email"], "ann@example.com");
  EXPECT_EQ(rows[0]["result"], "assigned");
  EXPECT_EQ(rows[1]["line"], 3);
  EXPECT_EQ(rows[1]["result"], "error");
  EXPECT_TRUE(rows[1]["reason"].is_string() && !rows[1]["reason"].get<std::string>().empty()) << rows[1];
  EXPECT_TRUE(!rows[1].contains("code") || rows[1]["code"].is_null()) << rows[1];
  EXPECT_EQ(rows[2]["line"], 4);
  EXPECT_EQ(rows[2]["result"], "assigned");
  ASSERT_TRUE(rows[0]["code"].is_string() && rows[2]["code"].is_string()) << rows;
  const std::string ann_code = rows[0]["code"];
  const std::string ben_code = rows[2]["code"];
  EXPECT_NE(ann_code, ben_code);
  EXPECT_TRUE(pool_set.contains(ann_code)) << ann_code << " is not from the pool";
  EXPECT_TRUE(pool_set.contains(ben_code)) << ben_code << " is not from the pool";
  EXPECT_EQ(email_of(code(ann_code)), "ann@example.com");
  EXPECT_EQ(code(ben_code)["participant"]["name"], "Ben, Jr");
  EXPECT_EQ(code(ben_code)["status"], "assigned");
  EXPECT_EQ(counts(summary(k)), summary_of(3, 1, 2, 0, 0));

  // More rows than codes left.
  json second = must(upload("email,name\r\ncy@example.com,Cy\r\ndee@example.com,Dee\r\neli@example.com,Eli\r\n"), 200,
                     "upload more than the pool");
  ASSERT_EQ(second["rows"].size(), 3U) << second;
  EXPECT_EQ(second["rows"][0]["result"], "assigned");
  const std::string cy_code = second["rows"][0]["code"];
  for (const std::size_t i : {1U, 2U}) {
    json& row = second["rows"][i];
    EXPECT_EQ(row["result"], "error") << row;
    EXPECT_NE(row.value("reason", std::string()).find("no available code"), std::string::npos) << row;
  }
  EXPECT_EQ(counts(summary(k)), summary_of(3, 0, 3, 0, 0));

  // mode=generate: a new assigned code per row, priced per row.
  json generated = must(upload("email,name,price,currency\r\nfin@example.com,Fin,2500,EUR\r\n"
                               "gil@example.com,Gil,,\r\n",
                               "?mode=generate"),
                        200, "upload in generate mode");
  ASSERT_EQ(generated["rows"].size(), 2U) << generated;
  for (const auto& row : generated["rows"]) {
    EXPECT_EQ(row["result"], "assigned") << row;
    ASSERT_TRUE(row["code"].is_string()) << row;
    EXPECT_FALSE(pool_set.contains(row["code"].get<std::string>())) << "generate mode takes nothing from the pool";
  }
  const std::string fin_code = generated["rows"][0]["code"];
  const std::string gil_code = generated["rows"][1]["code"];
  EXPECT_EQ(code(fin_code)["price"], (json{{"amount", 2500}, {"currency", "EUR"}}));
  EXPECT_EQ(code(fin_code)["status"], "assigned");
  EXPECT_EQ(email_of(code(fin_code)), "fin@example.com");
  EXPECT_TRUE(code(gil_code)["price"].is_null()) << code(gil_code);
  EXPECT_EQ(counts(summary(k)), summary_of(5, 0, 5, 0, 0));
  json fin = redeemed(fin_code, "fin@example.com", s);
  EXPECT_EQ(fin["price"], (json{{"amount", 2500}, {"currency", "EUR"}}));

  // Download: the participants with their codes.
  const auto down = get(target, {{"accept", "text/csv"}});
  ASSERT_EQ(down.status, 200) << down.body;
  EXPECT_TRUE(down.header("content-type").starts_with("text/csv")) << down.header("content-type");
  const Csv csv = parse_csv(down.body);
  EXPECT_TRUE(csv.closed);
  EXPECT_TRUE(csv.crlf);
  std::map<std::string, std::string> listed;  // email -> code
  for (const auto& row : csv.rows()) listed[row.at("email")] = row.at("code");
  EXPECT_EQ(listed, (std::map<std::string, std::string>{{"ann@example.com", ann_code},
                                                        {"ben@example.com", ben_code},
                                                        {"cy@example.com", cy_code},
                                                        {"fin@example.com", fin_code},
                                                        {"gil@example.com", gil_code}}))
      << down.body;
  for (const auto& row : csv.rows()) {
    if (row.at("email") == "ben@example.com") {
      EXPECT_EQ(row.at("name"), "Ben, Jr");
    }
  }
}

// ---------------------------------------------------------------------------
// 13. Edit, archive, delete.

TEST_F(Lifecycle, EditArchiveAndDeleteFollowTheCodesHistory) {
  const std::string k = contract();
  const std::string s = session(10);
  const auto c = codes_of(batch(k, {{"quantity", 4}, {"session_id", s}, {"note", "spring"}}));

  json edited = must(patch(code_url(c[0]), {{"price", {{"amount", 700}, {"currency", "EUR"}}}}), 200,
                     "edit an unused code's price");
  EXPECT_EQ(edited["price"], (json{{"amount", 700}, {"currency", "EUR"}}));
  EXPECT_EQ(code(c[0])["price"], (json{{"amount", 700}, {"currency", "EUR"}}));
  EXPECT_EQ(redeemed(c[0], "ada@example.com")["price"], (json{{"amount", 700}, {"currency", "EUR"}}));

  redeemed(c[1], "bob@example.com");
  EXPECT_TRUE(IsProblem(patch(code_url(c[1]), {{"price", {{"amount", 1}, {"currency", "EUR"}}}}), 409, "code-used"));
  EXPECT_TRUE(code(c[1])["price"].is_null()) << "a refused edit changes nothing";

  json archived = must(action(code_url(c[2]) + "/archive"), 200, "archive");
  EXPECT_EQ(archived["status"], "archived");
  EXPECT_EQ(code(c[2])["status"], "archived");
  EXPECT_TRUE(IsProblem(redeem(c[2], "cy@example.com"), 409, "code-archived"));

  EXPECT_TRUE(IsProblem(http_.send("DELETE", code_url(c[1]), "", {}), 409, "code-used"));
  EXPECT_EQ(code(c[1])["status"], "used");

  const auto deleted = http_.send("DELETE", code_url(c[3]), "", {});
  EXPECT_EQ(deleted.status, 204) << deleted.body;
  EXPECT_TRUE(deleted.body.empty());
  EXPECT_TRUE(IsProblem(get(code_url(c[3])), 404, "code-unknown"));
  EXPECT_TRUE(IsProblem(redeem(c[3], "dee@example.com"), 404, "code-unknown"));

  EXPECT_EQ(counts(summary(k)), summary_of(3, 0, 0, 2, 1));
  json listed = read(org_ + "/codes?contract=" + enc(k));
  std::set<std::string> values;
  for (const auto& item : listed["items"]) values.insert(item["code"]);
  EXPECT_EQ(values, (std::set<std::string>{c[0], c[1], c[2]})) << "a deleted code is not listed";
}

// ---------------------------------------------------------------------------
// 14. Capacity changes never go below what is reserved and registered.

TEST_F(Lifecycle, CapacityCannotDropBelowOccupancy) {
  const std::string k = contract();
  const std::string s = session(4);
  const auto c = codes_of(batch(k, {{"quantity", 1}, {"session_id", s}}));
  redeemed(c[0], "ada@example.com");
  invited(s, {{"participant", {{"email", "bob@example.com"}}}});
  EXPECT_EQ(seat_counts(seats(s)), seats_of(4, 1, 1, 2));

  EXPECT_TRUE(IsProblem(patch(org_ + "/sessions/" + s, {{"capacity", 1}}), 409, "capacity-below-occupancy"));
  EXPECT_TRUE(IsProblem(patch(org_ + "/sessions/" + s, {{"capacity", 0}}), 409, "capacity-below-occupancy"));
  EXPECT_EQ(seat_counts(seats(s)), seats_of(4, 1, 1, 2));

  json exact = must(patch(org_ + "/sessions/" + s, {{"capacity", 2}}), 200, "capacity at occupancy");
  EXPECT_EQ(exact["capacity"], 2);
  EXPECT_EQ(seat_counts(seats(s)), seats_of(2, 1, 1, 0));

  json raised = must(patch(org_ + "/sessions/" + s, {{"capacity", 6}}), 200, "capacity above occupancy");
  EXPECT_EQ(raised["capacity"], 6);
  EXPECT_EQ(seat_counts(seats(s)), seats_of(6, 1, 1, 4));
}

// ---------------------------------------------------------------------------
// 15. ETag and If-Match on codes, sessions and contracts.

TEST_F(Lifecycle, IfMatchWithAnotherVersionIsRefusedAndChangesNothing) {
  const std::string k = contract({{"name", "Versioned"}});
  const std::string s = session(5);
  const std::string c = codes_of(batch(k, {{"quantity", 1}, {"session_id", s}}))[0];

  const auto etag_of = [&](const std::string& target) {
    const auto r = get(target);
    EXPECT_EQ(r.status, 200) << target << ": " << r.body;
    const auto it = r.headers.find("etag");
    if (it == r.headers.end()) {
      ADD_FAILURE() << "GET " << target << " carries no ETag";
      return std::string("\"0\"");
    }
    const std::string tag = it->second;
    EXPECT_TRUE(tag.size() >= 3 && tag.front() == '"' && tag.back() == '"' &&
                tag.find_first_not_of("0123456789", 1) == tag.size() - 1)
        << "an ETag is the quoted stream version: " << tag;
    return tag;
  };
  const auto other_version = [](const std::string& tag) {
    // Appended piecewise: "\"" + std::string trips GCC 12's false -Wrestrict at -O3.
    std::string other(1, '"');
    other += std::to_string(std::stoull(tag.substr(1, tag.size() - 2)) + 7);
    other += '"';
    return other;
  };

  struct Case {
    std::string target;
    json body;
    std::string field;
  };
  const std::vector<Case> cases = {
      {code_url(c), {{"price", {{"amount", 990}, {"currency", "EUR"}}}}, "price"},
      {org_ + "/sessions/" + s, {{"capacity", 9}}, "capacity"},
      {org_ + "/contracts/" + k, {{"name", "Renamed"}}, "name"},
  };
  for (const auto& step : cases) {
    SCOPED_TRACE(step.target);
    const std::string tag = etag_of(step.target);
    json before = read(step.target);

    EXPECT_TRUE(IsProblem(patch(step.target, step.body, other_version(tag)), 412, "version-conflict"));
    EXPECT_EQ(read(step.target), before) << "a refused write changes nothing";
    EXPECT_EQ(etag_of(step.target), tag);

    json after = must(patch(step.target, step.body, tag), 200, "PATCH with the right If-Match");
    EXPECT_EQ(after[step.field], step.body[step.field]);
    EXPECT_EQ(read(step.target)[step.field], step.body[step.field]);
    EXPECT_NE(etag_of(step.target), tag) << "a write moves the version";

    // The old version is now another version.
    EXPECT_TRUE(IsProblem(patch(step.target, step.body, tag), 412, "version-conflict"));
  }
}

// ---------------------------------------------------------------------------
// 16. Registration access dates; validity windows; opens_at.

TEST_F(Lifecycle, AccessDatesValidityWindowsAndOpeningTimes) {
  const std::string k = contract();
  const std::string s = session(10);
  const auto c = codes_of(batch(k, {{"quantity", 1}, {"session_id", s}}));
  json reg = redeemed(c[0], "ada@example.com");
  EXPECT_TRUE(reg.contains("access_from") && reg["access_from"].is_string()) << reg;
  const std::string reg_url = org_ + "/registrations/" + reg["id"].get<std::string>();

  json extended = must(patch(reg_url, {{"access_until", "2099-06-30T00:00:00Z"}}), 200, "extend access");
  EXPECT_EQ(extended["access_until"], "2099-06-30T00:00:00Z");
  EXPECT_EQ(registration(reg["id"])["access_until"], "2099-06-30T00:00:00Z");
  EXPECT_EQ(registration(reg["id"])["status"], "active");

  const auto expired =
      codes_of(batch(k, {{"quantity", 1}, {"session_id", s}, {"valid_until", "2020-01-01T00:00:00Z"}}));
  EXPECT_TRUE(IsProblem(redeem(expired[0], "bob@example.com"), 410, "code-expired"));

  const auto future = codes_of(batch(k, {{"quantity", 1}, {"session_id", s}, {"valid_from", "2099-01-01T00:00:00Z"}}));
  EXPECT_TRUE(IsProblem(redeem(future[0], "cy@example.com"), 409, "code-not-yet-valid"));
  EXPECT_EQ(code(future[0])["uses"], 0);

  const std::string later = session(5, {{"name", "Next year"}, {"opens_at", "2099-01-01T00:00:00Z"}});
  const auto later_codes = codes_of(batch(k, {{"quantity", 1}, {"session_id", later}}));
  EXPECT_TRUE(IsProblem(redeem(later_codes[0], "dee@example.com"), 409, "session-not-open"));
  EXPECT_EQ(seat_counts(seats(later)), seats_of(5, 0, 0, 5));

  json inv = invited(later, {{"participant", {{"email", "eli@example.com"}}}});
  EXPECT_EQ(seat_counts(seats(later)), seats_of(5, 1, 0, 4));
  json claimed = must(claim(inv["claim_token"]), 201, "claim before opens_at");
  EXPECT_EQ(claimed["session_id"], later);
  EXPECT_EQ(seat_counts(seats(later)), seats_of(5, 0, 1, 4));

  // An invitation carrying a code works before opens_at too.
  json with_code = invited(later, {{"participant", {{"email", "dee@example.com"}}}, {"code", later_codes[0]}});
  json dee = must(claim(with_code["claim_token"]), 201, "claim with a code before opens_at");
  EXPECT_EQ(dee["code"], later_codes[0]);
}

}  // namespace
}  // namespace tessera::test_support
