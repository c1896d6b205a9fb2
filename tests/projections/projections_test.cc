// The read models (projections/) on a real RocksDB in a temporary directory,
// fed logs made by the domain's decide() from realistic command sequences.
#include <gtest/gtest.h>
#include <rocksdb/db.h>

#include <algorithm>
#include <filesystem>
#include <map>
#include <memory>
#include <random>
#include <set>

#include "temp_dir.h"
#include "tessera/codec/time.h"
#include "tessera/domain/code_rules.h"
#include "tessera/projections/read_models.h"
#include "world.h"

namespace tessera::test_support {
namespace {

using nlohmann::json;
using projections::CodeFilter;
using projections::ReadModels;

std::unique_ptr<ReadModels> open_models(const std::filesystem::path& dir) {
  auto opened = ReadModels::open(dir);
  if (!opened) {
    ADD_FAILURE() << "open: " << opened.error().message();
    return nullptr;
  }
  return std::move(opened.value());
}

void feed(ReadModels& models, const std::vector<RecordedEvent>& events) {
  const auto applied = models.apply(events);
  ASSERT_TRUE(applied) << applied.error().message();
}

std::string rfc3339(std::int64_t micros) { return codec::format_rfc3339(d::Timestamp{micros}); }

// Everything the read models answer about what `w` recorded, as one value:
// two models built from the same log in any per-stream order compare equal.
json dump(const ReadModels& m, const World& w) {
  json out = json::object();
  const auto doc = [](const auto& found) -> json {
    EXPECT_TRUE(found) << found.error().message();
    if (!found || !found.value()) return nullptr;
    return json{{"body", found.value()->body}, {"version", found.value()->version}};
  };
  std::set<std::string> contracts, sessions, batches;
  for (const auto& stream : w.streams()) {
    const d::StreamId id(stream);
    const auto category = d::stream_category(id.str());
    if (category == "code") {
      const auto key = stream.substr(5);
      out["codes"][key] = doc(m.code(w.org, key));
    } else if (category == "contract") {
      const auto s = w.state<d::ContractState>(id);
      contracts.insert(s.terms.contract.str());
      out["contracts"][stream] = doc(m.contract(s.terms.org, s.terms.contract));
    } else if (category == "session") {
      const auto s = w.state<d::SessionState>(id);
      sessions.insert(s.terms.session.str());
      out["sessions"][stream] = doc(m.session(s.terms.org, s.terms.session));
      const auto seats = m.seats(s.terms.org, s.terms.session);
      EXPECT_TRUE(seats && seats.value());
      if (seats && seats.value()) {
        out["seats"][stream] = {seats.value()->capacity, seats.value()->reserved, seats.value()->registered,
                                seats.value()->available()};
      }
    } else if (category == "batch") {
      const auto s = w.state<d::BatchState>(id);
      batches.insert(s.terms.batch.str());
      out["batches"][stream] = doc(m.batch(s.terms.org, s.terms.batch));
    } else if (category == "invitation") {
      const auto s = w.state<d::InvitationState>(id);
      out["invitations"][stream] = doc(m.invitation(s.terms.invitation));
    } else if (category == "registration") {
      const auto s = w.state<d::RegistrationState>(id);
      out["registrations"][stream] = doc(m.registration(s.terms.org, s.terms.registration));
    }
  }
  const auto all_pages = [&](CodeFilter filter) {
    json items = json::array();
    std::optional<std::string> cursor;
    for (int guard = 0; guard < 10'000; ++guard) {
      auto page = m.codes(w.org, filter, cursor, 7);
      EXPECT_TRUE(page);
      if (!page) break;
      for (auto& item : page.value().items) items.push_back(std::move(item));
      if (!page.value().next) break;
      cursor = page.value().next;
    }
    return items;
  };
  out["list"]["all"] = all_pages({});
  for (const char* status : {"available", "assigned", "used", "archived"}) {
    out["list"][status] = all_pages({.status = status});
  }
  for (const auto& c : contracts) {
    out["summary"][c] = *m.summary(w.org, d::ContractId(c)).value();
    out["list"]["contract-" + c] = all_pages({.contract = c});
    out["list"]["contract-used-" + c] = all_pages({.contract = c, .status = "used"});
    out["participants"][c] = m.participants(w.org, d::ContractId(c)).value();
    out["pool"][c] = m.pool(w.org, d::ContractId(c), 100'000).value();
  }
  for (const auto& b : batches) {
    out["list"]["batch-" + b] = all_pages({.batch = b});
    out["list"]["batch-available-" + b] = all_pages({.batch = b, .status = "available"});
  }
  for (const auto& s : sessions) out["roster"][s] = *m.roster(w.org, d::SessionId(s)).value();
  json due = json::array();
  const auto all_due = m.due_expiries(d::Timestamp{std::numeric_limits<std::int64_t>::max()}, 100'000).value();
  for (const auto& e : all_due) {
    due.push_back({e.invitation.str(), e.expires_at.micros});
  }
  out["due"] = due;
  return out;
}

// The status the design gives a code in the domain's state.
// The status the domain's rule gives the folded state.
std::string expected_status(const d::CodeState& code, const d::BatchState& batch) {
  return std::string(
      d::to_string(d::code_status({code.archived, code.uses, batch.terms.max_uses, code.assignee.has_value()})));
}

// Every document agrees with the state the domain folded from the same log.
void expect_agrees(const ReadModels& m, const World& w) {
  std::map<std::string, std::map<std::string, int>> counts;  // contract -> status -> n
  std::map<std::string, std::set<std::string>> pending, active;
  std::set<std::string> due, generating;
  for (const auto& stream : w.streams()) {
    const d::StreamId id(stream);
    const auto category = d::stream_category(id.str());
    SCOPED_TRACE(stream);
    if (category == "code") {
      const auto key = d::code_key_of_stream(id).value();
      const auto& code = w.code_state(key);
      const auto batch = w.batch_of(code);
      const auto doc = m.code(w.org, key).value();
      if (code.deleted) {
        EXPECT_FALSE(doc);
        continue;
      }
      ASSERT_TRUE(doc);
      const auto status = expected_status(code, batch);
      EXPECT_EQ(doc->body.at("status"), status);
      EXPECT_EQ(doc->body.at("uses"), code.uses);
      EXPECT_EQ(doc->body.at("max_uses"), batch.terms.max_uses);
      EXPECT_EQ(doc->body.at("contract_id"), batch.terms.contract.str());
      if (code.assignee) {
        EXPECT_EQ(doc->body.at("participant"), json(*code.assignee));
      }
      if (!code.assignee && status != "used" && code.uses < batch.terms.max_uses) {
        EXPECT_TRUE(doc->body.at("participant").is_null());
      }
      const auto price = code.price ? code.price : batch.terms.price;
      EXPECT_EQ(doc->body.at("price"), price ? json(*price) : json(nullptr));
      ++counts[batch.terms.contract.str()][status];
      ++counts[batch.terms.contract.str()]["total"];
    } else if (category == "session") {
      const auto s = w.state<d::SessionState>(id);
      const auto seats = m.seats(s.terms.org, s.terms.session).value();
      ASSERT_TRUE(seats);
      EXPECT_EQ(seats->capacity, s.capacity);
      EXPECT_EQ(seats->reserved, s.reserved);
      EXPECT_EQ(seats->registered, s.registered);
      const auto doc = m.session(s.terms.org, s.terms.session).value();
      ASSERT_TRUE(doc);
      EXPECT_EQ(doc->body.at("name"), s.terms.name);
      EXPECT_EQ(doc->body.at("opens_at"), s.terms.opens_at ? json(rfc3339(s.terms.opens_at->micros)) : json(nullptr));
    } else if (category == "invitation") {
      const auto s = w.state<d::InvitationState>(id);
      const auto doc = m.invitation(s.terms.invitation).value();
      ASSERT_TRUE(doc);
      EXPECT_EQ(doc->body.at("status"), d::to_string(s.status));
      if (s.status == d::InvitationStatus::pending) {
        pending[s.terms.session.str()].insert(s.terms.invitation.str());
        if (s.terms.expires_at) due.insert(s.terms.invitation.str());
      }
    } else if (category == "batch") {
      const auto s = w.state<d::BatchState>(id);
      const auto doc = m.batch(s.terms.org, s.terms.batch).value();
      ASSERT_TRUE(doc);
      EXPECT_EQ(doc->body.at("quantity"), s.terms.quantity);
      EXPECT_EQ(doc->body.at("generated"), s.generated);
      EXPECT_EQ(doc->body.at("status"), s.ready() ? "ready" : "generating");
      if (!s.ready()) generating.insert(s.terms.batch.str());
    } else if (category == "registration") {
      const auto s = w.state<d::RegistrationState>(id);
      const auto doc = m.registration(s.terms.org, s.terms.registration).value();
      ASSERT_TRUE(doc);
      EXPECT_EQ(doc->body.at("status"), d::to_string(s.status));
      EXPECT_EQ(doc->body.at("access_until"), s.terms.access_until ? json(*s.terms.access_until) : json(nullptr));
      if (s.status == d::RegistrationStatus::active) active[s.terms.session.str()].insert(s.terms.registration.str());
    }
  }
  for (const auto& stream : w.streams()) {
    const d::StreamId id(stream);
    if (d::stream_category(id.str()) == "contract") {
      const auto c = w.state<d::ContractState>(id).terms.contract.str();
      const auto summary = m.summary(w.org, d::ContractId(c)).value();
      ASSERT_TRUE(summary);
      for (const char* field : {"total", "available", "assigned", "used", "archived"}) {
        EXPECT_EQ(summary->at(field), counts[c][field]) << c << " " << field;
      }
    } else if (d::stream_category(id.str()) == "session") {
      const auto s = w.state<d::SessionState>(id).terms.session.str();
      const auto roster = m.roster(w.org, d::SessionId(s)).value();
      ASSERT_TRUE(roster);
      std::set<std::string> invitations, registrations;
      for (const auto& i : roster->at("invitations")) invitations.insert(i.at("id").get<std::string>());
      for (const auto& r : roster->at("registrations")) registrations.insert(r.at("id").get<std::string>());
      EXPECT_EQ(invitations, pending[s]) << s;
      EXPECT_EQ(registrations, active[s]) << s;
    }
  }
  std::set<std::string> due_read;
  const auto all_due = m.due_expiries(d::Timestamp{std::numeric_limits<std::int64_t>::max()}, 1'000'000).value();
  for (const auto& e : all_due) {
    due_read.insert(e.invitation.str());
  }
  EXPECT_EQ(due_read, due);
  std::set<std::string> generating_read;
  const auto generating_batches = m.generating_batches(1'000'000).value();
  for (const auto& batch : generating_batches) generating_read.insert(batch.batch.str());
  EXPECT_EQ(generating_read, generating);
}

class Projections : public ::testing::Test {
 protected:
  TempDir dir{"tessera-projections"};
  World w;
  std::unique_ptr<ReadModels> models = open_models(dir.path() / "readmodels");

  void reopen() {
    models.reset();
    models = open_models(dir.path() / "readmodels");
  }

  // Decides `command`, records its events and applies them to the models.
  template <class Command>
  std::vector<RecordedEvent> run(const Command& command) {
    auto decided = w.decide(command);
    if (!decided.has_value()) {
      ADD_FAILURE() << "rejected: " << decided.error().code.message() << ": " << decided.error().detail;
      return {};
    }
    auto recorded = w.commit(decided.value());
    if (!recorded.empty()) feed(*models, recorded);
    return recorded;
  }

  template <class Command>
  std::error_code rejection(const Command& command) {
    auto decided = w.decide(command);
    if (decided.has_value()) {
      ADD_FAILURE() << "accepted";
      return {};
    }
    return decided.error().code;
  }

  void contract(const std::string& id, bool reuse = false, std::optional<d::Money> price = std::nullopt) {
    run(d::CreateContract{w.org, d::ContractId(id), "Contract " + id, reuse, price});
  }
  void session(const std::string& id, std::uint32_t capacity, std::optional<std::string> contract_id = std::nullopt) {
    std::optional<d::ContractId> c;
    if (contract_id) c = d::ContractId(*contract_id);
    run(d::CreateSession{w.org, d::SessionId(id), "Session " + id, capacity, c, std::nullopt});
  }
  static d::GenerateBatch batch(const std::string& id, const std::string& contract_id, std::uint32_t quantity) {
    d::GenerateBatch g;
    g.batch = d::BatchId(id);
    g.contract = d::ContractId(contract_id);
    g.quantity = quantity;
    return g;
  }
  // Generates the batch; returns its code keys in issue order.
  std::vector<std::string> generate(d::GenerateBatch g) {
    g.org = w.org;
    g.codes = w.fresh_codes(g.participants.empty() ? g.quantity : g.participants.size(), g.prefix);
    run(g);
    std::vector<std::string> out;
    for (const auto& c : g.codes) out.push_back(c.key);
    return out;
  }
  void assign(const std::string& key, const std::string& email) { run(d::AssignCode{w.org, key, person(email)}); }
  void redeem(const std::string& key, const std::string& email, const std::string& registration,
              std::optional<std::string> session_id = std::nullopt) {
    std::optional<d::SessionId> s;
    if (session_id) s = d::SessionId(*session_id);
    run(d::Redeem{w.org, key, person(email), s, d::RegistrationId(registration), w.now});
  }
  void invite(const std::string& id, const std::string& session_id, const std::string& email,
              std::optional<std::string> code_key = std::nullopt, std::optional<std::int64_t> expires = std::nullopt,
              bool over = false) {
    std::optional<d::Timestamp> at;
    if (expires) at = d::Timestamp{*expires};
    run(d::Invite{w.org, d::InvitationId(id), d::SessionId(session_id), person(email), code_key, at, false, over,
                  w.now});
  }
  void claim(const std::string& invitation, const std::string& registration) {
    run(d::ClaimInvitation{d::InvitationId(invitation), std::nullopt, d::RegistrationId(registration), w.now});
  }
  void cancel_registration(const std::string& id) { run(d::CancelRegistration{w.org, d::RegistrationId(id), w.now}); }
  void revoke(const std::string& id) { run(d::RevokeRegistration{w.org, d::RegistrationId(id), w.now}); }

  json code(const std::string& key) {
    auto found = models->code(w.org, key);
    EXPECT_TRUE(found);
    if (!found || !found.value()) return nullptr;
    return found.value()->body;
  }
  std::uint64_t code_version(const std::string& key) { return models->code(w.org, key).value()->version; }
  json summary(const std::string& contract_id) {
    auto found = models->summary(w.org, d::ContractId(contract_id));
    EXPECT_TRUE(found && found.value());
    return found && found.value() ? *found.value() : json(nullptr);
  }
  json roster(const std::string& session_id) {
    auto found = models->roster(w.org, d::SessionId(session_id));
    EXPECT_TRUE(found && found.value());
    return found && found.value() ? *found.value() : json(nullptr);
  }
  static std::vector<std::string> ids(const json& items) {
    std::vector<std::string> out;
    for (const auto& item : items) out.push_back(item.at("id").get<std::string>());
    return out;
  }
  projections::Seats seats(const std::string& session_id) {
    auto found = models->seats(w.org, d::SessionId(session_id));
    EXPECT_TRUE(found && found.value());
    return found && found.value() ? *found.value() : projections::Seats{};
  }
  json registration(const std::string& id) {
    return models->registration(w.org, d::RegistrationId(id)).value().value().body;
  }
  json invitation(const std::string& id) { return models->invitation(d::InvitationId(id)).value().value().body; }
  std::vector<std::string> codes_of(const projections::Page& page) {
    std::vector<std::string> out;
    for (const auto& item : page.items) out.push_back(d::code_key_of(item.at("code").get<std::string>()));
    return out;
  }
};

json counts(int total, int available, int assigned, int used, int archived) {
  return json{
      {"total", total}, {"available", available}, {"assigned", assigned}, {"used", used}, {"archived", archived}};
}

TEST_F(Projections, CodeDocumentCarriesItsBatchTerms) {
  contract("c1", true);
  session("s1", 10, "c1");
  auto g = batch("b1", "c1", 2);
  g.session = d::SessionId("s1");
  g.price = eur(1500);
  g.note = "spring cohort";
  g.valid_from = d::Timestamp{kT0 - kMinute};
  g.valid_until = d::Timestamp{kT0 + 60 * 24 * 30 * kMinute};
  const auto keys = generate(g);

  const auto doc = models->code(w.org, keys[0]).value();
  ASSERT_TRUE(doc);
  EXPECT_EQ(doc->version, 1u);
  const json& b = doc->body;
  EXPECT_EQ(d::code_key_of(b.at("code").get<std::string>()), keys[0]);
  EXPECT_EQ(b.at("org"), "acme");
  EXPECT_EQ(b.at("status"), "available");
  EXPECT_EQ(b.at("uses"), 0);
  EXPECT_EQ(b.at("max_uses"), 1);
  EXPECT_EQ(b.at("price"), (json{{"amount", 1500}, {"currency", "EUR"}}));
  EXPECT_TRUE(b.at("participant").is_null());
  EXPECT_EQ(b.at("batch_id"), "b1");
  EXPECT_EQ(b.at("session_id"), "s1");
  EXPECT_EQ(b.at("contract_id"), "c1");
  EXPECT_EQ(b.at("note"), "spring cohort");
  EXPECT_EQ(b.at("valid_from"), rfc3339(kT0 - kMinute));
  EXPECT_EQ(b.at("valid_until"), rfc3339(kT0 + 60 * 24 * 30 * kMinute));

  // The code's own values win over the batch's, field by field.
  run(d::EditCode{w.org, keys[1], "vip", eur(900), std::nullopt, d::Timestamp{kT0 + 60 * kMinute}});
  const json edited = code(keys[1]);
  EXPECT_EQ(edited.at("note"), "vip");
  EXPECT_EQ(edited.at("price"), json(eur(900)));
  EXPECT_EQ(edited.at("valid_from"), rfc3339(kT0 - kMinute));
  EXPECT_EQ(edited.at("valid_until"), rfc3339(kT0 + 60 * kMinute));
  EXPECT_EQ(code_version(keys[1]), 2u);

  // No price anywhere: null (the contract's rules decide at redemption).
  const auto free = generate(batch("b2", "c1", 1));
  EXPECT_TRUE(code(free[0]).at("price").is_null());
  EXPECT_TRUE(code(free[0]).at("session_id").is_null());
  EXPECT_EQ(code(free[0]).at("note"), "");

  // Assigned at generation, with a price per participant.
  auto p = batch("b3", "c1", 0);
  p.participants = {person("Zoe@Example.com", "Zoe"), person("yann@example.com")};
  p.participant_prices = {eur(100), std::nullopt};
  p.price = eur(700);
  const auto assigned = generate(p);
  EXPECT_EQ(code(assigned[0]).at("status"), "assigned");
  EXPECT_EQ(code(assigned[0]).at("participant"), (json{{"email", "zoe@example.com"}, {"name", "Zoe"}}));
  EXPECT_EQ(code(assigned[0]).at("price"), json(eur(100)));
  EXPECT_EQ(code(assigned[1]).at("price"), json(eur(700)));
  EXPECT_EQ(summary("c1"), counts(5, 3, 2, 0, 0));

  // Another organisation's code, an unknown one: a miss.
  EXPECT_FALSE(models->code(d::OrgId("other"), keys[0]).value());
  EXPECT_FALSE(models->code(w.org, "NOPE").value());
  EXPECT_FALSE(models->code(w.org, "").value());
}

TEST_F(Projections, CodeStatusesThroughAssignRedeemCancelRevokeArchiveDelete) {
  contract("c1", /*reuse=*/true);
  session("s1", 10, "c1");
  auto g = batch("b1", "c1", 3);
  g.session = d::SessionId("s1");
  g.price = eur(1500);
  const auto k = generate(g);
  EXPECT_EQ(summary("c1"), counts(3, 3, 0, 0, 0));

  assign(k[0], "Ann@Example.com");
  EXPECT_EQ(code(k[0]).at("status"), "assigned");
  EXPECT_EQ(code(k[0]).at("participant").at("email"), "ann@example.com");
  EXPECT_EQ(code_version(k[0]), 2u);
  EXPECT_EQ(summary("c1"), counts(3, 2, 1, 0, 0));

  redeem(k[0], "ann@example.com", "r1");
  EXPECT_EQ(code(k[0]).at("status"), "used");
  EXPECT_EQ(code(k[0]).at("uses"), 1);
  EXPECT_EQ(code(k[0]).at("participant").at("email"), "ann@example.com");
  EXPECT_EQ(summary("c1"), counts(3, 2, 0, 1, 0));
  const json r1 = registration("r1");
  EXPECT_EQ(r1.at("status"), "active");
  EXPECT_EQ(r1.at("price"), json(eur(1500)));
  EXPECT_EQ(r1.at("session_id"), "s1");
  EXPECT_EQ(d::code_key_of(r1.at("code").get<std::string>()), k[0]);
  EXPECT_EQ(r1.at("access_from"), rfc3339(kT0));
  EXPECT_TRUE(r1.at("access_until").is_null());
  EXPECT_EQ(seats("s1").registered, 1u);

  // A cancelled booking under the reuse policy: the code is as it was before.
  cancel_registration("r1");
  EXPECT_EQ(code(k[0]).at("status"), "assigned");
  EXPECT_EQ(code(k[0]).at("uses"), 0);
  EXPECT_EQ(code(k[0]).at("participant").at("email"), "ann@example.com");
  EXPECT_EQ(registration("r1").at("status"), "cancelled");
  EXPECT_EQ(summary("c1"), counts(3, 2, 1, 0, 0));
  EXPECT_EQ(seats("s1").registered, 0u);

  // A revoke: the code returns to the pool, unassigned.
  redeem(k[0], "ann@example.com", "r2");
  revoke("r2");
  EXPECT_EQ(code(k[0]).at("status"), "available");
  EXPECT_TRUE(code(k[0]).at("participant").is_null());
  EXPECT_EQ(registration("r2").at("status"), "revoked");
  EXPECT_EQ(summary("c1"), counts(3, 3, 0, 0, 0));

  // Used without an assignee: the participant is the last redeemer.
  redeem(k[1], "bob@example.com", "r3");
  EXPECT_EQ(code(k[1]).at("status"), "used");
  EXPECT_EQ(code(k[1]).at("participant").at("email"), "bob@example.com");

  // Archived wins over used.
  run(d::ArchiveCode{w.org, k[1]});
  EXPECT_EQ(code(k[1]).at("status"), "archived");
  EXPECT_EQ(code(k[1]).at("participant").at("email"), "bob@example.com");
  EXPECT_EQ(summary("c1"), counts(3, 2, 0, 0, 1));

  // Deleted: gone from every query and from the counts.
  run(d::DeleteCode{w.org, k[2]});
  EXPECT_TRUE(code(k[2]).is_null());
  EXPECT_EQ(summary("c1"), counts(2, 1, 0, 0, 1));
  EXPECT_EQ(codes_of(models->codes(w.org, {}, std::nullopt, 100).value()), (std::vector<std::string>{k[0], k[1]}));
  EXPECT_EQ(models->pool(w.org, d::ContractId("c1"), 10).value(), std::vector<std::string>{k[0]});
  EXPECT_EQ(models->participants(w.org, d::ContractId("c1")).value().size(), 1u);  // bob's archived code

  // Registration access changes show in the registration.
  run(d::ChangeAccess{w.org, d::RegistrationId("r3"), d::Timestamp{kT0 + 600 * kMinute}});
  EXPECT_EQ(registration("r3").at("access_until"), rfc3339(kT0 + 600 * kMinute));
  expect_agrees(*models, w);
}

TEST_F(Projections, MultiUseCodesAndTheReusePolicy) {
  contract("c1", /*reuse=*/true);
  contract("c2", /*reuse=*/false);
  session("s1", 10, "c1");
  session("s2", 10, "c2");
  auto g = batch("b1", "c1", 1);
  g.max_uses = 2;
  g.session = d::SessionId("s1");
  const auto multi = generate(g);

  redeem(multi[0], "a@example.com", "ra");
  EXPECT_EQ(code(multi[0]).at("status"), "available");
  EXPECT_EQ(code(multi[0]).at("uses"), 1);
  EXPECT_TRUE(code(multi[0]).at("participant").is_null());
  redeem(multi[0], "b@example.com", "rb");
  EXPECT_EQ(code(multi[0]).at("status"), "used");
  EXPECT_EQ(code(multi[0]).at("participant").at("email"), "b@example.com");
  cancel_registration("rb");
  EXPECT_EQ(code(multi[0]).at("status"), "available");
  EXPECT_EQ(code(multi[0]).at("uses"), 1);
  EXPECT_TRUE(code(multi[0]).at("participant").is_null());
  redeem(multi[0], "c@example.com", "rc");
  EXPECT_EQ(code(multi[0]).at("participant").at("email"), "c@example.com");

  // Without the reuse policy a cancelled booking keeps the use taken.
  auto g2 = batch("b2", "c2", 1);
  g2.session = d::SessionId("s2");
  const auto single = generate(g2);
  redeem(single[0], "d@example.com", "rd");
  cancel_registration("rd");
  EXPECT_EQ(code(single[0]).at("status"), "used");
  EXPECT_EQ(registration("rd").at("status"), "cancelled");
  EXPECT_EQ(seats("s2").registered, 0u);
  EXPECT_EQ(summary("c2"), counts(1, 0, 0, 1, 0));
  expect_agrees(*models, w);
}

TEST_F(Projections, RosterAndSeatsThroughInviteClaimCancelSupersedeExpire) {
  contract("c1");
  session("s1", 2, "c1");
  invite("i1", "s1", "ann@example.com");
  w.now.micros += kMinute;
  invite("i2", "s1", "bob@example.com");
  EXPECT_EQ(ids(roster("s1").at("invitations")), (std::vector<std::string>{"i1", "i2"}));
  auto s = seats("s1");
  EXPECT_EQ(s.capacity, 2u);
  EXPECT_EQ(s.reserved, 2u);
  EXPECT_EQ(s.available(), 0u);

  // Full: only an explicit over-capacity confirmation gets in, raising capacity.
  EXPECT_EQ(rejection(d::Invite{w.org, d::InvitationId("i3"), d::SessionId("s1"), person("carl@example.com"),
                                std::nullopt, std::nullopt, false, false, w.now}),
            d::errc::session_full);
  invite("i3", "s1", "carl@example.com", std::nullopt, kT0 + 10 * kMinute, /*over=*/true);
  s = seats("s1");
  EXPECT_EQ(s.capacity, 3u);
  EXPECT_EQ(s.reserved, 3u);
  const json i3 = invitation("i3");
  EXPECT_EQ(i3.at("status"), "pending");
  EXPECT_EQ(i3.at("over_capacity"), true);
  EXPECT_EQ(i3.at("expires_at"), rfc3339(kT0 + 10 * kMinute));
  EXPECT_EQ(i3.at("participant").at("email"), "carl@example.com");
  EXPECT_EQ(i3.at("session_id"), "s1");
  EXPECT_EQ(i3.at("org"), "acme");
  EXPECT_TRUE(i3.at("registration_id").is_null());
  const auto session_doc = models->session(w.org, d::SessionId("s1")).value();
  ASSERT_TRUE(session_doc);
  EXPECT_EQ(session_doc->version, 4u);  // created, three seats reserved
  EXPECT_EQ(session_doc->body.at("capacity"), 3);
  EXPECT_EQ(session_doc->body.at("available"), 0);
  EXPECT_EQ(session_doc->body.at("contract_id"), "c1");

  claim("i1", "r1");
  EXPECT_EQ(invitation("i1").at("status"), "accepted");
  EXPECT_EQ(invitation("i1").at("registration_id"), "r1");
  EXPECT_EQ(ids(roster("s1").at("invitations")), (std::vector<std::string>{"i2", "i3"}));
  EXPECT_EQ(ids(roster("s1").at("registrations")), std::vector<std::string>{"r1"});
  EXPECT_EQ(registration("r1").at("invitation_id"), "i1");
  s = seats("s1");
  EXPECT_EQ(s.reserved, 2u);
  EXPECT_EQ(s.registered, 1u);

  run(d::CancelInvitation{w.org, d::InvitationId("i2"), w.now});
  EXPECT_EQ(invitation("i2").at("status"), "cancelled");
  EXPECT_EQ(ids(roster("s1").at("invitations")), std::vector<std::string>{"i3"});
  EXPECT_EQ(seats("s1").reserved, 1u);

  EXPECT_TRUE(models->due_expiries(d::Timestamp{kT0 + 5 * kMinute}, 10).value().empty());
  const auto due = models->due_expiries(d::Timestamp{kT0 + 10 * kMinute}, 10).value();
  ASSERT_EQ(due.size(), 1u);
  EXPECT_EQ(due[0].invitation.str(), "i3");
  EXPECT_EQ(due[0].expires_at.micros, kT0 + 10 * kMinute);
  w.now.micros = kT0 + 10 * kMinute;
  run(d::ExpireInvitation{d::InvitationId("i3"), w.now});
  EXPECT_EQ(invitation("i3").at("status"), "expired");
  EXPECT_TRUE(roster("s1").at("invitations").empty());
  EXPECT_TRUE(models->due_expiries(d::Timestamp{kT0 + 100 * kMinute}, 10).value().empty());
  s = seats("s1");
  EXPECT_EQ(s.reserved, 0u);
  EXPECT_EQ(s.registered, 1u);
  EXPECT_EQ(s.available(), 2u);

  run(d::ChangeCapacity{w.org, d::SessionId("s1"), 5});
  EXPECT_EQ(seats("s1").capacity, 5u);
  EXPECT_EQ(seats("s1").available(), 4u);
  revoke("r1");
  EXPECT_TRUE(roster("s1").at("registrations").empty());
  EXPECT_EQ(seats("s1").registered, 0u);

  // Two invitations point at one single-use code: the first claim supersedes the other.
  auto g = batch("b1", "c1", 2);
  g.session = d::SessionId("s1");
  const auto k = generate(g);
  invite("i4", "s1", "dora@example.com", k[0]);
  invite("i5", "s1", "emil@example.com", k[0]);
  EXPECT_EQ(ids(roster("s1").at("invitations")), (std::vector<std::string>{"i4", "i5"}));
  EXPECT_EQ(code(k[0]).at("status"), "available");  // invitations hold seats, not uses
  claim("i4", "r4");
  EXPECT_EQ(invitation("i5").at("status"), "superseded");
  EXPECT_TRUE(roster("s1").at("invitations").empty());
  EXPECT_EQ(ids(roster("s1").at("registrations")), std::vector<std::string>{"r4"});
  EXPECT_EQ(code(k[0]).at("status"), "used");
  EXPECT_EQ(code(k[0]).at("participant").at("email"), "dora@example.com");
  s = seats("s1");
  EXPECT_EQ(s.reserved, 0u);
  EXPECT_EQ(s.registered, 1u);

  // A public redemption taking the last use supersedes a pending invitation too.
  invite("i6", "s1", "fay@example.com", k[1]);
  redeem(k[1], "gus@example.com", "r7");
  EXPECT_EQ(invitation("i6").at("status"), "superseded");
  EXPECT_EQ(ids(roster("s1").at("registrations")), (std::vector<std::string>{"r4", "r7"}));
  EXPECT_EQ(seats("s1").reserved, 0u);
  EXPECT_EQ(seats("s1").registered, 2u);

  // The roster serves registrations as they now are.
  run(d::ChangeAccess{w.org, d::RegistrationId("r4"), d::Timestamp{kT0 + 900 * kMinute}});
  EXPECT_EQ(roster("s1").at("registrations").at(0).at("access_until"), rfc3339(kT0 + 900 * kMinute));
  EXPECT_EQ(rejection(d::ResendInvitation{w.org, d::InvitationId("i1"), w.now}), d::errc::invitation_not_pending);
  expect_agrees(*models, w);
}

TEST_F(Projections, CodesPaginateInIssueOrderWithFilters) {
  contract("c1");
  contract("c2");
  session("s1", 100, "c1");
  auto b1 = generate(batch("b1", "c1", 15));
  auto b2 = generate(batch("b2", "c2", 10));
  std::vector<std::string> all = b1;
  all.insert(all.end(), b2.begin(), b2.end());
  for (int i = 0; i < 15; i += 3) assign(b1[static_cast<std::size_t>(i)], "p" + std::to_string(i) + "@example.com");

  // Three pages.
  auto p1 = models->codes(w.org, {}, std::nullopt, 10).value();
  ASSERT_TRUE(p1.next);
  auto p2 = models->codes(w.org, {}, p1.next, 10).value();
  ASSERT_TRUE(p2.next);
  auto p3 = models->codes(w.org, {}, p2.next, 10).value();
  EXPECT_FALSE(p3.next);
  EXPECT_EQ(p1.items.size(), 10u);
  EXPECT_EQ(p2.items.size(), 10u);
  EXPECT_EQ(p3.items.size(), 5u);
  std::vector<std::string> paged = codes_of(p1);
  for (const auto& p : {p2, p3}) {
    const auto more = codes_of(p);
    paged.insert(paged.end(), more.begin(), more.end());
  }
  EXPECT_EQ(paged, all);
  // Exactly a page's worth left: no next after it.
  auto exact = models->codes(w.org, {}, p1.next, 15).value();
  EXPECT_EQ(exact.items.size(), 15u);
  EXPECT_FALSE(exact.next);

  // Filters.
  EXPECT_EQ(codes_of(models->codes(w.org, {.contract = "c2"}, std::nullopt, 100).value()), b2);
  EXPECT_EQ(codes_of(models->codes(w.org, {.batch = "b1"}, std::nullopt, 100).value()), b1);
  std::vector<std::string> assigned, available_b1;
  for (std::size_t i = 0; i < b1.size(); ++i) (i % 3 == 0 ? assigned : available_b1).push_back(b1[i]);
  EXPECT_EQ(codes_of(models->codes(w.org, {.status = "assigned"}, std::nullopt, 100).value()), assigned);
  EXPECT_EQ(codes_of(models->codes(w.org, {.contract = "c1", .status = "available"}, std::nullopt, 100).value()),
            available_b1);
  EXPECT_EQ(
      codes_of(
          models->codes(w.org, {.contract = "c1", .batch = "b1", .status = "assigned"}, std::nullopt, 100).value()),
      assigned);
  EXPECT_TRUE(models->codes(w.org, {.contract = "c2", .batch = "b1"}, std::nullopt, 100).value().items.empty());
  EXPECT_TRUE(models->codes(w.org, {.status = "bogus"}, std::nullopt, 100).value().items.empty());
  EXPECT_TRUE(models->codes(d::OrgId("other"), {}, std::nullopt, 100).value().items.empty());

  // A filtered list over three pages: 10 available in b1, pages of 4.
  std::vector<std::string> filtered;
  std::optional<std::string> cursor;
  int pages = 0;
  do {
    auto page = models->codes(w.org, {.batch = "b1", .status = "available"}, cursor, 4).value();
    const auto got = codes_of(page);
    filtered.insert(filtered.end(), got.begin(), got.end());
    cursor = page.next;
    ++pages;
  } while (cursor);
  EXPECT_EQ(pages, 3);
  EXPECT_EQ(filtered, available_b1);

  // An unreadable cursor reads as the first page.
  EXPECT_EQ(codes_of(models->codes(w.org, {}, std::string("garbage"), 3).value()),
            (std::vector<std::string>{all[0], all[1], all[2]}));

  // The pool: available codes of a contract, oldest first; participants: codes bound to someone.
  EXPECT_EQ(models->pool(w.org, d::ContractId("c1"), 3).value(),
            (std::vector<std::string>{available_b1[0], available_b1[1], available_b1[2]}));
  assign(available_b1[0], "late@example.com");
  EXPECT_EQ(models->pool(w.org, d::ContractId("c1"), 1).value(), std::vector<std::string>{available_b1[1]});
  const auto participants = models->participants(w.org, d::ContractId("c1")).value();
  ASSERT_EQ(participants.size(), assigned.size() + 1);
  EXPECT_EQ(participants[0].at("participant").at("email"), "p0@example.com");
  EXPECT_EQ(participants[1].at("participant").at("email"), "late@example.com");  // issue order
  EXPECT_TRUE(models->participants(w.org, d::ContractId("c2")).value().empty());
}

TEST_F(Projections, DueExpiriesInOrderAndOnlyWhilePending) {
  contract("c1");
  session("s1", 10, "c1");
  invite("late", "s1", "a@example.com", std::nullopt, kT0 + 30 * kMinute);
  invite("early", "s1", "b@example.com", std::nullopt, kT0 + 10 * kMinute);
  invite("never", "s1", "c@example.com");
  invite("mid", "s1", "d@example.com", std::nullopt, kT0 + 20 * kMinute);
  invite("claimed", "s1", "e@example.com", std::nullopt, kT0 + 15 * kMinute);
  invite("cancelled", "s1", "f@example.com", std::nullopt, kT0 + 16 * kMinute);
  claim("claimed", "r1");
  run(d::CancelInvitation{w.org, d::InvitationId("cancelled"), w.now});

  const auto names = [](const std::vector<projections::DueExpiry>& due) {
    std::vector<std::string> out;
    for (const auto& e : due) out.push_back(e.invitation.str());
    return out;
  };
  EXPECT_EQ(names(models->due_expiries(d::Timestamp{kT0 + 60 * kMinute}, 10).value()),
            (std::vector<std::string>{"early", "mid", "late"}));
  EXPECT_EQ(names(models->due_expiries(d::Timestamp{kT0 + 20 * kMinute}, 10).value()),
            (std::vector<std::string>{"early", "mid"}));
  EXPECT_EQ(names(models->due_expiries(d::Timestamp{kT0 + 60 * kMinute}, 1).value()),
            std::vector<std::string>{"early"});
  EXPECT_TRUE(models->due_expiries(d::Timestamp{kT0 + 10 * kMinute - 1}, 10).value().empty());
  w.now.micros = kT0 + 10 * kMinute;
  run(d::ExpireInvitation{d::InvitationId("early"), w.now});
  EXPECT_EQ(names(models->due_expiries(d::Timestamp{kT0 + 60 * kMinute}, 10).value()),
            (std::vector<std::string>{"mid", "late"}));
}

// A day of commands, chosen at random but each decided by the domain, so the
// log is one the pipeline could have written.
// With `jobs`, two batches generated in chunks too (ten thousand codes and
// more each: the days that feed the log over and over go without).
void random_day(World& w, std::uint64_t seed, int steps, const std::function<void(std::vector<RecordedEvent>)>& sink,
                bool jobs_too = false) {
  std::mt19937_64 rng(seed);
  const auto pick = [&](std::size_t n) { return static_cast<std::size_t>(rng() % n); };
  const auto chance = [&](int percent) { return static_cast<int>(rng() % 100) < percent; };
  std::vector<std::string> contracts{"c1", "c2"}, sessions{"s1", "s2", "s3"}, codes, invitations, registrations;
  const std::vector<std::string> people{"ann", "bob", "cat", "dan", "eve", "fay", "gus", "hal"};
  const auto email = [&] { return people[pick(people.size())] + "@example.com"; };
  int serial = 0;
  const auto fresh = [&](const char* tag) { return std::string(tag) + std::to_string(++serial); };
  const auto try_run = [&](const auto& command) {
    auto decided = w.decide(command);
    if (!decided.has_value()) return;
    auto recorded = w.commit(decided.value());
    if (!recorded.empty()) sink(std::move(recorded));
  };

  try_run(d::CreateContract{w.org, d::ContractId("c1"), "Reusing", true, eur(5000)});
  try_run(d::CreateContract{w.org, d::ContractId("c2"), "Strict", false, std::nullopt});
  try_run(d::CreateSession{w.org, d::SessionId("s1"), "S1", 3, d::ContractId("c1"), std::nullopt});
  try_run(d::CreateSession{w.org, d::SessionId("s2"), "S2", 5, d::ContractId("c2"), std::nullopt});
  try_run(d::CreateSession{w.org, d::SessionId("s3"), "S3", 2, std::nullopt, std::nullopt});
  // Batches generated in chunks: one early, whose chunks come on random
  // steps until it is ready, and one at the end, left generating.
  std::vector<d::BatchId> jobs;
  const auto issue_chunk = [&](const d::BatchId& job) {
    d::IssueBatchChunk chunk{w.org, job, {}};
    chunk.codes = w.fresh_codes(d::codes_to_draw(chunk, w.batch_state(job)));
    try_run(chunk);
    for (const auto& c : chunk.codes) codes.push_back(c.key);
  };
  for (int step = 0; step < steps; ++step) {
    w.now.micros += kMinute;
    if (jobs_too && (step == steps / 3 || step == steps - 3)) {
      d::GenerateBatch job;
      job.org = w.org;
      job.batch = d::BatchId(fresh("job"));
      job.contract = d::ContractId("c1");
      job.session = d::SessionId("s1");
      job.quantity = d::kLargestBatchAtOnce + 1;
      try_run(job);
      jobs.push_back(job.batch);
      if (step == steps - 3) issue_chunk(job.batch);
    }
    if (!jobs.empty() && chance(10)) issue_chunk(jobs.front());
    const auto op = pick(100);
    if (op < 8 || codes.empty()) {
      d::GenerateBatch g;
      g.org = w.org;
      g.batch = d::BatchId(fresh("b"));
      g.contract = d::ContractId(contracts[pick(contracts.size())]);
      if (chance(50)) g.session = d::SessionId(sessions[pick(sessions.size())]);
      if (chance(50)) g.price = eur(static_cast<std::int64_t>(100 * (1 + pick(50))));
      g.max_uses = static_cast<std::uint32_t>(1 + pick(3));
      if (chance(30)) {
        const auto n = 1 + pick(3);
        for (std::size_t i = 0; i < n; ++i) g.participants.push_back(person(email()));
      } else {
        g.quantity = static_cast<std::uint32_t>(1 + pick(5));
      }
      g.codes = w.fresh_codes(g.participants.empty() ? g.quantity : g.participants.size());
      const auto before = w.log().size();
      try_run(g);
      if (w.log().size() > before) {
        for (const auto& c : g.codes) codes.push_back(c.key);
      }
    } else if (op < 18) {
      try_run(d::AssignCode{w.org, codes[pick(codes.size())], person(email())});
    } else if (op < 38) {
      const auto& key = codes[pick(codes.size())];
      const auto state = w.code_state(key);
      const auto who = state.assignee && chance(80) ? state.assignee->email : email();
      const auto id = fresh("r");
      std::optional<d::SessionId> s;
      if (chance(50)) s = d::SessionId(sessions[pick(sessions.size())]);
      const auto before = w.log().size();
      try_run(d::Redeem{w.org, key, person(who), s, d::RegistrationId(id), w.now});
      if (w.log().size() > before) registrations.push_back(id);
    } else if (op < 53) {
      const auto id = fresh("i");
      std::optional<std::string> key;
      if (chance(60)) key = codes[pick(codes.size())];
      std::optional<d::Timestamp> expires;
      if (chance(50)) expires = d::Timestamp{w.now.micros + static_cast<std::int64_t>(1 + pick(30)) * kMinute};
      const auto before = w.log().size();
      try_run(d::Invite{w.org, d::InvitationId(id), d::SessionId(sessions[pick(sessions.size())]), person(email()), key,
                        expires, chance(20), chance(40), w.now});
      if (w.log().size() > before) invitations.push_back(id);
    } else if (op < 65 && !invitations.empty()) {
      const auto id = fresh("r");
      std::optional<d::Participant> who;
      if (chance(20)) who = person(email());
      const auto before = w.log().size();
      try_run(d::ClaimInvitation{d::InvitationId(invitations[pick(invitations.size())]), who, d::RegistrationId(id),
                                 w.now});
      if (w.log().size() > before) registrations.push_back(id);
    } else if (op < 70 && !invitations.empty()) {
      try_run(d::CancelInvitation{w.org, d::InvitationId(invitations[pick(invitations.size())]), w.now});
    } else if (op < 76 && !invitations.empty()) {
      try_run(d::ExpireInvitation{d::InvitationId(invitations[pick(invitations.size())]), w.now});
    } else if (op < 78 && !invitations.empty()) {
      try_run(d::ResendInvitation{w.org, d::InvitationId(invitations[pick(invitations.size())]), w.now});
    } else if (op < 84 && !registrations.empty()) {
      try_run(d::CancelRegistration{w.org, d::RegistrationId(registrations[pick(registrations.size())]), w.now});
    } else if (op < 89 && !registrations.empty()) {
      try_run(d::RevokeRegistration{w.org, d::RegistrationId(registrations[pick(registrations.size())]), w.now});
    } else if (op < 91 && !registrations.empty()) {
      try_run(d::ChangeAccess{w.org, d::RegistrationId(registrations[pick(registrations.size())]),
                              d::Timestamp{w.now.micros + static_cast<std::int64_t>(pick(1000)) * kMinute}});
    } else if (op < 93) {
      const d::SessionId session(sessions[pick(sessions.size())]);
      if (pick(2) == 0) {
        try_run(d::ChangeCapacity{w.org, session, static_cast<std::uint32_t>(pick(8))});
      } else {
        try_run(d::EditSession{w.org, session, std::nullopt, "Session " + std::to_string(pick(100)),
                               std::optional<d::Timestamp>(d::Timestamp{w.now.micros + kMinute})});
      }
    } else if (op < 95) {
      try_run(d::ArchiveCode{w.org, codes[pick(codes.size())]});
    } else if (op < 97) {
      try_run(d::DeleteCode{w.org, codes[pick(codes.size())]});
    } else if (op < 99) {
      std::optional<std::string> note;
      if (chance(50)) note = "note " + std::to_string(step);
      std::optional<d::Money> price;
      if (chance(50)) price = eur(static_cast<std::int64_t>(pick(10'000)));
      try_run(d::EditCode{w.org, codes[pick(codes.size())], note, price, std::nullopt, std::nullopt});
    } else {
      try_run(d::ConfigureContract{w.org, d::ContractId(contracts[pick(contracts.size())]), std::nullopt, chance(50),
                                   std::nullopt});
    }
  }
}

TEST_F(Projections, RandomDayAgreesWithTheDomainStates) {
  random_day(
      w, 42, 3000, [&](std::vector<RecordedEvent> events) { feed(*models, events); }, /*jobs_too=*/true);
  ASSERT_GT(w.log().size(), 2000u);
  // The day exercised every kind of event.
  std::map<std::string, int> types;
  for (const auto& e : w.log()) ++types[e.type];
  for (const std::string_view type : d::event_types()) {
    EXPECT_GT(types[std::string(type)], 0) << type;
  }
  expect_agrees(*models, w);
  EXPECT_EQ(models->checkpoint().value, w.log().size());
}

TEST_F(Projections, ReapplyingAppliedEventsChangesNothing) {
  random_day(w, 7, 1500, [&](std::vector<RecordedEvent> events) { feed(*models, events); });
  const json before = dump(*models, w);
  const auto checkpoint = models->checkpoint();

  // The whole log again, at once and then in small batches (a relay restart
  // re-sending what was in flight): every event is at or below its stream's version.
  feed(*models, w.log());
  EXPECT_EQ(dump(*models, w), before);
  for (std::size_t i = 0; i < w.log().size(); i += 5) {
    const auto end = std::min(w.log().size(), i + 5);
    feed(*models, std::vector<RecordedEvent>(w.log().begin() + static_cast<std::ptrdiff_t>(i),
                                             w.log().begin() + static_cast<std::ptrdiff_t>(end)));
  }
  EXPECT_EQ(dump(*models, w), before);
  EXPECT_EQ(models->checkpoint(), checkpoint);
  expect_agrees(*models, w);

  // Old events mixed with new ones in one batch: only the new ones count.
  contract("cx");
  session("sx", 4, "cx");
  const auto keys = generate(batch("bx", "cx", 2));
  invite("ix", "sx", "x@example.com", keys[0]);
  std::vector<RecordedEvent> mixed(w.log().end() - 10, w.log().end());
  w.now.micros += kMinute;
  auto fresh = w.commit(
      w.decide(d::ClaimInvitation{d::InvitationId("ix"), std::nullopt, d::RegistrationId("rx"), w.now}).value());
  mixed.insert(mixed.end(), fresh.begin(), fresh.end());
  mixed.insert(mixed.end(), fresh.begin(), fresh.end());  // and twice over
  feed(*models, mixed);
  EXPECT_EQ(code(keys[0]).at("uses"), 1);
  EXPECT_EQ(seats("sx").registered, 1u);
  EXPECT_EQ(seats("sx").reserved, 0u);
  EXPECT_EQ(summary("cx"), counts(2, 1, 0, 1, 0));
  EXPECT_EQ(models->checkpoint().value, w.log().size());
  expect_agrees(*models, w);
}

TEST_F(Projections, EverythingSurvivesAReopen) {
  random_day(w, 11, 1000, [&](std::vector<RecordedEvent> events) { feed(*models, events); });
  const json before = dump(*models, w);
  const auto checkpoint = models->checkpoint();
  ASSERT_EQ(checkpoint.value, w.log().size());
  reopen();
  ASSERT_TRUE(models);
  EXPECT_EQ(models->checkpoint(), checkpoint);
  EXPECT_EQ(dump(*models, w), before);
  EXPECT_TRUE(models->wait_for(checkpoint, std::chrono::milliseconds(0)));
  EXPECT_FALSE(models->wait_for(eventstore::Position{checkpoint.value + 1}, std::chrono::milliseconds(1)));
  expect_agrees(*models, w);
}

// A Kafka-fed projector sees each stream in order but the streams interleaved
// in any way (one topic per category, partitions by stream), and after a relay
// restart sees events again: the models come out the same.
TEST_F(Projections, AnyPerStreamOrderWithResendsGivesTheSameModels) {
  random_day(w, 1234, 2000, [&](std::vector<RecordedEvent> events) { feed(*models, events); });
  const json expected = dump(*models, w);

  for (const std::uint64_t seed : {1u, 2u, 3u}) {
    SCOPED_TRACE(seed);
    std::mt19937_64 rng(seed);
    std::map<std::string, std::vector<RecordedEvent>> by_stream;
    for (const auto& e : w.log()) by_stream[e.stream].push_back(e);
    // Streams picked at random; in the first round batches wait until half
    // the log is out, so most codes meet a batch not yet seen.
    std::vector<std::string> live;
    for (const auto& [stream, events] : by_stream) live.push_back(stream);
    std::map<std::string, std::size_t> next;
    std::vector<RecordedEvent> order;
    std::size_t emitted = 0;
    while (!live.empty()) {
      const auto which = rng() % live.size();
      const auto stream = live[which];
      const auto is_batch = [](const std::string& id) { return d::stream_category(id) == "batch"; };
      const bool batches_wait =
          seed == 1 && is_batch(stream) && emitted < w.log().size() / 2 && !std::ranges::all_of(live, is_batch);
      if (batches_wait) continue;
      auto& i = next[stream];
      const auto& events = by_stream[stream];
      order.push_back(events[i++]);
      ++emitted;
      if (i > 1 && rng() % 10 == 0) order.push_back(events[rng() % i]);  // a re-send
      if (i == events.size()) live.erase(live.begin() + static_cast<std::ptrdiff_t>(which));
    }
    ASSERT_EQ(emitted, w.log().size());
    TempDir other{"tessera-projections"};
    auto kafka_fed = open_models(other.path());
    for (std::size_t i = 0; i < order.size();) {
      const auto n = 1 + rng() % 64;
      const auto end = std::min(order.size(), i + n);
      feed(*kafka_fed, std::vector<RecordedEvent>(order.begin() + static_cast<std::ptrdiff_t>(i),
                                                  order.begin() + static_cast<std::ptrdiff_t>(end)));
      i = end;
    }
    EXPECT_EQ(dump(*kafka_fed, w), expected);
    EXPECT_EQ(kafka_fed->checkpoint().value, w.log().size());
  }
}

// Fed from Kafka: the consumer's offsets and the count of events applied
// are written with the documents, survive a reopen, and count each event once.
TEST_F(Projections, KafkaOffsetsAndTheAppliedCountTravelWithTheDocuments) {
  random_day(w, 99, 600, [&](std::vector<RecordedEvent> events) { feed(*models, events); });
  const json expected = dump(*models, w);

  TempDir other{"tessera-projections"};
  auto kafka_fed = open_models(other.path());
  ASSERT_TRUE(kafka_fed);
  EXPECT_TRUE(kafka_fed->kafka_offsets().value().empty());
  using projections::PartitionOffset;
  // Each slice of the log as if read from one partition, the last slice twice over.
  const auto& log = w.log();
  const std::size_t half = log.size() / 2;
  const std::vector<RecordedEvent> first(log.begin(), log.begin() + static_cast<std::ptrdiff_t>(half));
  const std::vector<RecordedEvent> second(log.begin() + static_cast<std::ptrdiff_t>(half), log.end());
  const std::vector<PartitionOffset> after_first = {{"tessera.codes", 3, 120}, {"tessera.sessions", 0, 7}};
  auto applied = kafka_fed->apply_from_kafka(first, after_first);
  ASSERT_TRUE(applied) << applied.error().message();
  EXPECT_EQ(applied.value(), first.size());
  EXPECT_EQ(kafka_fed->kafka_offsets().value(), after_first);

  // A crash here: what was written is what a restart finds.
  kafka_fed.reset();
  kafka_fed = open_models(other.path());
  ASSERT_TRUE(kafka_fed);
  EXPECT_EQ(kafka_fed->kafka_offsets().value(), after_first);
  EXPECT_EQ(kafka_fed->applied_events(), first.size());

  applied = kafka_fed->apply_from_kafka(second, std::vector<PartitionOffset>{{"tessera.codes", 3, 200}});
  ASSERT_TRUE(applied) << applied.error().message();
  EXPECT_EQ(applied.value(), second.size());
  // Re-sends change nothing and count nothing, but their offsets are kept.
  const std::vector<RecordedEvent> resent(log.end() - 50, log.end());
  applied = kafka_fed->apply_from_kafka(resent, std::vector<PartitionOffset>{{"tessera.codes", 10, 50}});
  ASSERT_TRUE(applied) << applied.error().message();
  EXPECT_EQ(applied.value(), 0U);
  // Messages that carried no event still move an offset.
  applied = kafka_fed->apply_from_kafka({}, std::vector<PartitionOffset>{{"tessera.batches", 1, 9}});
  ASSERT_TRUE(applied) << applied.error().message();
  EXPECT_EQ(applied.value(), 0U);

  kafka_fed.reset();
  kafka_fed = open_models(other.path());
  ASSERT_TRUE(kafka_fed);
  EXPECT_EQ(kafka_fed->kafka_offsets().value(), (std::vector<PartitionOffset>{{"tessera.batches", 1, 9},
                                                                              {"tessera.codes", 3, 200},
                                                                              {"tessera.codes", 10, 50},
                                                                              {"tessera.sessions", 0, 7}}));
  EXPECT_EQ(kafka_fed->applied_events(), log.size());
  EXPECT_EQ(kafka_fed->checkpoint().value, log.size());
  EXPECT_EQ(dump(*kafka_fed, w), expected);
  // The local log's path neither writes offsets nor counts.
  EXPECT_TRUE(models->kafka_offsets().value().empty());
  EXPECT_EQ(models->applied_events(), 0U);
}

TEST_F(Projections, CodesWaitForTheirBatchWithinOneApply) {
  contract("c1");
  auto g = batch("b1", "c1", 3);
  g.org = w.org;
  g.codes = w.fresh_codes(3);
  auto events = w.commit(w.decide(g).value());
  ASSERT_EQ(events.size(), 4u);
  // Codes before the batch, in one call and across calls.
  feed(*models, {events[1], events[2]});
  EXPECT_TRUE(code(g.codes[0].key).is_null());
  EXPECT_EQ(summary("c1"), counts(0, 0, 0, 0, 0));
  feed(*models, {events[3], events[0]});
  for (const auto& c : g.codes) EXPECT_EQ(code(c.key).at("status"), "available");
  EXPECT_EQ(summary("c1"), counts(3, 3, 0, 0, 0));
  EXPECT_EQ(models->pool(w.org, d::ContractId("c1"), 10).value().size(), 3u);
}

TEST_F(Projections, MissesReadAsNothing) {
  EXPECT_FALSE(models->seats(w.org, d::SessionId("s1")).value());
  EXPECT_FALSE(models->session(w.org, d::SessionId("s1")).value());
  EXPECT_FALSE(models->contract(w.org, d::ContractId("c1")).value());
  EXPECT_FALSE(models->summary(w.org, d::ContractId("c1")).value());
  EXPECT_FALSE(models->roster(w.org, d::SessionId("s1")).value());
  EXPECT_FALSE(models->invitation(d::InvitationId("i1")).value());
  EXPECT_FALSE(models->registration(w.org, d::RegistrationId("r1")).value());
  EXPECT_FALSE(models->contract(d::OrgId("a/b"), d::ContractId("c1")).value());
  contract("c1", true, eur(100));
  const auto doc = models->contract(w.org, d::ContractId("c1")).value();
  ASSERT_TRUE(doc);
  EXPECT_EQ(doc->version, 1u);
  EXPECT_EQ(doc->body, (json{{"id", "c1"},
                             {"org", "acme"},
                             {"name", "Contract c1"},
                             {"reuse_cancelled_codes", true},
                             {"default_price", {{"amount", 100}, {"currency", "EUR"}}}}));
  run(d::ConfigureContract{w.org, d::ContractId("c1"), std::nullopt, false,
                           std::optional<std::optional<d::Money>>(std::in_place, std::nullopt)});
  const auto configured = models->contract(w.org, d::ContractId("c1")).value();
  EXPECT_EQ(configured->version, 2u);
  EXPECT_EQ(configured->body.at("reuse_cancelled_codes"), false);
  EXPECT_TRUE(configured->body.at("default_price").is_null());
  EXPECT_FALSE(models->contract(d::OrgId("other"), d::ContractId("c1")).value());
  EXPECT_EQ(summary("c1"), counts(0, 0, 0, 0, 0));
}

TEST(ProjectionsLayout, ADatabaseOfThePreviousLayoutIsRebuiltFromTheStart) {
  TempDir dir{"tessera-projections"};
  {
    rocksdb::Options options;
    options.create_if_missing = true;
    rocksdb::DB* raw = nullptr;
    ASSERT_TRUE(rocksdb::DB::Open(options, dir.path().string(), &raw).ok());
    std::unique_ptr<rocksdb::DB> db(raw);
    ASSERT_TRUE(db->Put(rocksdb::WriteOptions(), "checkpoint", "42").ok());
    ASSERT_TRUE(db->Put(rocksdb::WriteOptions(), "seats/session-acme-s1", R"({"capacity":1})").ok());
  }
  auto models = open_models(dir.path());
  ASSERT_TRUE(models);
  EXPECT_EQ(models->checkpoint().value, 0u);
  EXPECT_FALSE(models->seats(d::OrgId("acme"), d::SessionId("s1")).value());
  models.reset();
  models = open_models(dir.path());
  EXPECT_EQ(models->checkpoint().value, 0u);
}

}  // namespace
}  // namespace tessera::test_support
