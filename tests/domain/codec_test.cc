// The JSON codec of events: every event type round-trips, and what cannot be
// read (unknown type, newer schema, malformed payload) reads as nullopt.

#include <gtest/gtest.h>

#include <nlohmann/json.hpp>
#include <set>
#include <string>
#include <utility>
#include <vector>

#include "tessera/codec/json.h"
#include "tessera/codec/state.h"
#include "tessera/domain/events.h"
#include "tessera/domain/state.h"

namespace tessera::domain {
inline void PrintTo(const Event& e, std::ostream* os) { *os << event_type(e) << " " << codec::encode_event(e); }
}  // namespace tessera::domain

namespace {

using namespace tessera::domain;
using tessera::codec::decode_event;
using tessera::codec::encode_event;

const Timestamp kAt{1'795'515'330'123'456};  // 2026-11-24T10:15:30.123456Z
const Timestamp kLater{1'795'601'730'000'000};
const Money kPrice{1250, "EUR"};
const Participant kFull{"alice@example.com", "Alice Example", "staff", "EU", "crm-42"};
const Participant kMinimal{"bob@example.org", "", "", "", ""};

// One sample of every event type with every optional field present...
std::vector<Event> full_samples() {
  return {
      ContractCreated{OrgId{"acme"}, ContractId{"c1"}, "Contract \"quoted\" \u00e9", true, kPrice},
      ContractConfigured{"Renamed", true, kPrice},
      SessionCreated{OrgId{"acme"}, SessionId{"s1"}, "Spring", 25, ContractId{"c1"}, kAt},
      SessionCapacityChanged{40},
      SeatReserved{InvitationId{"i1"}, true},
      SeatReleased{InvitationId{"i1"}},
      SeatRegistered{RegistrationId{"r1"}, InvitationId{"i1"}},
      SeatFreed{RegistrationId{"r1"}},
      BatchGenerated{OrgId{"acme"}, BatchId{"b1"}, ContractId{"c1"}, SessionId{"s1"}, 100, kPrice, "a note\nwith lines",
                     kAt, kLater, 3, Restrictions{{"a@example.com"}, {"example.com", "example.org"}, {"EU"}, {"staff"}},
                     "GOLD", true},
      CodeIssued{OrgId{"acme"}, "GOLD-7K4Q-M9XD-2HFA-R", BatchId{"b1"}, kFull, kPrice},
      CodeAssigned{kFull},
      CodeEdited{"note", kPrice, kAt, kLater},
      CodeArchived{},
      CodeDeleted{},
      CodeInvitationAttached{InvitationId{"i1"}, SessionId{"s1"}},
      CodeInvitationDetached{InvitationId{"i1"}},
      CodeRedeemed{RegistrationId{"r1"},
                   kFull,
                   SessionId{"s1"},
                   kAt,
                   InvitationId{"i1"},
                   {InvitationId{"i2"}, InvitationId{"i3"}}},
      CodeUseReleased{RegistrationId{"r1"}, true},
      InvitationSent{OrgId{"acme"}, InvitationId{"i1"}, SessionId{"s1"}, kFull, "7K4Q-M9XD-2HFA-R", kLater, true, true,
                     kAt},
      InvitationResent{kAt},
      InvitationCancelled{kAt},
      InvitationExpired{kLater},
      InvitationSuperseded{RegistrationId{"r2"}, kAt},
      InvitationAccepted{RegistrationId{"r1"}, kAt},
      RegistrationCreated{OrgId{"acme"}, RegistrationId{"r1"}, SessionId{"s1"}, "7K4Q-M9XD-2HFA-R", kFull, kPrice, kAt,
                          kLater, InvitationId{"i1"}},
      RegistrationCancelled{kAt, true},
      RegistrationRevoked{kAt},
      RegistrationAccessChanged{kLater},
      SessionEdited{"Autumn", kAt},
      BatchChunkIssued{5000, 5000},
  };
}

// ...and with every optional absent, every flag false and every list empty.
std::vector<Event> minimal_samples() {
  return {
      ContractCreated{OrgId{"acme"}, ContractId{"c1"}, "C", false, std::nullopt},
      ContractConfigured{"C", false, std::nullopt},
      SessionCreated{OrgId{"acme"}, SessionId{"s1"}, "S", 0, std::nullopt, std::nullopt},
      SessionCapacityChanged{0},
      SeatReserved{InvitationId{"i1"}, false},
      SeatReleased{InvitationId{"i1"}},
      SeatRegistered{RegistrationId{"r1"}, std::nullopt},
      SeatFreed{RegistrationId{"r1"}},
      BatchGenerated{OrgId{"acme"}, BatchId{"b1"}, ContractId{"c1"}, std::nullopt, 1, std::nullopt, "", std::nullopt,
                     std::nullopt, 1, Restrictions{}, ""},
      CodeIssued{OrgId{"acme"}, "7K4Q-M9XD-2HFA-R", BatchId{"b1"}, std::nullopt, std::nullopt},
      CodeAssigned{kMinimal},
      CodeEdited{std::nullopt, std::nullopt, std::nullopt, std::nullopt},
      CodeArchived{},
      CodeDeleted{},
      CodeInvitationAttached{InvitationId{"i1"}, SessionId{"s1"}},
      CodeInvitationDetached{InvitationId{"i1"}},
      CodeRedeemed{RegistrationId{"r1"}, kMinimal, SessionId{"s1"}, Timestamp{0}, std::nullopt, {}},
      CodeUseReleased{RegistrationId{"r1"}, false},
      InvitationSent{OrgId{"acme"}, InvitationId{"i1"}, SessionId{"s1"}, kMinimal, std::nullopt, std::nullopt, false,
                     false, Timestamp{0}},
      InvitationResent{Timestamp{0}},
      InvitationCancelled{Timestamp{1}},
      InvitationExpired{Timestamp{-1}},
      InvitationSuperseded{RegistrationId{"r2"}, Timestamp{0}},
      InvitationAccepted{RegistrationId{"r1"}, Timestamp{0}},
      RegistrationCreated{OrgId{"acme"}, RegistrationId{"r1"}, SessionId{"s1"}, std::nullopt, kMinimal, std::nullopt,
                          Timestamp{0}, std::nullopt, std::nullopt},
      RegistrationCancelled{Timestamp{0}, false},
      RegistrationRevoked{Timestamp{0}},
      RegistrationAccessChanged{std::nullopt},
      SessionEdited{"", std::nullopt},
      BatchChunkIssued{0, 0},
  };
}

void expect_round_trip(const std::vector<Event>& samples) {
  std::set<std::size_t> covered;
  for (const Event& e : samples) {
    covered.insert(e.index());
    const std::string payload = encode_event(e);
    const auto decoded = decode_event(event_type(e), kEventSchemaVersion, payload);
    ASSERT_TRUE(decoded.has_value()) << event_type(e) << " " << payload;
    EXPECT_EQ(*decoded, e) << event_type(e) << " " << payload;
    EXPECT_EQ(decoded->index(), e.index());
    // The payload is a JSON object, the same as event_to_json().
    const auto j = nlohmann::json::parse(payload);
    EXPECT_TRUE(j.is_object()) << payload;
    EXPECT_EQ(j, tessera::codec::event_to_json(e));
  }
  EXPECT_EQ(covered.size(), std::variant_size_v<Event>) << "a sample per event type";
}

TEST(Codec, EveryEventTypeRoundTripsWithEveryFieldSet) { expect_round_trip(full_samples()); }

TEST(Codec, EveryEventTypeRoundTripsWithOptionalFieldsAbsent) { expect_round_trip(minimal_samples()); }

// A batch decided at once reads and writes as batches did before jobs
// existed: its payload has no in_chunks, and one without it is not a job.
TEST(Codec, ABatchDecidedAtOnceKeepsThePayloadOfBeforeJobs) {
  const Event at_once = minimal_samples()[8];
  ASSERT_TRUE(std::holds_alternative<BatchGenerated>(at_once));
  const std::string payload = encode_event(at_once);
  EXPECT_EQ(payload.find("in_chunks"), std::string::npos) << payload;
  const auto decoded = decode_event("BatchGenerated", 1, payload);
  ASSERT_TRUE(decoded.has_value());
  EXPECT_FALSE(std::get<BatchGenerated>(*decoded).in_chunks);
}

// The log's payload is written as text directly, the API's form as an
// nlohmann::json: byte for byte they must print the same (keys in the same
// order, strings escaped alike), whatever the strings hold.
TEST(Codec, TheLogsTextIsWhatTheJsonValuePrints) {
  std::vector<Event> samples = full_samples();
  const auto minimal = minimal_samples();
  samples.insert(samples.end(), minimal.begin(), minimal.end());
  for (const std::string& name : {std::string("tab\there"), std::string("bell\x07 and nul", 14) + '\0',
                                  std::string("back\\slash \"quote\" /slash"), std::string("del \x7f"),
                                  std::string("\u00e9t\u00e9 \u2603 \U0001F600"), std::string("")}) {
    samples.push_back(ContractCreated{OrgId{"acme"}, ContractId{"c1"}, name, true, Money{-5, name}});
    samples.push_back(CodeAssigned{Participant{"a@example.com", name, name, name, name}});
  }
  for (const Event& e : samples) {
    EXPECT_EQ(encode_event(e), tessera::codec::event_to_json(e).dump()) << event_type(e);
  }
}

TEST(Codec, EventTypeNamesAreDistinctAndStable) {
  std::set<std::string_view> names;
  for (const Event& e : full_samples()) EXPECT_TRUE(names.insert(event_type(e)).second) << event_type(e);
  EXPECT_EQ(event_type(Event{CodeRedeemed{}}), "CodeRedeemed");
  EXPECT_EQ(event_type(Event{ContractCreated{}}), "ContractCreated");
  EXPECT_EQ(event_type(Event{RegistrationAccessChanged{}}), "RegistrationAccessChanged");
}

TEST(Codec, FieldNamesAreTheApis) {
  const auto j = tessera::codec::event_to_json(full_samples()[16]);  // CodeRedeemed
  EXPECT_EQ(j.at("registration_id"), "r1");
  EXPECT_EQ(j.at("session_id"), "s1");
  EXPECT_EQ(j.at("at"), "2026-11-24T10:15:30.123456Z");
  EXPECT_EQ(j.at("participant").at("email"), "alice@example.com");
  const auto price = tessera::codec::event_to_json(full_samples()[0]).at("default_price");
  EXPECT_EQ(price, (nlohmann::json{{"amount", 1250}, {"currency", "EUR"}}));
}

TEST(Codec, UnknownTypeIsNullopt) {
  const std::string payload = encode_event(SeatFreed{RegistrationId{"r1"}});
  EXPECT_FALSE(decode_event("SeatVanished", 1, payload).has_value());
  EXPECT_FALSE(decode_event("", 1, payload).has_value());
  EXPECT_FALSE(decode_event("seatfreed", 1, payload).has_value());  // names are case-sensitive
  EXPECT_TRUE(decode_event("SeatFreed", 1, payload).has_value());
}

TEST(Codec, NewerOrZeroSchemaIsNullopt) {
  const std::string payload = encode_event(SeatFreed{RegistrationId{"r1"}});
  EXPECT_FALSE(decode_event("SeatFreed", kEventSchemaVersion + 1, payload).has_value());
  EXPECT_FALSE(decode_event("SeatFreed", 0xFFFF, payload).has_value());
  EXPECT_FALSE(decode_event("SeatFreed", 0, payload).has_value());
}

TEST(Codec, MalformedPayloadIsNullopt) {
  const std::string good = encode_event(full_samples()[2]);  // SessionCreated
  ASSERT_TRUE(decode_event("SessionCreated", 1, good).has_value());
  EXPECT_FALSE(decode_event("SessionCreated", 1, "").has_value());
  EXPECT_FALSE(decode_event("SessionCreated", 1, "not json").has_value());
  EXPECT_FALSE(decode_event("SessionCreated", 1, good.substr(0, good.size() / 2)).has_value());  // truncated
  EXPECT_FALSE(decode_event("SessionCreated", 1, "{}").has_value());                             // fields missing
  EXPECT_FALSE(decode_event("SessionCreated", 1, "[]").has_value());
  EXPECT_FALSE(decode_event("SessionCreated", 1, "42").has_value());
  EXPECT_FALSE(decode_event("SessionCreated", 1, "null").has_value());

  auto j = nlohmann::json::parse(good);
  auto mutated = [&](auto&& change) {
    auto copy = j;
    change(copy);
    return copy.dump();
  };
  EXPECT_FALSE(decode_event("SessionCreated", 1, mutated([](auto& c) { c["capacity"] = "ten"; })).has_value());
  EXPECT_FALSE(decode_event("SessionCreated", 1, mutated([](auto& c) { c.erase("name"); })).has_value());
  EXPECT_FALSE(decode_event("SessionCreated", 1, mutated([](auto& c) { c["org"] = 7; })).has_value());
  EXPECT_FALSE(decode_event("SessionCreated", 1, mutated([](auto& c) { c["opens_at"] = "yesterday"; })).has_value());
  EXPECT_FALSE(
      decode_event("SessionCreated", 1, mutated([](auto& c) { c["opens_at"] = "2026-13-01T00:00:00Z"; })).has_value());

  const std::string redeemed = encode_event(full_samples()[16]);
  auto r = nlohmann::json::parse(redeemed);
  r["participant"].erase("email");
  EXPECT_FALSE(decode_event("CodeRedeemed", 1, r.dump()).has_value());
  r = nlohmann::json::parse(redeemed);
  r["participant"] = "alice@example.com";
  EXPECT_FALSE(decode_event("CodeRedeemed", 1, r.dump()).has_value());
  r = nlohmann::json::parse(redeemed);
  r["superseded"] = {1, 2};
  EXPECT_FALSE(decode_event("CodeRedeemed", 1, r.dump()).has_value());

  // A payload that is another type's.
  EXPECT_FALSE(decode_event("SeatReleased", 1, encode_event(SeatFreed{RegistrationId{"r1"}})).has_value());
}

// Regression (found as a bug by this test: `j.at(...).get_to(n)` lets
// nlohmann static_cast any JSON number, so a capacity of -1 read as
// 4294967295, 2^40 wrapped to 0, and an amount of 12.5 cents read as 12).
// decode_event() promises nullopt for a malformed payload.
TEST(Codec, NumbersOutsideTheFieldsRangeAreMalformed) {
  auto j = nlohmann::json::parse(encode_event(full_samples()[2]));  // SessionCreated
  j["capacity"] = -1;
  EXPECT_FALSE(decode_event("SessionCreated", 1, j.dump()).has_value()) << j.dump();
  j["capacity"] = std::uint64_t{1} << 40;
  EXPECT_FALSE(decode_event("SessionCreated", 1, j.dump()).has_value()) << j.dump();
  j["capacity"] = 2.5;
  EXPECT_FALSE(decode_event("SessionCreated", 1, j.dump()).has_value()) << j.dump();
  auto contract = nlohmann::json::parse(encode_event(full_samples()[0]));  // ContractCreated
  contract["default_price"]["amount"] = 12.5;
  EXPECT_FALSE(decode_event("ContractCreated", 1, contract.dump()).has_value()) << contract.dump();
}

TEST(Codec, OptionalFieldsMayBeLeftOutOrNull) {
  // Readers are lenient with absent optionals (written as null by encode_event()).
  const auto decoded = decode_event("SessionCreated", 1, R"({"org":"acme","session_id":"s1","name":"S","capacity":3})");
  ASSERT_TRUE(decoded.has_value());
  EXPECT_EQ(*decoded, Event(SessionCreated{OrgId{"acme"}, SessionId{"s1"}, "S", 3, std::nullopt, std::nullopt}));
}

}  // namespace

namespace {

// The aggregate that `samples` fold into, starting from the event at `first`
// (its creation) and taking every later sample (events of other aggregates
// leave it as it is).
AggregateState fold_from(const std::vector<Event>& samples, std::size_t first) {
  AggregateState state;
  for (std::size_t i = first; i < samples.size(); ++i) state = evolve(std::move(state), samples[i]);
  return state;
}

TEST(StateCodec, EveryAggregateRoundTripsThroughASnapshot) {
  for (const auto& samples : {full_samples(), minimal_samples()}) {
    std::set<std::size_t> kinds;
    for (std::size_t i = 0; i < samples.size(); ++i) {
      const auto state = fold_from(samples, i);
      if (std::holds_alternative<std::monostate>(state)) continue;  // not a creating event
      kinds.insert(state.index());
      const auto text = tessera::codec::encode_state(state);
      const auto decoded = tessera::codec::decode_state(text);
      ASSERT_TRUE(decoded.has_value()) << text;
      EXPECT_TRUE(*decoded == state) << event_type(samples[i]) << ": " << text;
    }
    EXPECT_EQ(kinds.size(), std::variant_size_v<AggregateState> - 1) << "a state of every kind";
  }
}

TEST(StateCodec, ACodeWithPendingInvitationsAndItsOwnTermsRoundTrips) {
  CodeState code;
  code.exists = true;
  code.org = OrgId{"acme"};
  code.code = "GOLD-7K4Q-M9XD-2HFA-R";
  code.batch = BatchId{"b1"};
  code.assignee = kFull;
  code.uses = 2;
  code.redemptions_ever = 3;
  code.note = "n";
  code.price = kPrice;
  code.valid_from = kAt;
  code.valid_until = Timestamp{kLater.micros + 1};  // micros survive exactly
  code.pending = {{InvitationId{"i1"}, SessionId{"s1"}}, {InvitationId{"i2"}, SessionId{"s2"}}};
  const auto decoded = tessera::codec::decode_state(tessera::codec::encode_state(code));
  ASSERT_TRUE(decoded.has_value());
  EXPECT_TRUE(*decoded == AggregateState{code});
}

TEST(StateCodec, WhatItCannotReadExactlyIsNullopt) {
  const SessionState session{true, SessionCreated{OrgId{"acme"}, SessionId{"s1"}, "S", 5, std::nullopt, std::nullopt},
                             5, 1, 2};
  auto j = nlohmann::json::parse(tessera::codec::encode_state(session));
  j["format"] = tessera::codec::kStateFormat + 1;
  EXPECT_FALSE(tessera::codec::decode_state(j.dump()).has_value());
  EXPECT_FALSE(tessera::codec::decode_state("not json").has_value());
  EXPECT_FALSE(tessera::codec::decode_state(R"({"format": 1, "kind": "spaceship"})").has_value());
  j["format"] = tessera::codec::kStateFormat;
  j.erase("registered");
  EXPECT_FALSE(tessera::codec::decode_state(j.dump()).has_value());
}

}  // namespace
