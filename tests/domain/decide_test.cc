// decide(): given events (folded with evolve() into the aggregates' states),
// when a command is decided, then these events, or this rejection.
//
// Every decide() overload has at least one accepted case and a case for each
// rejection it can produce.

#include <gtest/gtest.h>

#include <cstdint>
#include <map>
#include <optional>
#include <ostream>
#include <set>
#include <string>
#include <vector>

#include "given_when_then.h"
#include "tessera/codec/json.h"
#include "tessera/domain/decide.h"
#include "tessera/domain/streams.h"
#include "text.h"

namespace tessera::domain {

// Readable failure output: "code-XYZ: CodeRedeemed {...json...}".
inline void PrintTo(const StreamEvent& e, std::ostream* os) {
  *os << e.stream.str() << ": " << event_type(e.event) << " " << codec::encode_event(e.event);
}

}  // namespace tessera::domain

namespace {

using tessera::test_support::cat;

using namespace tessera::domain;
using tessera::result;

// ---------------------------------------------------------------------------
// Vocabulary of the scenarios.

const OrgId kOrg{"acme"};
const OrgId kOtherOrg{"globex"};
const ContractId kContract{"c1"};
const SessionId kSession{"s1"};
const SessionId kOtherSession{"s2"};
const BatchId kBatch{"b1"};
const RegistrationId kReg{"r1"};
const InvitationId kInv{"i1"};
const InvitationId kInv2{"i2"};

const CodeValue kCode = make_code(0x0123456789ABCDEULL, "");
const CodeValue kCode2 = make_code(0x0FEDCBA98765432ULL, "");
const CodeValue kCode3 = make_code(0x00000000DEADBEEULL, "");

Timestamp at_seconds(std::int64_t s) { return Timestamp{s * 1'000'000}; }
const Timestamp kNow = at_seconds(1'800'000'000);
Timestamp plus_seconds(Timestamp t, std::int64_t s) { return Timestamp{t.micros + s * 1'000'000}; }
Timestamp plus_micros(Timestamp t, std::int64_t us) { return Timestamp{t.micros + us}; }

Money eur(std::int64_t cents) { return Money{cents, "EUR"}; }

Participant person(std::string email, std::string group = "staff", std::string region = "EU") {
  return Participant{std::move(email), "Someone", std::move(group), std::move(region), ""};
}
const Participant kAlice = person("alice@example.com");
const Participant kBob = person("bob@example.org", "guests", "US");

// ---------------------------------------------------------------------------
// Given: events folded into per-stream aggregate states, as the pipeline does.

using World = tessera::test_support::Given;

// A code's batch and its contract, for the few tests that hand a typed
// decision a state decide(command, aggregates) would never load.
const BatchState& batch_of(const World& w, const CodeState& code) {
  static const BatchState kMissing{};
  return code.exists ? w.batch(code.org, code.batch) : kMissing;
}
const ContractState& contract_of(const World& w, const CodeState& code) {
  static const ContractState kMissing{};
  const BatchState& b = batch_of(w, code);
  return b.exists ? w.contract(code.org, b.terms.contract) : kMissing;
}

// ---------------------------------------------------------------------------
// Event builders for the given part.

StreamEvent contract_created(std::optional<Money> default_price = std::nullopt, bool reuse = false,
                             const OrgId& org = kOrg, const ContractId& id = kContract) {
  return {contract_stream(org, id), ContractCreated{org, id, "Acme training", reuse, std::move(default_price)}};
}

StreamEvent session_created(std::uint32_t capacity = 10, std::optional<Timestamp> opens_at = std::nullopt,
                            const OrgId& org = kOrg, const SessionId& id = kSession,
                            std::optional<ContractId> contract = kContract) {
  return {session_stream(org, id), SessionCreated{org, id, "Spring course", capacity, contract, opens_at}};
}

BatchGenerated batch_terms(const OrgId& org = kOrg, const BatchId& id = kBatch) {
  BatchGenerated t;
  t.org = org;
  t.batch = id;
  t.contract = kContract;
  t.quantity = 1;
  t.max_uses = 1;
  return t;
}

StreamEvent batch_generated(const BatchGenerated& terms) { return {batch_stream(terms.org, terms.batch), terms}; }

StreamEvent code_issued(const CodeValue& code = kCode, std::optional<Participant> assignee = std::nullopt,
                        std::optional<Money> price = std::nullopt, const OrgId& org = kOrg,
                        const BatchId& batch = kBatch) {
  return {code_stream(code.key), CodeIssued{org, code.display, batch, std::move(assignee), std::move(price)}};
}

// A use of `code` already taken (and its seat registered) by registration `reg`.
Events used_by(const std::string& reg, const CodeValue& code = kCode, const SessionId& session = kSession,
               const Participant& who = kAlice) {
  const RegistrationId id{reg};
  return {
      {code_stream(code.key), CodeRedeemed{id, who, session, kNow, std::nullopt, {}}},
      {session_stream(kOrg, session), SeatRegistered{id, std::nullopt}},
      {registration_stream(kOrg, id),
       RegistrationCreated{kOrg, id, session, code.display, who, std::nullopt, kNow, std::nullopt, std::nullopt}},
  };
}

// Contract c1, session s1 (capacity 10, contract c1), batch b1 with `terms`,
// and code kCode issued in it.
World standard(const BatchGenerated& terms = batch_terms(), std::uint32_t capacity = 10) {
  World w;
  w.given(contract_created()).given(session_created(capacity)).given(batch_generated(terms)).given(code_issued());
  return w;
}

// ---------------------------------------------------------------------------
// When: the decision, through the pipeline's own entry (on a copy, since
// scenarios keep their worlds const).

result<Events> when(World w, const Command& c) { return w.when(c); }

// ---------------------------------------------------------------------------
// Then: assertions on a decision.

testing::AssertionResult Accepted(const result<Events>& r) {
  if (r.has_value()) return testing::AssertionSuccess();
  return testing::AssertionFailure() << "rejected with " << r.error().code.message() << ": " << r.error().detail;
}

testing::AssertionResult Rejected(const result<Events>& r, errc expected) {
  if (r.has_value()) {
    auto failure = testing::AssertionFailure();
    failure << "accepted, expected " << slug(expected) << "; events:";
    for (const auto& e : r.value()) failure << "\n  " << testing::PrintToString(e);
    return failure;
  }
  if (r.error().code != expected) {
    return testing::AssertionFailure() << "rejected with " << r.error().code.message() << " (" << r.error().detail
                                       << "), expected " << slug(expected);
  }
  if (r.error().detail.empty()) return testing::AssertionFailure() << "rejection carries no detail";
  return testing::AssertionSuccess();
}

// ---------------------------------------------------------------------------
// When: commands decided against the world's states, loaded as the pipeline does.

Redeem redeem_cmd(const Participant& who = kAlice, std::optional<SessionId> session = kSession,
                  const std::string& reg = "r1", Timestamp now = kNow, const std::string& code_key = kCode.key,
                  const OrgId& org = kOrg) {
  return Redeem{org, code_key, who, std::move(session), RegistrationId{reg}, now};
}

Invite invite_cmd(const Participant& who = kAlice, std::optional<std::string> code_key = std::nullopt,
                  const InvitationId& id = kInv) {
  Invite c;
  c.org = kOrg;
  c.invitation = id;
  c.session = kSession;
  c.participant = who;
  c.code_key = std::move(code_key);
  c.now = kNow;
  return c;
}

GenerateBatch generate_cmd(std::uint32_t quantity = 2) {
  GenerateBatch c;
  c.org = kOrg;
  c.batch = kBatch;
  c.contract = kContract;
  c.quantity = quantity;
  const std::vector<CodeValue> pool = {kCode, kCode2, kCode3};
  for (std::uint32_t i = 0; i < quantity; ++i) {
    c.codes.push_back(i < pool.size() ? pool[i] : make_code(0x5000 + i, ""));
  }
  return c;
}

// ===========================================================================
// CreateContract

TEST(CreateContract, NewContractIsCreatedWithItsTerms) {
  const World w;
  const CreateContract c{kOrg, kContract, "Acme training", true, eur(1500)};
  const auto r = when(w, c);
  ASSERT_TRUE(Accepted(r));
  const Events expected = {
      {contract_stream(kOrg, kContract), ContractCreated{kOrg, kContract, "Acme training", true, eur(1500)}}};
  EXPECT_EQ(r.value(), expected);

  World after;
  after.given(r.value());
  EXPECT_TRUE(after.contract(kOrg, kContract).exists);
  EXPECT_EQ(after.contract(kOrg, kContract).terms.default_price, eur(1500));
}

TEST(CreateContract, ExistingIdIsAlreadyExists) {
  World w;
  w.given(contract_created());
  EXPECT_TRUE(Rejected(when(w, CreateContract{kOrg, kContract, "Again", false, {}}), errc::already_exists));
}

TEST(CreateContract, InvalidFieldsAreValidationErrors) {
  const std::string too_long_id(65, 'a');
  EXPECT_TRUE(Rejected(when(World{}, CreateContract{OrgId{""}, kContract, "N", false, {}}), errc::validation));
  EXPECT_TRUE(Rejected(when(World{}, CreateContract{OrgId{"ac-me"}, kContract, "N", false, {}}), errc::validation));
  EXPECT_TRUE(Rejected(when(World{}, CreateContract{kOrg, ContractId{""}, "N", false, {}}), errc::validation));
  EXPECT_TRUE(Rejected(when(World{}, CreateContract{kOrg, ContractId{too_long_id}, "N", false, {}}), errc::validation));
  EXPECT_TRUE(Rejected(when(World{}, CreateContract{kOrg, ContractId{"c/1"}, "N", false, {}}), errc::validation));
  EXPECT_TRUE(Rejected(when(World{}, CreateContract{kOrg, kContract, "", false, {}}), errc::validation));
  EXPECT_TRUE(
      Rejected(when(World{}, CreateContract{kOrg, kContract, std::string(201, 'n'), false, {}}), errc::validation));
  EXPECT_TRUE(Rejected(when(World{}, CreateContract{kOrg, kContract, "N", false, eur(-1)}), errc::validation));
  EXPECT_TRUE(
      Rejected(when(World{}, CreateContract{kOrg, kContract, "N", false, Money{100, "eur"}}), errc::validation));
  EXPECT_TRUE(
      Rejected(when(World{}, CreateContract{kOrg, kContract, "N", false, Money{100, "EURO"}}), errc::validation));
  // The boundaries themselves are fine.
  EXPECT_TRUE(Accepted(
      when(World{}, CreateContract{kOrg, ContractId{std::string(64, 'a')}, std::string(200, 'n'), false, eur(0)})));
}

// ===========================================================================
// ConfigureContract

TEST(ConfigureContract, OnlyTheGivenSettingsChange) {
  World w;
  w.given(contract_created(eur(1000), false));
  ConfigureContract c{kOrg, kContract, std::nullopt, true, std::nullopt};
  const auto r = when(w, c);
  ASSERT_TRUE(Accepted(r));
  const Events expected = {{contract_stream(kOrg, kContract), ContractConfigured{"Acme training", true, eur(1000)}}};
  EXPECT_EQ(r.value(), expected);
  w.given(r.value());
  EXPECT_TRUE(w.contract(kOrg, kContract).terms.reuse_cancelled_codes);
  EXPECT_EQ(w.contract(kOrg, kContract).terms.default_price, eur(1000));
}

TEST(ConfigureContract, DefaultPriceCanBeRemoved) {
  World w;
  w.given(contract_created(eur(1000)));
  ConfigureContract c{kOrg, kContract, "Renamed", std::nullopt,
                      std::optional<std::optional<Money>>(std::in_place, std::nullopt)};
  const auto r = when(w, c);
  ASSERT_TRUE(Accepted(r));
  w.given(r.value());
  EXPECT_EQ(w.contract(kOrg, kContract).terms.name, "Renamed");
  EXPECT_EQ(w.contract(kOrg, kContract).terms.default_price, std::nullopt);
}

TEST(ConfigureContract, UnknownOrOtherOrganisationsContractIsContractUnknown) {
  World w;
  EXPECT_TRUE(Rejected(when(w, ConfigureContract{kOrg, kContract, "N", {}, {}}), errc::contract_unknown));
  // A state that exists but belongs to another organisation.
  w.given(contract_created(std::nullopt, false, kOtherOrg));
  EXPECT_TRUE(Rejected(decide(ConfigureContract{kOrg, kContract, "N", {}, {}}, w.contract(kOtherOrg, kContract)),
                       errc::contract_unknown));
}

TEST(ConfigureContract, InvalidSettingsAreValidationErrors) {
  World w;
  w.given(contract_created());
  EXPECT_TRUE(Rejected(when(w, ConfigureContract{kOrg, kContract, "", {}, {}}), errc::validation));
  EXPECT_TRUE(
      Rejected(when(w, ConfigureContract{kOrg, kContract, {}, {}, std::optional<Money>(eur(-5))}), errc::validation));
}

// ===========================================================================
// CreateSession

TEST(CreateSession, NewSessionIsCreatedWithItsCapacity) {
  World w;
  w.given(contract_created());
  const CreateSession c{kOrg, kSession, "Spring course", 25, kContract, kNow};
  const auto r = when(w, c);
  ASSERT_TRUE(Accepted(r));
  const Events expected = {
      {session_stream(kOrg, kSession), SessionCreated{kOrg, kSession, "Spring course", 25, kContract, kNow}}};
  EXPECT_EQ(r.value(), expected);
  w.given(r.value());
  EXPECT_EQ(w.session(kOrg, kSession).capacity, 25U);
  EXPECT_EQ(w.session(kOrg, kSession).occupied(), 0U);
}

TEST(CreateSession, WithoutContractNeedsNone) {
  const World w;
  EXPECT_TRUE(Accepted(when(w, CreateSession{kOrg, kSession, "Open day", 0, std::nullopt, std::nullopt})));
}

TEST(CreateSession, UnknownContractIsContractUnknown) {
  World w;
  const CreateSession c{kOrg, kSession, "S", 5, kContract, std::nullopt};
  EXPECT_TRUE(Rejected(when(w, c), errc::contract_unknown));
  w.given(contract_created(std::nullopt, false, kOtherOrg));
  EXPECT_TRUE(Rejected(decide(c, w.session(kOrg, kSession), w.contract(kOtherOrg, kContract)), errc::contract_unknown));
}

TEST(CreateSession, ExistingIdIsAlreadyExists) {
  World w;
  w.given(contract_created()).given(session_created());
  EXPECT_TRUE(Rejected(when(w, CreateSession{kOrg, kSession, "S", 5, kContract, std::nullopt}), errc::already_exists));
}

TEST(CreateSession, InvalidFieldsAreValidationErrors) {
  const World w;
  EXPECT_TRUE(Rejected(when(w, CreateSession{kOrg, SessionId{"s 1"}, "S", 5, {}, {}}), errc::validation));
  EXPECT_TRUE(Rejected(when(w, CreateSession{kOrg, kSession, "", 5, {}, {}}), errc::validation));
  EXPECT_TRUE(Rejected(when(w, CreateSession{kOrg, kSession, "S", kMaxCapacity + 1, {}, {}}), errc::validation));
  EXPECT_TRUE(Accepted(when(w, CreateSession{kOrg, kSession, "S", kMaxCapacity, {}, {}})));
}

// ===========================================================================
// ChangeCapacity

TEST(ChangeCapacity, CapacityChanges) {
  World w;
  w.given(session_created(10));
  const auto r = when(w, ChangeCapacity{kOrg, kSession, 12});
  ASSERT_TRUE(Accepted(r));
  const Events expected = {{session_stream(kOrg, kSession), SessionCapacityChanged{12}}};
  EXPECT_EQ(r.value(), expected);
  w.given(r.value());
  EXPECT_EQ(w.session(kOrg, kSession).capacity, 12U);
}

TEST(ChangeCapacity, SameCapacityIsAcceptedWithoutEvents) {
  World w;
  w.given(session_created(10));
  const auto r = when(w, ChangeCapacity{kOrg, kSession, 10});
  ASSERT_TRUE(Accepted(r));
  EXPECT_TRUE(r.value().empty());
}

TEST(ChangeCapacity, UnknownSessionIsSessionUnknown) {
  World w;
  EXPECT_TRUE(Rejected(when(w, ChangeCapacity{kOrg, kSession, 3}), errc::session_unknown));
  w.given(session_created(10, std::nullopt, kOtherOrg));
  EXPECT_TRUE(
      Rejected(decide(ChangeCapacity{kOrg, kSession, 3}, w.session(kOtherOrg, kSession)), errc::session_unknown));
}

TEST(ChangeCapacity, AboveTheLimitIsValidation) {
  World w;
  w.given(session_created(10));
  EXPECT_TRUE(Rejected(when(w, ChangeCapacity{kOrg, kSession, kMaxCapacity + 1}), errc::validation));
}

TEST(ChangeCapacity, BelowOccupancyIsRejected) {
  World w;
  w.given(session_created(3)).given(used_by("r1")).given(used_by("r2", kCode2));
  w.given({session_stream(kOrg, kSession), SeatReserved{kInv, false}});
  ASSERT_EQ(w.session(kOrg, kSession).occupied(), 3U);
  EXPECT_TRUE(Rejected(when(w, ChangeCapacity{kOrg, kSession, 2}), errc::capacity_below_occupancy));
  // Down to exactly the occupancy is allowed.
  EXPECT_TRUE(Accepted(when(w, ChangeCapacity{kOrg, kSession, 4})));
}

// ===========================================================================
// EditSession

EditSession edit_session_cmd(std::optional<std::string> name, std::optional<std::optional<Timestamp>> opens_at = {},
                             std::optional<std::uint32_t> capacity = std::nullopt) {
  return EditSession{kOrg, kSession, capacity, std::move(name), std::move(opens_at)};
}

TEST(EditSession, RenamesAndMovesTheOpening) {
  World w;
  w.given(session_created(10, kNow));
  const Timestamp later = plus_seconds(kNow, 3600);
  const auto r = when(w, edit_session_cmd("Autumn course", later));
  ASSERT_TRUE(Accepted(r));
  const Events expected = {{session_stream(kOrg, kSession), SessionEdited{"Autumn course", later}}};
  EXPECT_EQ(r.value(), expected);
  w.given(r.value());
  EXPECT_EQ(w.session(kOrg, kSession).terms.name, "Autumn course");
  EXPECT_EQ(w.session(kOrg, kSession).terms.opens_at, later);
}

TEST(EditSession, ALeftOutFieldStaysAndANullOpeningOpensAtOnce) {
  World w;
  w.given(session_created(10, kNow));
  const auto renamed = when(w, edit_session_cmd("Renamed"));
  ASSERT_TRUE(Accepted(renamed));
  EXPECT_EQ(renamed.value(), (Events{{session_stream(kOrg, kSession), SessionEdited{"Renamed", kNow}}}));
  const auto opened = when(w, edit_session_cmd(std::nullopt, std::optional<Timestamp>()));
  ASSERT_TRUE(Accepted(opened));
  EXPECT_EQ(opened.value(), (Events{{session_stream(kOrg, kSession), SessionEdited{"Spring course", std::nullopt}}}));
}

TEST(EditSession, NothingChangedIsAcceptedWithoutEvents) {
  World w;
  w.given(session_created(10, kNow));
  const auto r = when(w, edit_session_cmd("Spring course", kNow, 10));
  ASSERT_TRUE(Accepted(r));
  EXPECT_TRUE(r.value().empty());
}

TEST(EditSession, ACapacityAndANameChangeInOneDecision) {
  World w;
  w.given(session_created(10));
  const auto r = when(w, edit_session_cmd("Bigger", {}, 20));
  ASSERT_TRUE(Accepted(r));
  const Events expected = {{session_stream(kOrg, kSession), SessionCapacityChanged{20}},
                           {session_stream(kOrg, kSession), SessionEdited{"Bigger", std::nullopt}}};
  EXPECT_EQ(r.value(), expected);
}

TEST(EditSession, ACapacityBelowOccupancyRefusesTheWholeEdit) {
  World w;
  w.given(session_created(3)).given(used_by("r1")).given(used_by("r2", kCode2));
  EXPECT_TRUE(Rejected(when(w, edit_session_cmd("Smaller", {}, 1)), errc::capacity_below_occupancy));
}

TEST(EditSession, Rejections) {
  World w;
  EXPECT_TRUE(Rejected(when(w, edit_session_cmd("X")), errc::session_unknown));
  w.given(session_created(10, std::nullopt, kOtherOrg));
  EXPECT_TRUE(Rejected(when(w, edit_session_cmd("X")), errc::session_unknown));
  w.given(session_created(10));
  EXPECT_TRUE(Rejected(when(w, edit_session_cmd("")), errc::validation));
  EXPECT_TRUE(Rejected(when(w, edit_session_cmd(std::string(201, 'n'))), errc::validation));
  EXPECT_TRUE(Rejected(when(w, edit_session_cmd(std::nullopt, {}, kMaxCapacity + 1)), errc::validation));
}

// ===========================================================================
// GenerateBatch

TEST(GenerateBatch, UnassignedCodesAreIssuedUnderTheBatchTerms) {
  World w;
  w.given(contract_created()).given(session_created());
  GenerateBatch c = generate_cmd(2);
  c.session = kSession;
  c.price = eur(900);
  c.note = "spring promo";
  c.valid_from = kNow;
  c.valid_until = plus_seconds(kNow, 3600);
  c.max_uses = 3;
  c.restrictions.emails = {"  Alice@Example.COM "};
  c.restrictions.email_domains = {"@Example.com"};
  c.restrictions.regions = {"EU"};
  c.restrictions.groups = {"staff"};
  const auto r = when(w, c);
  ASSERT_TRUE(Accepted(r));

  BatchGenerated terms{
      kOrg, kBatch,         kContract, kSession, 2, eur(900), "spring promo", kNow, plus_seconds(kNow, 3600),
      3,    Restrictions{}, ""};
  // Restrictions are stored normalised: emails lower-cased and trimmed, domains without '@'.
  terms.restrictions = Restrictions{{"alice@example.com"}, {"example.com"}, {"EU"}, {"staff"}};
  const Events expected = {
      {batch_stream(kOrg, kBatch), terms},
      {code_stream(kCode.key), CodeIssued{kOrg, kCode.display, kBatch, std::nullopt, std::nullopt}},
      {code_stream(kCode2.key), CodeIssued{kOrg, kCode2.display, kBatch, std::nullopt, std::nullopt}},
  };
  EXPECT_EQ(r.value(), expected);

  w.given(r.value());
  EXPECT_TRUE(w.batch(kOrg, kBatch).exists);
  const CodeState& code = w.code(kCode.key);
  EXPECT_TRUE(code.exists);
  EXPECT_EQ(code.org, kOrg);
  EXPECT_EQ(code.batch, kBatch);
  EXPECT_EQ(code.uses, 0U);
  EXPECT_FALSE(code.assignee.has_value());
}

TEST(GenerateBatch, ParticipantsGetOneAssignedCodeEachWithTheirOwnPrice) {
  World w;
  w.given(contract_created());
  GenerateBatch c = generate_cmd(2);
  c.quantity = 0;  // taken from the participants
  c.participants = {person("Carol@Example.com"), person("dave@example.com")};
  c.participant_prices = {eur(100), std::nullopt};
  const auto r = when(w, c);
  ASSERT_TRUE(Accepted(r));
  ASSERT_EQ(r.value().size(), 3U);
  const auto& batch = std::get<BatchGenerated>(r.value()[0].event);
  EXPECT_EQ(batch.quantity, 2U);
  const auto& first = std::get<CodeIssued>(r.value()[1].event);
  ASSERT_TRUE(first.assignee.has_value());
  EXPECT_EQ(first.assignee->email, "carol@example.com");
  EXPECT_EQ(first.price, eur(100));
  const auto& second = std::get<CodeIssued>(r.value()[2].event);
  ASSERT_TRUE(second.assignee.has_value());
  EXPECT_EQ(second.assignee->email, "dave@example.com");
  EXPECT_EQ(second.price, std::nullopt);
}

TEST(GenerateBatch, UnknownContractIsContractUnknown) {
  World w;
  EXPECT_TRUE(Rejected(when(w, generate_cmd()), errc::contract_unknown));
  w.given(contract_created(std::nullopt, false, kOtherOrg));
  GenerateBatch c = generate_cmd();
  EXPECT_TRUE(Rejected(decide(c, w.batch(kOrg, kBatch), w.contract(kOtherOrg, kContract), SessionState{}),
                       errc::contract_unknown));
}

TEST(GenerateBatch, UnknownSessionIsSessionUnknown) {
  World w;
  w.given(contract_created());
  GenerateBatch c = generate_cmd();
  c.session = kSession;
  EXPECT_TRUE(Rejected(when(w, c), errc::session_unknown));
  w.given(session_created(10, std::nullopt, kOtherOrg));
  EXPECT_TRUE(Rejected(decide(c, w.batch(kOrg, kBatch), w.contract(kOrg, kContract), w.session(kOtherOrg, kSession)),
                       errc::session_unknown));
}

TEST(GenerateBatch, ExistingBatchIsAlreadyExists) {
  World w;
  w.given(contract_created()).given(batch_generated(batch_terms()));
  EXPECT_TRUE(Rejected(when(w, generate_cmd()), errc::already_exists));
}

TEST(GenerateBatch, RepeatedCodeValuesAreAlreadyExists) {
  World w;
  w.given(contract_created());
  GenerateBatch c = generate_cmd(2);
  c.codes = {kCode, kCode};
  EXPECT_TRUE(Rejected(when(w, c), errc::already_exists));
}

TEST(GenerateBatch, InvalidRequestsAreValidationErrors) {
  World w;
  w.given(contract_created());
  auto rejected = [&](auto&& mutate) {
    GenerateBatch c = generate_cmd(2);
    mutate(c);
    return Rejected(when(w, c), errc::validation);
  };
  EXPECT_TRUE(rejected([](GenerateBatch& c) { c.batch = BatchId{"b-1"}; }));
  EXPECT_TRUE(rejected([](GenerateBatch& c) {
    c.quantity = 0;
    c.codes.clear();
  }));
  EXPECT_TRUE(rejected([](GenerateBatch& c) { c.quantity = kMaxBatchQuantity + 1; }));
  EXPECT_TRUE(rejected([](GenerateBatch& c) {
    c.participants = {kAlice};  // one participant, but quantity says 2
  }));
  EXPECT_TRUE(rejected([](GenerateBatch& c) { c.max_uses = 0; }));
  EXPECT_TRUE(rejected([](GenerateBatch& c) { c.max_uses = kMaxUsesPerCode + 1; }));
  EXPECT_TRUE(rejected([](GenerateBatch& c) { c.price = Money{-1, "EUR"}; }));
  EXPECT_TRUE(rejected([](GenerateBatch& c) { c.price = Money{1, "E1R"}; }));
  EXPECT_TRUE(rejected([](GenerateBatch& c) {
    c.quantity = 0;
    c.participants = {kAlice, kBob};
    c.participant_prices = {eur(1)};  // not one per participant
  }));
  EXPECT_TRUE(rejected([](GenerateBatch& c) {
    c.quantity = 0;
    c.participants = {kAlice, kBob};
    c.participant_prices = {eur(1), Money{1, "usd"}};
  }));
  EXPECT_TRUE(rejected([](GenerateBatch& c) { c.note = std::string(kMaxNoteLength + 1, 'x'); }));
  EXPECT_TRUE(rejected([](GenerateBatch& c) {
    c.valid_from = kNow;
    c.valid_until = kNow;  // an empty window
  }));
  EXPECT_TRUE(rejected([](GenerateBatch& c) { c.prefix = "GO-LD"; }));
  EXPECT_TRUE(rejected([](GenerateBatch& c) { c.prefix = std::string(kMaxPrefixLength + 1, 'G'); }));
  EXPECT_TRUE(rejected([](GenerateBatch& c) {
    c.quantity = 0;
    c.participants = {kAlice, person("not-an-email")};
  }));
  EXPECT_TRUE(rejected([](GenerateBatch& c) { c.codes.pop_back(); }));  // one value short
  // The limits themselves are fine.
  GenerateBatch ok = generate_cmd(2);
  ok.max_uses = kMaxUsesPerCode;
  ok.note = std::string(kMaxNoteLength, 'x');
  ok.prefix = std::string(kMaxPrefixLength, 'G');
  EXPECT_TRUE(Accepted(when(w, ok)));
}

TEST(GenerateBatch, ALargeBatchIsAJobThatRecordsItsTermsAlone) {
  World w;
  w.given(contract_created());
  GenerateBatch at_once = generate_cmd(kLargestBatchAtOnce);
  EXPECT_EQ(codes_to_draw(at_once), kLargestBatchAtOnce);
  const auto whole = when(w, at_once);
  ASSERT_TRUE(Accepted(whole));
  EXPECT_EQ(whole.value().size(), kLargestBatchAtOnce + 1);

  GenerateBatch job = generate_cmd(0);
  job.quantity = kLargestBatchAtOnce + 1;
  EXPECT_EQ(codes_to_draw(job), 0U);
  const auto r = w.run(job);
  ASSERT_TRUE(Accepted(r));
  BatchGenerated terms = batch_terms();
  terms.quantity = kLargestBatchAtOnce + 1;
  terms.in_chunks = true;
  EXPECT_EQ(r.value(), (Events{{batch_stream(kOrg, kBatch), terms}}));
  EXPECT_TRUE(starts_chunks(r.value()));
  EXPECT_FALSE(starts_chunks(whole.value()));
  const BatchState& batch = w.batch(kOrg, kBatch);
  EXPECT_EQ(batch.generated, 0U);
  EXPECT_FALSE(batch.ready());
}

TEST(GenerateBatch, AJobCarriesNoCodeValuesAndParticipantsAreNeverAJob) {
  World w;
  w.given(contract_created());
  GenerateBatch job = generate_cmd(0);
  job.quantity = kLargestBatchAtOnce + 1;
  job.codes = {kCode};
  EXPECT_TRUE(Rejected(when(w, job), errc::validation));

  GenerateBatch people = generate_cmd(0);
  for (std::uint32_t i = 0; i <= kLargestBatchAtOnce; ++i) {
    people.participants.push_back(person(cat("p", std::to_string(i), "@example.com")));
  }
  EXPECT_EQ(codes_to_draw(people), kLargestBatchAtOnce + 1);
  EXPECT_TRUE(Rejected(when(w, people), errc::validation));  // no code values drawn
  for (std::uint32_t i = 0; i <= kLargestBatchAtOnce; ++i) people.codes.push_back(make_code(0x7000 + i, ""));
  const auto r = when(w, people);
  ASSERT_TRUE(Accepted(r));
  EXPECT_FALSE(starts_chunks(r.value()));
  EXPECT_EQ(r.value().size(), kLargestBatchAtOnce + 2);
}

// ===========================================================================
// IssueBatchChunk

// A world with batch kBatch generated in chunks, `quantity` codes.
World generating(std::uint32_t quantity) {
  World w;
  w.given(contract_created()).given(session_created());
  GenerateBatch job = generate_cmd(0);
  job.quantity = quantity;
  job.session = kSession;
  EXPECT_TRUE(Accepted(w.run(job)));
  return w;
}

IssueBatchChunk chunk_cmd(const World& w, std::uint64_t& seed) {
  IssueBatchChunk c{kOrg, kBatch, {}};
  const std::uint32_t wanted = codes_to_draw(c, w.batch(kOrg, kBatch));
  for (std::uint32_t i = 0; i < wanted; ++i) c.codes.push_back(make_code(++seed, ""));
  return c;
}

TEST(IssueBatchChunk, ChunksIssueEveryCodeOnceThenNothing) {
  const std::uint32_t quantity = kLargestBatchAtOnce + 7;
  World w = generating(quantity);
  std::uint64_t seed = 0x100000;
  std::uint32_t issued = 0;
  std::set<std::string> codes;
  for (std::uint32_t chunks = 0; !w.batch(kOrg, kBatch).ready(); ++chunks) {
    ASSERT_LT(chunks, quantity);
    const IssueBatchChunk c = chunk_cmd(w, seed);
    ASSERT_LE(c.codes.size(), kCodesPerChunk);
    const auto r = w.run(c);
    ASSERT_TRUE(Accepted(r));
    ASSERT_EQ(r.value().size(), c.codes.size() + 1);
    EXPECT_EQ(r.value().front(), (StreamEvent{batch_stream(kOrg, kBatch),
                                              BatchChunkIssued{issued, static_cast<std::uint32_t>(c.codes.size())}}));
    for (std::size_t i = 1; i < r.value().size(); ++i) {
      const auto& e = std::get<CodeIssued>(r.value()[i].event);
      EXPECT_EQ(e.batch, kBatch);
      codes.insert(e.code);
    }
    issued += static_cast<std::uint32_t>(c.codes.size());
    EXPECT_EQ(w.batch(kOrg, kBatch).generated, issued);
  }
  EXPECT_EQ(issued, quantity);
  EXPECT_EQ(codes.size(), quantity);
  // Sent again (a restart, a second sender): nothing more.
  const IssueBatchChunk again = chunk_cmd(w, seed);
  EXPECT_TRUE(again.codes.empty());
  const auto r = when(w, again);
  ASSERT_TRUE(Accepted(r));
  EXPECT_TRUE(r.value().empty());
}

TEST(IssueBatchChunk, Rejections) {
  World w = generating(kLargestBatchAtOnce + 1);
  std::uint64_t seed = 0x200000;
  IssueBatchChunk c = chunk_cmd(w, seed);
  IssueBatchChunk other_org = c;
  other_org.org = kOtherOrg;
  EXPECT_TRUE(Rejected(when(w, other_org), errc::batch_unknown));
  IssueBatchChunk unknown = c;
  unknown.batch = BatchId{"b9"};
  EXPECT_TRUE(Rejected(when(w, unknown), errc::batch_unknown));
  IssueBatchChunk short_one = c;
  short_one.codes.pop_back();
  EXPECT_TRUE(Rejected(when(w, short_one), errc::validation));
  IssueBatchChunk repeated = c;
  repeated.codes.back() = repeated.codes.front();
  EXPECT_TRUE(Rejected(when(w, repeated), errc::already_exists));
  for (const std::uint32_t size : {0U, kCodesPerChunk + 1}) {
    IssueBatchChunk sized = c;
    sized.size = size;
    EXPECT_TRUE(Rejected(when(w, sized), errc::validation)) << size;
  }
  // A smaller chunk issues as many codes as it asks for.
  IssueBatchChunk small{kOrg, kBatch, {}, 3};
  EXPECT_EQ(codes_to_draw(small, w.batch(kOrg, kBatch)), 3U);
  small.codes = {kCode, kCode2, kCode3};
  const auto issued = when(w, small);
  ASSERT_TRUE(Accepted(issued));
  EXPECT_EQ(issued.value().front(), (StreamEvent{batch_stream(kOrg, kBatch), BatchChunkIssued{0, 3}}));
  EXPECT_TRUE(Accepted(when(w, c)));

  const World at_once = standard();
  EXPECT_TRUE(Rejected(when(at_once, IssueBatchChunk{kOrg, kBatch, {}}), errc::validation));
}

TEST(IssueBatchChunk, CodesOfABatchNotReadyCannotBeUsedYet) {
  World w = generating(kLargestBatchAtOnce + 1);
  std::uint64_t seed = 0x300000;
  const auto first = w.run(chunk_cmd(w, seed));
  ASSERT_TRUE(Accepted(first));
  const std::string key = code_key_of(std::get<CodeIssued>(first.value()[1].event).code);
  EXPECT_TRUE(Rejected(when(w, redeem_cmd(kAlice, kSession, "r1", kNow, key)), errc::batch_not_ready));
  EXPECT_TRUE(Rejected(when(w, invite_cmd(kAlice, key)), errc::batch_not_ready));
  // Assigning prepares a code, it uses nothing.
  EXPECT_TRUE(Accepted(when(w, AssignCode{kOrg, key, kAlice})));
  while (!w.batch(kOrg, kBatch).ready()) ASSERT_TRUE(Accepted(w.run(chunk_cmd(w, seed))));
  EXPECT_TRUE(Accepted(when(w, redeem_cmd(kAlice, kSession, "r1", kNow, key))));
  EXPECT_TRUE(Accepted(when(w, invite_cmd(kAlice, key))));
}

// ===========================================================================
// AssignCode

TEST(AssignCode, UnassignedCodeIsAssigned) {
  World w = standard();
  const auto r = when(w, AssignCode{kOrg, kCode.key, person("Alice@Example.com")});
  ASSERT_TRUE(Accepted(r));
  const Events expected = {{code_stream(kCode.key), CodeAssigned{person("alice@example.com")}}};
  EXPECT_EQ(r.value(), expected);
  w.given(r.value());
  ASSERT_TRUE(w.code(kCode.key).assignee.has_value());
  EXPECT_EQ(w.code(kCode.key).assignee->email, "alice@example.com");
}

TEST(AssignCode, AssigningToTheSameParticipantAgainChangesNothing) {
  World w = standard();
  w.given({code_stream(kCode.key), CodeAssigned{kAlice}});
  const auto r = when(w, AssignCode{kOrg, kCode.key, person("ALICE@example.com")});
  ASSERT_TRUE(Accepted(r));
  EXPECT_TRUE(r.value().empty());
}

TEST(AssignCode, CodeAssignedToSomeoneElseIsAssignedElsewhere) {
  World w = standard();
  w.given({code_stream(kCode.key), CodeAssigned{kAlice}});
  EXPECT_TRUE(Rejected(when(w, AssignCode{kOrg, kCode.key, kBob}), errc::code_assigned_elsewhere));
}

TEST(AssignCode, UnknownDeletedOrOtherOrganisationsCodeIsCodeUnknown) {
  World w = standard();
  EXPECT_TRUE(Rejected(when(w, AssignCode{kOrg, kCode2.key, kAlice}), errc::code_unknown));
  EXPECT_TRUE(Rejected(when(w, AssignCode{kOtherOrg, kCode.key, kAlice}), errc::code_unknown));
  w.given({code_stream(kCode.key), CodeDeleted{}});
  EXPECT_TRUE(Rejected(when(w, AssignCode{kOrg, kCode.key, kAlice}), errc::code_unknown));
}

TEST(AssignCode, InvalidParticipantIsValidation) {
  const World w = standard();
  EXPECT_TRUE(Rejected(when(w, AssignCode{kOrg, kCode.key, person("alice.example.com")}), errc::validation));
}

TEST(AssignCode, ArchivedCodeIsCodeArchived) {
  World w = standard();
  w.given({code_stream(kCode.key), CodeArchived{}});
  EXPECT_TRUE(Rejected(when(w, AssignCode{kOrg, kCode.key, kAlice}), errc::code_archived));
}

TEST(AssignCode, UsedUpCodeIsCodeExhausted) {
  World w = standard();
  w.given(used_by("r0"));
  EXPECT_TRUE(Rejected(when(w, AssignCode{kOrg, kCode.key, kAlice}), errc::code_exhausted));
}

TEST(AssignCode, RestrictionsApplyToTheAssignee) {
  BatchGenerated terms = batch_terms();
  terms.restrictions.email_domains = {"example.com"};
  const World w = standard(terms);
  EXPECT_TRUE(Rejected(when(w, AssignCode{kOrg, kCode.key, kBob}), errc::code_restricted));
  EXPECT_TRUE(Accepted(when(w, AssignCode{kOrg, kCode.key, kAlice})));
}

// ===========================================================================
// EditCode

TEST(EditCode, UnusedCodeIsEdited) {
  World w = standard();
  const EditCode c{kOrg, kCode.key, "vip", eur(500), std::nullopt, plus_seconds(kNow, 60)};
  const auto r = when(w, c);
  ASSERT_TRUE(Accepted(r));
  const Events expected = {{code_stream(kCode.key), CodeEdited{"vip", eur(500), std::nullopt, plus_seconds(kNow, 60)}}};
  EXPECT_EQ(r.value(), expected);
  w.given(r.value());
  EXPECT_EQ(w.code(kCode.key).price, eur(500));
  EXPECT_EQ(w.code(kCode.key).valid_until, plus_seconds(kNow, 60));
}

TEST(EditCode, EmptyEditChangesNothing) {
  const World w = standard();
  const auto r = when(w, EditCode{kOrg, kCode.key, {}, {}, {}, {}});
  ASSERT_TRUE(Accepted(r));
  EXPECT_TRUE(r.value().empty());
}

TEST(EditCode, Rejections) {
  World w = standard();
  EXPECT_TRUE(Rejected(when(w, EditCode{kOrg, kCode2.key, "n", {}, {}, {}}), errc::code_unknown));
  EXPECT_TRUE(Rejected(when(w, EditCode{kOtherOrg, kCode.key, "n", {}, {}, {}}), errc::code_unknown));
  EXPECT_TRUE(
      Rejected(when(w, EditCode{kOrg, kCode.key, std::string(kMaxNoteLength + 1, 'n'), {}, {}, {}}), errc::validation));
  EXPECT_TRUE(Rejected(when(w, EditCode{kOrg, kCode.key, {}, Money{1, "xx"}, {}, {}}), errc::validation));
  EXPECT_TRUE(Rejected(when(w, EditCode{kOrg, kCode.key, {}, {}, kNow, plus_seconds(kNow, -1)}), errc::validation));

  World used = standard();
  used.given(used_by("r0"));
  EXPECT_TRUE(Rejected(when(used, EditCode{kOrg, kCode.key, "n", {}, {}, {}}), errc::code_used));

  w.given({code_stream(kCode.key), CodeArchived{}});
  EXPECT_TRUE(Rejected(when(w, EditCode{kOrg, kCode.key, "n", {}, {}, {}}), errc::code_archived));
}

TEST(EditCode, WindowIsCheckedAgainstTheBatchTerms) {
  BatchGenerated terms = batch_terms();
  terms.valid_from = kNow;
  const World w = standard(terms);
  // valid_until before the batch's valid_from makes an empty window.
  EXPECT_TRUE(Rejected(when(w, EditCode{kOrg, kCode.key, {}, {}, {}, plus_seconds(kNow, -10)}), errc::validation));
}

// ===========================================================================
// ArchiveCode and DeleteCode

TEST(ArchiveCode, CodeIsArchivedOnce) {
  World w = standard();
  const auto r = when(w, ArchiveCode{kOrg, kCode.key});
  ASSERT_TRUE(Accepted(r));
  const Events expected = {{code_stream(kCode.key), CodeArchived{}}};
  EXPECT_EQ(r.value(), expected);
  w.given(r.value());
  EXPECT_TRUE(w.code(kCode.key).archived);
  const auto again = when(w, ArchiveCode{kOrg, kCode.key});
  ASSERT_TRUE(Accepted(again));
  EXPECT_TRUE(again.value().empty());
}

TEST(ArchiveCode, UnknownCodeIsCodeUnknown) {
  const World w = standard();
  EXPECT_TRUE(Rejected(when(w, ArchiveCode{kOrg, kCode2.key}), errc::code_unknown));
  EXPECT_TRUE(Rejected(when(w, ArchiveCode{kOtherOrg, kCode.key}), errc::code_unknown));
}

TEST(DeleteCode, NeverUsedCodeIsDeletedAndThenUnknown) {
  World w = standard();
  const auto r = when(w, DeleteCode{kOrg, kCode.key});
  ASSERT_TRUE(Accepted(r));
  const Events expected = {{code_stream(kCode.key), CodeDeleted{}}};
  EXPECT_EQ(r.value(), expected);
  w.given(r.value());
  EXPECT_TRUE(Rejected(when(w, DeleteCode{kOrg, kCode.key}), errc::code_unknown));
  EXPECT_TRUE(Rejected(when(w, redeem_cmd()), errc::code_unknown));
}

TEST(DeleteCode, CodeEverUsedIsCodeUsedEvenAfterItsUseWasReleased) {
  World w = standard();
  w.given(used_by("r0")).given({code_stream(kCode.key), CodeUseReleased{RegistrationId{"r0"}, true}});
  ASSERT_EQ(w.code(kCode.key).uses, 0U);
  EXPECT_TRUE(Rejected(when(w, DeleteCode{kOrg, kCode.key}), errc::code_used));
}

TEST(DeleteCode, CodeWithPendingInvitationsIsCodeInvited) {
  World w = standard();
  w.given({code_stream(kCode.key), CodeInvitationAttached{kInv, kSession}});
  EXPECT_TRUE(Rejected(when(w, DeleteCode{kOrg, kCode.key}), errc::code_invited));
  EXPECT_TRUE(Rejected(when(w, DeleteCode{kOtherOrg, kCode.key}), errc::code_unknown));
}

// ===========================================================================
// Invite

TEST(Invite, InvitationReservesASeatAndAttachesToTheCode) {
  World w = standard();
  Invite c = invite_cmd(person("ALICE@example.com"), kCode.key);
  c.expires_at = plus_seconds(kNow, 3600);
  c.bind_to_email = true;
  const auto r = when(w, c);
  ASSERT_TRUE(Accepted(r));
  const Events expected = {
      {invitation_stream(kInv), InvitationSent{kOrg, kInv, kSession, person("alice@example.com"), kCode.display,
                                               plus_seconds(kNow, 3600), true, false, kNow}},
      {session_stream(kOrg, kSession), SeatReserved{kInv, false}},
      {code_stream(kCode.key), CodeInvitationAttached{kInv, kSession}},
  };
  EXPECT_EQ(r.value(), expected);
  w.given(r.value());
  EXPECT_EQ(w.session(kOrg, kSession).reserved, 1U);
  EXPECT_EQ(w.code(kCode.key).pending.size(), 1U);
  EXPECT_EQ(w.invitation(kInv).status, InvitationStatus::pending);
}

TEST(Invite, FullSessionNeedsConfirmationWhichRaisesCapacity) {
  World w = standard(batch_terms(), 1);
  w.given(used_by("r0", kCode2));
  Invite c = invite_cmd();
  EXPECT_TRUE(Rejected(when(w, c), errc::session_full));
  c.confirm_over_capacity = true;
  const auto r = when(w, c);
  ASSERT_TRUE(Accepted(r));
  EXPECT_EQ(r.value().at(1), (StreamEvent{session_stream(kOrg, kSession), SeatReserved{kInv, true}}));
  w.given(r.value());
  EXPECT_EQ(w.session(kOrg, kSession).capacity, 2U);
  EXPECT_EQ(w.session(kOrg, kSession).occupied(), 2U);
}

TEST(Invite, Rejections) {
  World w = standard();
  EXPECT_TRUE(Rejected(when(w, invite_cmd(kAlice, std::nullopt, InvitationId{"i-1"})), errc::validation));
  EXPECT_TRUE(Rejected(when(w, invite_cmd(person("nobody"))), errc::validation));
  Invite past = invite_cmd();
  past.expires_at = kNow;
  EXPECT_TRUE(Rejected(when(w, past), errc::validation));
  Invite other_session = invite_cmd();
  other_session.session = kOtherSession;
  EXPECT_TRUE(Rejected(when(w, other_session), errc::session_unknown));
  EXPECT_TRUE(Rejected(when(w, invite_cmd(kAlice, kCode2.key)), errc::code_unknown));

  World exhausted = standard();
  exhausted.given(used_by("r0"));
  EXPECT_TRUE(Rejected(when(exhausted, invite_cmd(kAlice, kCode.key)), errc::code_exhausted));

  BatchGenerated for_s2 = batch_terms();
  for_s2.session = kOtherSession;
  World wrong_session = standard(for_s2);
  wrong_session.given(session_created(10, std::nullopt, kOrg, kOtherSession));
  EXPECT_TRUE(Rejected(when(wrong_session, invite_cmd(kAlice, kCode.key)), errc::validation));

  w.given(when(w, invite_cmd()).value());
  EXPECT_TRUE(Rejected(when(w, invite_cmd()), errc::already_exists));
}

// ===========================================================================
// ResendInvitation, CancelInvitation, ExpireInvitation

World invited(std::optional<Timestamp> expires_at = std::nullopt, bool bind = false, const Participant& who = kAlice,
              const InvitationId& id = kInv, bool with_code = true) {
  World w = standard();
  Invite c = invite_cmd(who, with_code ? std::optional<std::string>(kCode.key) : std::nullopt, id);
  c.expires_at = expires_at;
  c.bind_to_email = bind;
  w.given(when(w, c).value());
  return w;
}

TEST(ResendInvitation, PendingInvitationIsResent) {
  const World w = invited();
  const auto r = when(w, ResendInvitation{kOrg, kInv, plus_seconds(kNow, 5)});
  ASSERT_TRUE(Accepted(r));
  const Events expected = {{invitation_stream(kInv), InvitationResent{plus_seconds(kNow, 5)}}};
  EXPECT_EQ(r.value(), expected);
}

TEST(ResendInvitation, Rejections) {
  World w = invited(plus_seconds(kNow, 60));
  EXPECT_TRUE(Rejected(when(w, ResendInvitation{kOrg, kInv2, kNow}), errc::invitation_unknown));
  EXPECT_TRUE(Rejected(when(w, ResendInvitation{kOtherOrg, kInv, kNow}), errc::invitation_unknown));
  // Past its expires_at, even before anyone expires it.
  EXPECT_TRUE(Rejected(when(w, ResendInvitation{kOrg, kInv, plus_seconds(kNow, 60)}), errc::invitation_not_pending));
  w.given(when(w, CancelInvitation{kOrg, kInv, kNow}).value());
  EXPECT_TRUE(Rejected(when(w, ResendInvitation{kOrg, kInv, kNow}), errc::invitation_not_pending));
}

TEST(CancelInvitation, CancelFreesTheSeatAndTheCode) {
  World w = invited();
  const auto r = when(w, CancelInvitation{kOrg, kInv, kNow});
  ASSERT_TRUE(Accepted(r));
  const Events expected = {
      {invitation_stream(kInv), InvitationCancelled{kNow}},
      {session_stream(kOrg, kSession), SeatReleased{kInv}},
      {code_stream(kCode.key), CodeInvitationDetached{kInv}},
  };
  EXPECT_EQ(r.value(), expected);
  w.given(r.value());
  EXPECT_EQ(w.session(kOrg, kSession).occupied(), 0U);
  EXPECT_TRUE(w.code(kCode.key).pending.empty());
  EXPECT_EQ(w.invitation(kInv).status, InvitationStatus::cancelled);
  EXPECT_TRUE(Rejected(when(w, CancelInvitation{kOrg, kInv, kNow}), errc::invitation_not_pending));
}

TEST(CancelInvitation, UnknownInvitationIsInvitationUnknown) {
  const World w = invited();
  EXPECT_TRUE(Rejected(when(w, CancelInvitation{kOrg, kInv2, kNow}), errc::invitation_unknown));
  EXPECT_TRUE(Rejected(when(w, CancelInvitation{kOtherOrg, kInv, kNow}), errc::invitation_unknown));
}

TEST(ExpireInvitation, DueInvitationExpiresAtExactlyExpiresAt) {
  World w = invited(plus_seconds(kNow, 60));
  EXPECT_TRUE(Rejected(when(w, ExpireInvitation{kInv, plus_micros(plus_seconds(kNow, 60), -1)}), errc::validation));
  const auto r = when(w, ExpireInvitation{kInv, plus_seconds(kNow, 60)});
  ASSERT_TRUE(Accepted(r));
  const Events expected = {
      {invitation_stream(kInv), InvitationExpired{plus_seconds(kNow, 60)}},
      {session_stream(kOrg, kSession), SeatReleased{kInv}},
      {code_stream(kCode.key), CodeInvitationDetached{kInv}},
  };
  EXPECT_EQ(r.value(), expected);
  w.given(r.value());
  EXPECT_EQ(w.invitation(kInv).status, InvitationStatus::expired);
  EXPECT_TRUE(Rejected(when(w, ExpireInvitation{kInv, plus_seconds(kNow, 61)}), errc::invitation_not_pending));
}

TEST(ExpireInvitation, Rejections) {
  const World w = invited();  // no expires_at
  EXPECT_TRUE(Rejected(when(w, ExpireInvitation{kInv, plus_seconds(kNow, 1'000'000)}), errc::validation));
  EXPECT_TRUE(Rejected(when(w, ExpireInvitation{kInv2, kNow}), errc::invitation_unknown));
}

// ===========================================================================
// ClaimInvitation

TEST(ClaimInvitation, ClaimWithCodeTakesAUseAndRegistersTheReservedSeat) {
  World w = invited();
  const Timestamp later = plus_seconds(kNow, 10);
  const auto r = when(w, ClaimInvitation{kInv, std::nullopt, kReg, later});
  ASSERT_TRUE(Accepted(r));
  const Events expected = {
      {invitation_stream(kInv), InvitationAccepted{kReg, later}},
      {session_stream(kOrg, kSession), SeatRegistered{kReg, kInv}},
      {code_stream(kCode.key), CodeRedeemed{kReg, kAlice, kSession, later, kInv, {}}},
      {registration_stream(kOrg, kReg),
       RegistrationCreated{kOrg, kReg, kSession, kCode.display, kAlice, std::nullopt, later, std::nullopt, kInv}},
  };
  EXPECT_EQ(r.value(), expected);
  w.given(r.value());
  EXPECT_EQ(w.session(kOrg, kSession).reserved, 0U);
  EXPECT_EQ(w.session(kOrg, kSession).registered, 1U);
  EXPECT_EQ(w.code(kCode.key).uses, 1U);
  EXPECT_TRUE(w.code(kCode.key).pending.empty());
}

TEST(ClaimInvitation, LastUseSupersedesTheOtherPendingInvitations) {
  World w = invited();
  w.given(when(w, invite_cmd(kBob, kCode.key, kInv2)).value());
  ASSERT_EQ(w.session(kOrg, kSession).reserved, 2U);
  const auto r = when(w, ClaimInvitation{kInv, std::nullopt, kReg, kNow});
  ASSERT_TRUE(Accepted(r));
  const auto& redeemed = std::get<CodeRedeemed>(r.value().at(2).event);
  EXPECT_EQ(redeemed.superseded, std::vector<InvitationId>{kInv2});
  w.given(r.value());
  EXPECT_EQ(w.invitation(kInv2).status, InvitationStatus::superseded);
  EXPECT_EQ(w.session(kOrg, kSession).reserved, 0U);
  EXPECT_EQ(w.session(kOrg, kSession).registered, 1U);
  EXPECT_TRUE(Rejected(when(w, ClaimInvitation{kInv2, std::nullopt, RegistrationId{"r2"}, kNow}),
                       errc::invitation_not_pending));
}

TEST(ClaimInvitation, WithoutCodeIsPricedByTheSessionsContract) {
  World w;
  w.given(contract_created(eur(4200))).given(session_created());
  w.given(when(w, invite_cmd()).value());
  const auto r = when(w, ClaimInvitation{kInv, std::nullopt, kReg, kNow});
  ASSERT_TRUE(Accepted(r));
  const auto& created = std::get<RegistrationCreated>(r.value().back().event);
  EXPECT_EQ(created.price, eur(4200));
  EXPECT_EQ(created.code, std::nullopt);
}

TEST(ClaimInvitation, BoundInvitationAcceptsOnlyTheInviteesEmail) {
  const World w = invited(std::nullopt, true);
  EXPECT_TRUE(Rejected(when(w, ClaimInvitation{kInv, kBob, kReg, kNow}), errc::invitation_bound));
  EXPECT_TRUE(Accepted(when(w, ClaimInvitation{kInv, person("Alice@Example.com"), kReg, kNow})));
}

TEST(ClaimInvitation, ExpiredInvitationCannotBeClaimedEvenBeforeItIsExpired) {
  const World w = invited(plus_seconds(kNow, 60));
  EXPECT_TRUE(Accepted(when(w, ClaimInvitation{kInv, std::nullopt, kReg, plus_micros(plus_seconds(kNow, 60), -1)})));
  EXPECT_TRUE(Rejected(when(w, ClaimInvitation{kInv, std::nullopt, kReg, plus_seconds(kNow, 60)}),
                       errc::invitation_not_pending));
}

TEST(ClaimInvitation, Rejections) {
  World w = invited();
  EXPECT_TRUE(Rejected(when(w, ClaimInvitation{kInv2, std::nullopt, kReg, kNow}), errc::invitation_unknown));
  EXPECT_TRUE(Rejected(when(w, ClaimInvitation{kInv, person("bad"), kReg, kNow}), errc::validation));
  // Another participant who fails the code's terms: the code is assigned to someone else.
  World assigned = standard();
  assigned.given({code_stream(kCode.key), CodeAssigned{kBob}});
  assigned.given(when(assigned, invite_cmd(kBob, kCode.key)).value());
  EXPECT_TRUE(Rejected(when(assigned, ClaimInvitation{kInv, kAlice, kReg, kNow}), errc::code_assigned_elsewhere));

  w.given(used_by("r1", kCode2));  // registration r1 exists already
  EXPECT_TRUE(Rejected(when(w, ClaimInvitation{kInv, std::nullopt, kReg, kNow}), errc::already_exists));
}

// ===========================================================================
// Redeem

TEST(Redeem, CodeIsRedeemedAndTheSeatRegistered) {
  World w = standard();
  const auto r = when(w, redeem_cmd(person("ALICE@example.com")));
  ASSERT_TRUE(Accepted(r));
  const Events expected = {
      {code_stream(kCode.key), CodeRedeemed{kReg, kAlice, kSession, kNow, std::nullopt, {}}},
      {session_stream(kOrg, kSession), SeatRegistered{kReg, std::nullopt}},
      {registration_stream(kOrg, kReg), RegistrationCreated{kOrg, kReg, kSession, kCode.display, kAlice, std::nullopt,
                                                            kNow, std::nullopt, std::nullopt}},
  };
  EXPECT_EQ(r.value(), expected);
  w.given(r.value());
  EXPECT_EQ(w.code(kCode.key).uses, 1U);
  EXPECT_EQ(w.session(kOrg, kSession).registered, 1U);
  EXPECT_TRUE(w.registration(kOrg, kReg).exists);
  EXPECT_EQ(w.registration(kOrg, kReg).status, RegistrationStatus::active);
}

TEST(Redeem, SessionDefaultsToTheBatchSession) {
  BatchGenerated terms = batch_terms();
  terms.session = kSession;
  const World w = standard(terms);
  const auto r = when(w, redeem_cmd(kAlice, std::nullopt));
  ASSERT_TRUE(Accepted(r));
  EXPECT_EQ(std::get<CodeRedeemed>(r.value().front().event).session, kSession);
}

TEST(Redeem, ValidationErrors) {
  BatchGenerated for_s1 = batch_terms();
  for_s1.session = kSession;
  World w = standard(for_s1);
  w.given(session_created(10, std::nullopt, kOrg, kOtherSession));
  EXPECT_TRUE(Rejected(when(w, redeem_cmd(person("alice"))), errc::validation));
  EXPECT_TRUE(Rejected(when(w, redeem_cmd(kAlice, kOtherSession)), errc::validation));  // code is for s1

  const World no_session = standard();  // batch names no session, neither does the command
  EXPECT_TRUE(Rejected(when(no_session, redeem_cmd(kAlice, std::nullopt)), errc::validation));
}

// Regression (found as a bug by this test: decide(Redeem) and
// decide(ClaimInvitation) rejected a malformed registration id as
// already-exists, "a registration with this id exists"). Like every other
// create, a malformed id is a validation error.
TEST(Redeem, MalformedRegistrationIdIsValidationNotAlreadyExists) {
  const World w = standard();
  EXPECT_TRUE(Rejected(when(w, redeem_cmd(kAlice, kSession, "r-1")), errc::validation));
  EXPECT_TRUE(Rejected(when(w, redeem_cmd(kAlice, kSession, "")), errc::validation));
  const World inv = invited();
  EXPECT_TRUE(Rejected(when(inv, ClaimInvitation{kInv, std::nullopt, RegistrationId{"r 1"}, kNow}), errc::validation));
}

TEST(Redeem, ExistingRegistrationIdIsAlreadyExists) {
  BatchGenerated terms = batch_terms();
  terms.max_uses = 2;
  World w = standard(terms);
  w.given(used_by("r1"));
  EXPECT_TRUE(Rejected(when(w, redeem_cmd(kBob, kSession, "r1")), errc::already_exists));
}

TEST(Redeem, UnknownSessionIsSessionUnknown) {
  World w = standard();
  EXPECT_TRUE(Rejected(when(w, redeem_cmd(kAlice, kOtherSession)), errc::session_unknown));
  // A session of another organisation is unknown too.
  w.given(session_created(10, std::nullopt, kOtherOrg, kOtherSession));
  const CodeState& code = w.code(kCode.key);
  EXPECT_TRUE(Rejected(decide(redeem_cmd(kAlice, kOtherSession),
                              RedeemContext{code, batch_of(w, code), contract_of(w, code),
                                            w.session(kOtherOrg, kOtherSession), RegistrationState{}}),
                       errc::session_unknown));
}

TEST(Redeem, UnknownCodeIsCodeUnknown) {
  const World w = standard();
  EXPECT_TRUE(Rejected(when(w, redeem_cmd(kAlice, kSession, "r1", kNow, kCode2.key)), errc::code_unknown));
}

TEST(Redeem, AnotherOrganisationsCodeIsCodeUnknown) {
  World w = standard();
  // globex has a contract, a session, a batch and kCode2; acme tries to redeem kCode2.
  w.given(contract_created(std::nullopt, false, kOtherOrg))
      .given(session_created(10, std::nullopt, kOtherOrg))
      .given(batch_generated(batch_terms(kOtherOrg)))
      .given(code_issued(kCode2, std::nullopt, std::nullopt, kOtherOrg));
  EXPECT_TRUE(Rejected(when(w, redeem_cmd(kAlice, kSession, "r1", kNow, kCode2.key)), errc::code_unknown));
  // The owner can.
  EXPECT_TRUE(Accepted(when(w, redeem_cmd(kAlice, kSession, "r1", kNow, kCode2.key, kOtherOrg))));
}

TEST(Redeem, SingleUseCodeIsExhaustedAfterOneUse) {
  World w = standard();
  const auto first = when(w, redeem_cmd(kAlice, kSession, "r1"));
  ASSERT_TRUE(Accepted(first));
  w.given(first.value());
  EXPECT_TRUE(Rejected(when(w, redeem_cmd(kBob, kSession, "r2")), errc::code_exhausted));
  EXPECT_TRUE(Rejected(when(w, redeem_cmd(kAlice, kSession, "r3")), errc::code_exhausted));
}

TEST(Redeem, NUseCodeIsExhaustedAfterNUses) {
  BatchGenerated terms = batch_terms();
  terms.max_uses = 3;
  World w = standard(terms);
  for (int i = 1; i <= 3; ++i) {
    const auto r =
        when(w, redeem_cmd(person(cat("p", std::to_string(i), "@example.com")), kSession, cat("r", std::to_string(i))));
    ASSERT_TRUE(Accepted(r)) << "use " << i;
    w.given(r.value());
    EXPECT_EQ(w.code(kCode.key).uses, static_cast<std::uint32_t>(i));
  }
  EXPECT_TRUE(Rejected(when(w, redeem_cmd(kBob, kSession, "r4")), errc::code_exhausted));
  EXPECT_EQ(w.session(kOrg, kSession).registered, 3U);
}

TEST(Redeem, ReleasedUseCanBeTakenAgain) {
  World w = standard();
  w.given(used_by("r0")).given({code_stream(kCode.key), CodeUseReleased{RegistrationId{"r0"}, true}});
  EXPECT_TRUE(Accepted(when(w, redeem_cmd(kBob))));
}

TEST(Redeem, BeforeValidFromIsNotYetValid) {
  BatchGenerated terms = batch_terms();
  terms.valid_from = kNow;
  const World w = standard(terms);
  EXPECT_TRUE(Rejected(when(w, redeem_cmd(kAlice, kSession, "r1", plus_micros(kNow, -1))), errc::code_not_yet_valid));
  EXPECT_TRUE(Accepted(when(w, redeem_cmd(kAlice, kSession, "r1", kNow))));
}

TEST(Redeem, AtExactlyValidUntilIsExpired) {
  BatchGenerated terms = batch_terms();
  terms.valid_until = kNow;
  const World w = standard(terms);
  EXPECT_TRUE(Accepted(when(w, redeem_cmd(kAlice, kSession, "r1", plus_micros(kNow, -1)))));
  EXPECT_TRUE(Rejected(when(w, redeem_cmd(kAlice, kSession, "r1", kNow)), errc::code_expired));
  EXPECT_TRUE(Rejected(when(w, redeem_cmd(kAlice, kSession, "r1", plus_seconds(kNow, 1))), errc::code_expired));
}

TEST(Redeem, CodesOwnValidityOverridesTheBatch) {
  BatchGenerated terms = batch_terms();
  terms.valid_until = plus_seconds(kNow, 3600);
  World w = standard(terms);
  w.given({code_stream(kCode.key), CodeEdited{std::nullopt, std::nullopt, std::nullopt, kNow}});
  EXPECT_TRUE(Rejected(when(w, redeem_cmd()), errc::code_expired));
}

TEST(Redeem, ArchivedCodeIsCodeArchived) {
  World w = standard();
  w.given({code_stream(kCode.key), CodeArchived{}});
  EXPECT_TRUE(Rejected(when(w, redeem_cmd()), errc::code_archived));
}

TEST(Redeem, CodeAssignedToSomeoneElseIsAssignedElsewhere) {
  World w = standard();
  w.given({code_stream(kCode.key), CodeAssigned{kAlice}});
  EXPECT_TRUE(Rejected(when(w, redeem_cmd(kBob)), errc::code_assigned_elsewhere));
  // The assignee may, whatever the case of the email typed.
  EXPECT_TRUE(Accepted(when(w, redeem_cmd(person("ALICE@EXAMPLE.COM")))));
}

TEST(Redeem, RestrictedToEmails) {
  BatchGenerated terms = batch_terms();
  terms.restrictions.emails = {"alice@example.com"};
  const World w = standard(terms);
  EXPECT_TRUE(Rejected(when(w, redeem_cmd(person("carol@example.com"))), errc::code_restricted));
  EXPECT_TRUE(Accepted(when(w, redeem_cmd(person("Alice@Example.com")))));
}

TEST(Redeem, RestrictedToEmailDomains) {
  BatchGenerated terms = batch_terms();
  terms.restrictions.email_domains = {"example.com"};
  const World w = standard(terms);
  EXPECT_TRUE(Rejected(when(w, redeem_cmd(person("bob@example.org"))), errc::code_restricted));
  EXPECT_TRUE(Rejected(when(w, redeem_cmd(person("eve@sub.example.com"))), errc::code_restricted));
  EXPECT_TRUE(Accepted(when(w, redeem_cmd(person("carol@EXAMPLE.com")))));
}

TEST(Redeem, RestrictedToRegions) {
  BatchGenerated terms = batch_terms();
  terms.restrictions.regions = {"EU", "UK"};
  const World w = standard(terms);
  EXPECT_TRUE(Rejected(when(w, redeem_cmd(person("carol@example.com", "staff", "US"))), errc::code_restricted));
  EXPECT_TRUE(Rejected(when(w, redeem_cmd(person("carol@example.com", "staff", ""))), errc::code_restricted));
  EXPECT_TRUE(Accepted(when(w, redeem_cmd(person("carol@example.com", "staff", "UK")))));
}

TEST(Redeem, RestrictedToGroups) {
  BatchGenerated terms = batch_terms();
  terms.restrictions.groups = {"staff"};
  const World w = standard(terms);
  EXPECT_TRUE(Rejected(when(w, redeem_cmd(person("carol@example.com", "guests"))), errc::code_restricted));
  EXPECT_TRUE(Accepted(when(w, redeem_cmd(person("carol@example.com", "staff")))));
}

TEST(Redeem, FullSessionIsSessionFull) {
  BatchGenerated terms = batch_terms();
  terms.max_uses = 5;
  World w = standard(terms, 2);
  w.given(used_by("r1", kCode2)).given({session_stream(kOrg, kSession), SeatReserved{kInv, false}});
  EXPECT_TRUE(Rejected(when(w, redeem_cmd(kBob, kSession, "r2")), errc::session_full));
  EXPECT_EQ(w.code(kCode.key).uses, 0U);
  // A released seat makes room again.
  w.given({session_stream(kOrg, kSession), SeatReleased{kInv}});
  EXPECT_TRUE(Accepted(when(w, redeem_cmd(kBob, kSession, "r2"))));
}

TEST(Redeem, SessionWithZeroCapacityIsFull) {
  const World w = standard(batch_terms(), 0);
  EXPECT_TRUE(Rejected(when(w, redeem_cmd()), errc::session_full));
}

TEST(Redeem, BeforeOpensAtIsSessionNotOpen) {
  World w;
  w.given(contract_created())
      .given(session_created(10, kNow))
      .given(batch_generated(batch_terms()))
      .given(code_issued());
  EXPECT_TRUE(Rejected(when(w, redeem_cmd(kAlice, kSession, "r1", plus_micros(kNow, -1))), errc::session_not_open));
  EXPECT_TRUE(Accepted(when(w, redeem_cmd(kAlice, kSession, "r1", kNow))));
}

result<Events> redeem_priced(std::optional<Money> code_price, std::optional<Money> batch_price,
                             std::optional<Money> contract_default) {
  BatchGenerated terms = batch_terms();
  terms.price = std::move(batch_price);
  World w;
  w.given(contract_created(std::move(contract_default)))
      .given(session_created())
      .given(batch_generated(terms))
      .given(code_issued(kCode, std::nullopt, std::move(code_price)));
  return when(w, redeem_cmd());
}

std::optional<Money> recorded_price(const result<Events>& r) {
  for (const auto& e : r.value()) {
    if (const auto* created = std::get_if<RegistrationCreated>(&e.event)) return created->price;
  }
  ADD_FAILURE() << "no RegistrationCreated among the events";
  return std::nullopt;
}

TEST(Redeem, PriceIsTheBatchPriceOverTheContractDefault) {
  const auto r = redeem_priced(std::nullopt, eur(900), eur(2500));
  ASSERT_TRUE(Accepted(r));
  EXPECT_EQ(recorded_price(r), eur(900));
}

TEST(Redeem, PriceIsTheContractDefaultWhenTheBatchHasNone) {
  const auto r = redeem_priced(std::nullopt, std::nullopt, eur(2500));
  ASSERT_TRUE(Accepted(r));
  EXPECT_EQ(recorded_price(r), eur(2500));
}

TEST(Redeem, PriceIsFreeWithoutBatchPriceOrContractDefault) {
  const auto r = redeem_priced(std::nullopt, std::nullopt, std::nullopt);
  ASSERT_TRUE(Accepted(r));
  EXPECT_EQ(recorded_price(r), std::nullopt);
}

TEST(Redeem, ZeroBatchPriceIsAPriceNotAnAbsence) {
  const auto r = redeem_priced(std::nullopt, eur(0), eur(2500));
  ASSERT_TRUE(Accepted(r));
  EXPECT_EQ(recorded_price(r), eur(0));
}

TEST(Redeem, CodesOwnPriceComesFirst) {
  const auto r = redeem_priced(eur(100), eur(900), eur(2500));
  ASSERT_TRUE(Accepted(r));
  EXPECT_EQ(recorded_price(r), eur(100));
}

TEST(Redeem, RecordedPriceDoesNotChangeWhenTheContractDoes) {
  BatchGenerated terms = batch_terms();
  terms.max_uses = 2;
  World w;
  w.given(contract_created(eur(2500))).given(session_created()).given(batch_generated(terms)).given(code_issued());
  const auto r = when(w, redeem_cmd());
  ASSERT_TRUE(Accepted(r));
  w.given(r.value());
  w.given({contract_stream(kOrg, kContract), ContractConfigured{"Acme training", false, eur(9999)}});
  EXPECT_EQ(w.registration(kOrg, kReg).terms.price, eur(2500));
  // A later redemption takes the new price.
  EXPECT_EQ(recorded_price(when(w, redeem_cmd(kBob, kSession, "r2"))), eur(9999));
}

TEST(Redeem, LastUseSupersedesPendingInvitations) {
  World w = invited();
  const auto r = when(w, redeem_cmd(kBob, kSession, "r9"));
  ASSERT_TRUE(Accepted(r));
  const Events expected_head = {
      {code_stream(kCode.key), CodeRedeemed{RegistrationId{"r9"}, kBob, kSession, kNow, std::nullopt, {kInv}}},
      {invitation_stream(kInv), InvitationSuperseded{RegistrationId{"r9"}, kNow}},
      {session_stream(kOrg, kSession), SeatReleased{kInv}},
  };
  ASSERT_GE(r.value().size(), 3U);
  EXPECT_EQ(Events(r.value().begin(), r.value().begin() + 3), expected_head);
  w.given(r.value());
  EXPECT_EQ(w.session(kOrg, kSession).reserved, 0U);
  EXPECT_EQ(w.session(kOrg, kSession).registered, 1U);
  EXPECT_EQ(w.invitation(kInv).status, InvitationStatus::superseded);
}

// ===========================================================================
// CancelRegistration, RevokeRegistration, ChangeAccess

World redeemed(bool reuse) {
  World w;
  w.given(contract_created(std::nullopt, reuse))
      .given(session_created())
      .given(batch_generated(batch_terms()))
      .given(code_issued(kCode, kAlice));
  w.given(when(w, redeem_cmd()).value());
  return w;
}

TEST(CancelRegistration, WithReusePolicyTheCodeCanBeUsedAgainBySamePerson) {
  World w = redeemed(true);
  const auto r = when(w, CancelRegistration{kOrg, kReg, kNow});
  ASSERT_TRUE(Accepted(r));
  const Events expected = {
      {registration_stream(kOrg, kReg), RegistrationCancelled{kNow, true}},
      {session_stream(kOrg, kSession), SeatFreed{kReg}},
      {code_stream(kCode.key), CodeUseReleased{kReg, false}},
  };
  EXPECT_EQ(r.value(), expected);
  w.given(r.value());
  EXPECT_EQ(w.code(kCode.key).uses, 0U);
  EXPECT_EQ(w.session(kOrg, kSession).registered, 0U);
  EXPECT_EQ(w.registration(kOrg, kReg).status, RegistrationStatus::cancelled);
  // Still assigned to Alice.
  EXPECT_TRUE(Rejected(when(w, redeem_cmd(kBob, kSession, "r2")), errc::code_assigned_elsewhere));
  EXPECT_TRUE(Accepted(when(w, redeem_cmd(kAlice, kSession, "r2"))));
}

TEST(CancelRegistration, WithoutReusePolicyTheCodeStaysUsed) {
  World w = redeemed(false);
  const auto r = when(w, CancelRegistration{kOrg, kReg, kNow});
  ASSERT_TRUE(Accepted(r));
  const Events expected = {
      {registration_stream(kOrg, kReg), RegistrationCancelled{kNow, false}},
      {session_stream(kOrg, kSession), SeatFreed{kReg}},
  };
  EXPECT_EQ(r.value(), expected);
  w.given(r.value());
  EXPECT_TRUE(Rejected(when(w, redeem_cmd(kAlice, kSession, "r2")), errc::code_exhausted));
}

TEST(CancelRegistration, Rejections) {
  World w = redeemed(false);
  EXPECT_TRUE(Rejected(when(w, CancelRegistration{kOrg, RegistrationId{"r9"}, kNow}), errc::registration_unknown));
  EXPECT_TRUE(Rejected(when(w, CancelRegistration{kOtherOrg, kReg, kNow}), errc::registration_unknown));
  w.given(when(w, CancelRegistration{kOrg, kReg, kNow}).value());
  EXPECT_TRUE(Rejected(when(w, CancelRegistration{kOrg, kReg, kNow}), errc::registration_not_active));
}

TEST(RevokeRegistration, RevokeFreesSeatAndReturnsTheCodeToThePool) {
  World w = redeemed(false);
  const auto r = when(w, RevokeRegistration{kOrg, kReg, kNow});
  ASSERT_TRUE(Accepted(r));
  const Events expected = {
      {registration_stream(kOrg, kReg), RegistrationRevoked{kNow}},
      {session_stream(kOrg, kSession), SeatFreed{kReg}},
      {code_stream(kCode.key), CodeUseReleased{kReg, true}},
  };
  EXPECT_EQ(r.value(), expected);
  w.given(r.value());
  EXPECT_EQ(w.code(kCode.key).uses, 0U);
  EXPECT_FALSE(w.code(kCode.key).assignee.has_value());
  EXPECT_EQ(w.registration(kOrg, kReg).status, RegistrationStatus::revoked);
  EXPECT_TRUE(Accepted(when(w, redeem_cmd(kBob, kSession, "r2"))));
  EXPECT_TRUE(Rejected(when(w, RevokeRegistration{kOrg, kReg, kNow}), errc::registration_not_active));
}

TEST(RevokeRegistration, UnknownRegistrationIsRegistrationUnknown) {
  const World w = redeemed(false);
  EXPECT_TRUE(Rejected(when(w, RevokeRegistration{kOrg, RegistrationId{"r9"}, kNow}), errc::registration_unknown));
}

TEST(ChangeAccess, AccessEndIsSetChangedOrLeftAlone) {
  World w = redeemed(false);
  const Timestamp until = plus_seconds(kNow, 86400);
  const auto r = when(w, ChangeAccess{kOrg, kReg, until});
  ASSERT_TRUE(Accepted(r));
  const Events expected = {{registration_stream(kOrg, kReg), RegistrationAccessChanged{until}}};
  EXPECT_EQ(r.value(), expected);
  w.given(r.value());
  EXPECT_EQ(w.registration(kOrg, kReg).terms.access_until, until);
  const auto same = when(w, ChangeAccess{kOrg, kReg, until});
  ASSERT_TRUE(Accepted(same));
  EXPECT_TRUE(same.value().empty());
}

TEST(ChangeAccess, Rejections) {
  World w = redeemed(false);
  EXPECT_TRUE(Rejected(when(w, ChangeAccess{kOrg, kReg, kNow}), errc::validation));
  EXPECT_TRUE(Rejected(when(w, ChangeAccess{kOrg, RegistrationId{"r9"}, std::nullopt}), errc::registration_unknown));
  w.given(when(w, RevokeRegistration{kOrg, kReg, kNow}).value());
  EXPECT_TRUE(Rejected(when(w, ChangeAccess{kOrg, kReg, std::nullopt}), errc::registration_not_active));
}

// ===========================================================================
// Error codes

TEST(Errc, EveryDomainCodeHasADistinctSlugAndOnlyANotReadyBatchIsWorthRetrying) {
  std::set<std::string_view> slugs;
  for (int i = static_cast<int>(errc::validation); i <= static_cast<int>(errc::batch_unknown); ++i) {
    const auto e = static_cast<errc>(i);
    EXPECT_NE(slug(e), "unknown") << i;
    EXPECT_TRUE(slugs.insert(slug(e)).second) << "duplicate slug " << slug(e);
    const std::error_code ec = e;
    EXPECT_EQ(ec.message(), slug(e));
    EXPECT_EQ(tessera::retry_advice(ec), e == errc::batch_not_ready ? tessera::retry::call : tessera::retry::no);
  }
  EXPECT_EQ(slug(errc::batch_not_ready), "batch-not-ready");
  EXPECT_EQ(slug(errc::code_exhausted), "code-exhausted");
  EXPECT_EQ(slug(errc::session_full), "session-full");
}

}  // namespace

namespace {

// A code without a session of its own serves the organisation's sessions,
// but not one bound to another contract.
TEST(Redeem, ASessionOfAnotherContractIsRefused) {
  BatchGenerated terms = batch_terms();
  terms.session.reset();
  World w = standard(terms);
  w.given(contract_created(std::nullopt, false, kOrg, ContractId{"c2"}));
  w.given(session_created(10, std::nullopt, kOrg, kOtherSession, ContractId{"c2"}));
  EXPECT_TRUE(Rejected(when(w, redeem_cmd(kAlice, kOtherSession)), errc::validation));
  w.given(session_created(10, std::nullopt, kOrg, SessionId{"s3"}, std::nullopt));
  EXPECT_TRUE(Accepted(when(w, redeem_cmd(kAlice, SessionId{"s3"}))));
}

}  // namespace
