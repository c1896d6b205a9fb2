#include "fold.h"

#include <algorithm>
#include <memory>

#include "keys.h"
#include "tessera/codec/json.h"
#include "tessera/domain/code_rules.h"
#include "tessera/domain/streams.h"
#include "tessera/eventstore/errc.h"

namespace tessera::projections::detail {
namespace {

template <class... Ts>
struct Visitor : Ts... {
  using Ts::operator()...;
};
template <class... Ts>
Visitor(Ts...) -> Visitor<Ts...>;

using nlohmann::json;
namespace d = tessera::domain;
using eventstore::errc;
using eventstore::result;

template <class T>
json opt(const std::optional<T>& value) {
  return value ? json(*value) : json(nullptr);
}

template <class Tag>
json opt_id(const std::optional<d::Id<Tag>>& id) {
  return id ? json(id->str()) : json(nullptr);
}

json opt_micros(const std::optional<d::Timestamp>& t) { return t ? json(t->micros) : json(nullptr); }

bool creates(const d::Event& event) {
  return std::holds_alternative<d::ContractCreated>(event) || std::holds_alternative<d::SessionCreated>(event) ||
         std::holds_alternative<d::BatchGenerated>(event) || std::holds_alternative<d::CodeIssued>(event) ||
         std::holds_alternative<d::InvitationSent>(event) || std::holds_alternative<d::RegistrationCreated>(event);
}

// counter += delta, never below zero (a model fed a log it cannot fully
// trust degrades to a wrong count, not to a wrapped one).
void add(json& counter, std::int64_t delta) {
  counter = std::max<std::int64_t>(0, counter.get<std::int64_t>() + delta);
}

void refresh_seats(json& body) {
  const auto capacity = body.at("capacity").get<std::int64_t>();
  const auto taken = body.at("reserved").get<std::int64_t>() + body.at("registered").get<std::int64_t>();
  body["available"] = std::max<std::int64_t>(0, capacity - taken);
}

// own value if any, else the batch's.
json either(const json& own, const json& batch_value) { return own.is_null() ? batch_value : own; }

// A code's document from its own state and its batch's terms.
json code_body(const json& x, const json& terms) {
  const auto uses = x.at("uses").get<std::uint64_t>();
  const auto max_uses = terms.at("max_uses").get<std::uint64_t>();
  const json& assignee = x.at("assignee");
  const std::string_view status = d::to_string(d::code_status({x.at("archived").get<bool>(),
                                                              static_cast<std::uint32_t>(uses),
                                                              static_cast<std::uint32_t>(max_uses), !assignee.is_null()}));
  // The participant: the assignee; for an exhausted code nobody was
  // assigned, the redeemer of its last use; else nobody.
  const bool used = status == d::to_string(d::CodeStatus::used);
  json participant = !assignee.is_null() ? assignee : used ? x.at("last_redeemer") : json(nullptr);
  return json{
      {"code", x.at("code")},
      {"org", x.at("org")},
      {"status", status},
      {"uses", uses},
      {"max_uses", max_uses},
      {"price", either(x.at("price"), terms.at("price"))},
      {"participant", std::move(participant)},
      {"batch_id", terms.at("id")},
      {"session_id", terms.at("session_id")},
      {"contract_id", terms.at("contract_id")},
      {"note", either(x.at("note"), terms.at("note"))},
      {"valid_from", either(x.at("valid_from"), terms.at("valid_from"))},
      {"valid_until", either(x.at("valid_until"), terms.at("valid_until"))},
  };
}

std::string code_key_of_stream(const std::string& stream) {
  constexpr std::string_view kPrefix = "code-";
  return stream.substr(std::min(stream.size(), kPrefix.size()));
}

Entries invitation_entries(const json& rec) {
  Entries entries;
  if (rec.is_null()) return entries;
  const json& b = rec.at("b");
  if (b.at("status") != "pending") return entries;
  const auto id = b.at("id").get<std::string>();
  const auto pos = rec.at("x").at("pos").get<std::uint64_t>();
  entries.emplace(
      keys::roster_invitations(b.at("org").get<std::string>(), b.at("session_id").get<std::string>()) + keys::be64(pos),
      id);
  if (const json& expires = rec.at("x").at("expires"); !expires.is_null()) {
    entries.emplace(keys::due(expires.get<std::int64_t>(), id), std::string());
  }
  return entries;
}

Entries registration_entries(const json& rec) {
  Entries entries;
  if (rec.is_null()) return entries;
  const json& b = rec.at("b");
  if (b.at("status") != "active") return entries;
  const auto pos = rec.at("x").at("pos").get<std::uint64_t>();
  entries.emplace(keys::roster_registrations(b.at("org").get<std::string>(), b.at("session_id").get<std::string>()) +
                      keys::be64(pos),
                  b.at("id").get<std::string>());
  return entries;
}

}  // namespace

Fold::Fold(rocksdb::DB& db) : db_(db), batch_(rocksdb::BytewiseComparator(), 0, /*overwrite_key=*/true) {}

result<const json*> Fold::find(const std::string& key) {
  if (auto it = docs_.find(key); it != docs_.end()) return &it->second;
  std::string value;
  const auto s = db_.Get(rocksdb::ReadOptions(), key, &value);
  if (s.IsNotFound()) return &docs_[key];  // null: no document yet
  if (!s.ok()) return errc::io_error;
  return &(docs_[key] = json::parse(value));
}

result<json*> Fold::edit(const std::string& key) {
  auto found = find(key);
  if (!found) return found.error();
  dirty_.insert(key);
  return &docs_[key];
}

void Fold::reindex(const Entries& before, const Entries& after) {
  for (const auto& [key, value] : before) {
    if (!after.contains(key)) batch_.Delete(key);
  }
  for (const auto& [key, value] : after) {
    const auto it = before.find(key);
    if (it == before.end() || it->second != value) batch_.Put(key, value);
  }
}

rocksdb::WriteBatchWithIndex& Fold::write() {
  for (const auto& key : dirty_) {
    const json& doc = docs_.at(key);
    if (!doc.is_null()) batch_.Put(key, doc.dump());
  }
  dirty_.clear();
  return batch_;
}

result<bool> Fold::apply(const eventstore::RecordedEvent& recorded, const d::Event& event) {
  const std::string key = keys::doc(recorded.stream);
  {
    auto found = find(key);
    if (!found) return found.error();
    const json& existing = *found.value();
    if (existing.is_null() ? !creates(event) : recorded.version.value <= existing.at("v").get<std::uint64_t>()) {
      return false;  // already applied, or no such document
    }
  }
  auto edited = edit(key);
  if (!edited) return edited.error();
  json& rec = *edited.value();

  const auto category = d::stream_category(recorded.stream);
  result<void> applied = eventstore::outcome::success();
  if (category == "contract") {
    applied = apply_contract(rec, event);
  } else if (category == "session") {
    applied = apply_session(rec, event);
  } else if (category == "batch") {
    applied = apply_batch(rec, event, recorded);
  } else if (category == "code") {
    applied = apply_code(rec, code_key_of_stream(recorded.stream), event, recorded);
  } else if (category == "invitation") {
    applied = apply_invitation(rec, event, recorded);
  } else if (category == "registration") {
    applied = apply_registration(rec, event, recorded);
  }
  if (!applied) return applied.error();
  // An event the document did not take (of another aggregate) leaves it as it was.
  if (!rec.is_null()) rec["v"] = recorded.version.value;
  return true;
}

result<void> Fold::apply_contract(json& rec, const d::Event& event) {
  std::visit(Visitor{
                 [&](const d::ContractCreated& e) {
                   rec = json{{"b",
                               {{"id", e.contract.str()},
                                {"org", e.org.str()},
                                {"name", e.name},
                                {"reuse_cancelled_codes", e.reuse_cancelled_codes},
                                {"default_price", opt(e.default_price)}}}};
                 },
                 [&](const d::ContractConfigured& e) {
                   json& b = rec.at("b");
                   b["name"] = e.name;
                   b["reuse_cancelled_codes"] = e.reuse_cancelled_codes;
                   b["default_price"] = opt(e.default_price);
                 },
                 [](const auto&) {},
             },
             event);
  return eventstore::outcome::success();
}

result<void> Fold::apply_session(json& rec, const d::Event& event) {
  std::visit(Visitor{
                 [&](const d::SessionCreated& e) {
                   rec = json{{"b",
                               {{"id", e.session.str()},
                                {"org", e.org.str()},
                                {"name", e.name},
                                {"capacity", e.capacity},
                                {"contract_id", opt_id(e.contract)},
                                {"opens_at", opt(e.opens_at)},
                                {"reserved", 0},
                                {"registered", 0}}}};
                 },
                 [&](const d::SessionCapacityChanged& e) { rec.at("b")["capacity"] = e.capacity; },
                 [&](const d::SeatReserved& e) {
                   add(rec.at("b").at("reserved"), 1);
                   if (e.over_capacity) add(rec.at("b").at("capacity"), 1);
                 },
                 [&](const d::SeatReleased&) { add(rec.at("b").at("reserved"), -1); },
                 [&](const d::SeatRegistered& e) {
                   if (e.invitation) add(rec.at("b").at("reserved"), -1);
                   add(rec.at("b").at("registered"), 1);
                 },
                 [&](const d::SeatFreed&) { add(rec.at("b").at("registered"), -1); },
                 [](const auto&) {},
             },
             event);
  if (!rec.is_null()) refresh_seats(rec.at("b"));
  return eventstore::outcome::success();
}

result<void> Fold::apply_batch(json& rec, const d::Event& event, const eventstore::RecordedEvent& recorded) {
  const auto* e = std::get_if<d::BatchGenerated>(&event);
  if (!e) return eventstore::outcome::success();
  rec = json{{"b",
              {{"id", e->batch.str()},
               {"org", e->org.str()},
               {"contract_id", e->contract.str()},
               {"session_id", opt_id(e->session)},
               {"quantity", e->quantity},
               {"price", opt(e->price)},
               {"note", e->note},
               {"valid_from", opt(e->valid_from)},
               {"valid_until", opt(e->valid_until)},
               {"max_uses", e->max_uses},
               {"restrictions", e->restrictions},
               {"prefix", e->prefix}}},
             {"x", {{"pos", recorded.position.value}}}};

  // Codes that arrived before their batch (a Kafka-fed projector reads the
  // code and batch topics in no particular order between them) wait in an
  // index of orphans; now they can take their batch's terms.
  const std::string prefix = keys::orphans_of_batch(e->org.str(), e->batch.str());
  std::vector<std::string> orphans;
  {
    const std::string end = keys::prefix_end(prefix);
    const rocksdb::Slice upper(end);
    rocksdb::ReadOptions options;
    options.iterate_upper_bound = &upper;
    std::unique_ptr<rocksdb::Iterator> it(
        batch_.NewIteratorWithBase(db_.DefaultColumnFamily(), db_.NewIterator(options), &options));
    for (it->Seek(prefix); it->Valid() && it->key().starts_with(prefix); it->Next()) {
      orphans.push_back(it->value().ToString());
    }
    if (!it->status().ok()) return errc::io_error;
  }
  for (const auto& code_key : orphans) {
    auto code = edit(keys::doc(d::code_stream(code_key).str()));
    if (!code) return code.error();
    std::optional<Counted> counted;
    const Entries before = code_entries(*code.value(), code_key, &counted);
    if (auto refreshed = refresh_code(*code.value(), code_key, before, counted); !refreshed) return refreshed;
  }
  return eventstore::outcome::success();
}

Entries Fold::code_entries(const json& rec, const std::string& code_key, std::optional<Counted>* counted) {
  Entries entries;
  counted->reset();
  if (rec.is_null()) return entries;
  const json& x = rec.at("x");
  if (x.at("deleted").get<bool>()) return entries;
  const auto org = x.at("org").get<std::string>();
  const auto pos = keys::be64(x.at("pos").get<std::uint64_t>());
  const json& b = rec.at("b");
  if (b.is_null()) {
    entries.emplace(keys::orphans_of_batch(org, x.at("batch").get<std::string>()) + pos, code_key);
    return entries;
  }
  const auto status = b.at("status").get<std::string>();
  const auto contract = b.at("contract_id").get<std::string>();
  const auto batch = b.at("batch_id").get<std::string>();
  for (auto key : {keys::codes_of_org(org), keys::codes_of_org(org, status), keys::codes_of_contract(org, contract),
                   keys::codes_of_contract(org, contract, status), keys::codes_of_batch(org, batch),
                   keys::codes_of_batch(org, batch, status)}) {
    entries.emplace(std::move(key) + pos, code_key);
  }
  if (!b.at("participant").is_null()) entries.emplace(keys::participants_of_contract(org, contract) + pos, code_key);
  *counted = Counted{org, contract, status};
  return entries;
}

result<void> Fold::count(const std::string& org, const std::string& contract, const std::string& status, int delta) {
  auto found = edit(keys::summary(org, contract));
  if (!found) return found.error();
  json& summary = *found.value();
  if (summary.is_null()) {
    summary = json{{"total", 0}, {"available", 0}, {"assigned", 0}, {"used", 0}, {"archived", 0}};
  }
  add(summary.at("total"), delta);
  add(summary.at(status), delta);
  return eventstore::outcome::success();
}

result<void> Fold::refresh_code(json& rec, const std::string& code_key, const Entries& before,
                                const std::optional<Counted>& counted_before) {
  const json& x = rec.at("x");
  auto batch = find(keys::doc(
      d::batch_stream(d::OrgId(x.at("org").get<std::string>()), d::BatchId(x.at("batch").get<std::string>())).str()));
  if (!batch) return batch.error();
  const json& terms = *batch.value();
  // No public form for a deleted code, nor for one whose batch is not known yet.
  rec["b"] = terms.is_null() || x.at("deleted").get<bool>() ? json(nullptr) : code_body(x, terms.at("b"));

  std::optional<Counted> counted_after;
  const Entries after = code_entries(rec, code_key, &counted_after);
  reindex(before, after);
  const bool same = counted_before && counted_after && counted_before->contract == counted_after->contract &&
                    counted_before->status == counted_after->status;
  if (!same) {
    if (counted_before) {
      if (auto c = count(counted_before->org, counted_before->contract, counted_before->status, -1); !c) return c;
    }
    if (counted_after) {
      if (auto c = count(counted_after->org, counted_after->contract, counted_after->status, +1); !c) return c;
    }
  }
  return eventstore::outcome::success();
}

result<void> Fold::apply_code(json& rec, const std::string& code_key, const d::Event& event,
                              const eventstore::RecordedEvent& recorded) {
  std::optional<Counted> counted;
  const Entries before = code_entries(rec, code_key, &counted);
  bool changed = true;
  std::visit(Visitor{
                 [&](const d::CodeIssued& e) {
                   rec = json{{"b", nullptr},
                              {"x",
                               {{"org", e.org.str()},
                                {"code", e.code},
                                {"batch", e.batch.str()},
                                {"pos", recorded.position.value},
                                {"assignee", opt(e.assignee)},
                                {"uses", 0},
                                {"price", opt(e.price)},
                                {"note", nullptr},
                                {"valid_from", nullptr},
                                {"valid_until", nullptr},
                                {"archived", false},
                                {"deleted", false},
                                {"last_redeemer", nullptr}}}};
                 },
                 [&](const d::CodeAssigned& e) { rec.at("x")["assignee"] = e.participant; },
                 [&](const d::CodeEdited& e) {
                   json& x = rec.at("x");
                   if (e.note) x["note"] = *e.note;
                   if (e.price) x["price"] = *e.price;
                   if (e.valid_from) x["valid_from"] = *e.valid_from;
                   if (e.valid_until) x["valid_until"] = *e.valid_until;
                 },
                 [&](const d::CodeArchived&) { rec.at("x")["archived"] = true; },
                 [&](const d::CodeDeleted&) { rec.at("x")["deleted"] = true; },
                 [&](const d::CodeRedeemed& e) {
                   json& x = rec.at("x");
                   add(x.at("uses"), 1);
                   x["last_redeemer"] = e.participant;
                 },
                 [&](const d::CodeUseReleased& e) {
                   json& x = rec.at("x");
                   add(x.at("uses"), -1);
                   if (e.unassign) x["assignee"] = nullptr;
                 },
                 // Pending invitations on a code show in no code document.
                 [&](const auto&) { changed = false; },
             },
             event);
  if (!changed) return eventstore::outcome::success();
  return refresh_code(rec, code_key, before, counted);
}

result<void> Fold::apply_invitation(json& rec, const d::Event& event, const eventstore::RecordedEvent& recorded) {
  const Entries before = invitation_entries(rec);
  const auto end = [&](const char* status, const d::Timestamp& at) {
    json& b = rec.at("b");
    b["status"] = status;
    b["ended_at"] = at;
  };
  std::visit(Visitor{
                 [&](const d::InvitationSent& e) {
                   rec = json{{"b",
                               {{"id", e.invitation.str()},
                                {"org", e.org.str()},
                                {"status", "pending"},
                                {"participant", e.participant},
                                {"code", opt(e.code)},
                                {"session_id", e.session.str()},
                                {"expires_at", opt(e.expires_at)},
                                {"bind_to_email", e.bind_to_email},
                                {"over_capacity", e.over_capacity},
                                {"sent_at", e.at},
                                {"resent_at", nullptr},
                                {"ended_at", nullptr},
                                {"registration_id", nullptr}}},
                              {"x", {{"pos", recorded.position.value}, {"expires", opt_micros(e.expires_at)}}}};
                 },
                 [&](const d::InvitationResent& e) { rec.at("b")["resent_at"] = e.at; },
                 [&](const d::InvitationCancelled& e) { end("cancelled", e.at); },
                 [&](const d::InvitationExpired& e) { end("expired", e.at); },
                 [&](const d::InvitationSuperseded& e) { end("superseded", e.at); },
                 [&](const d::InvitationAccepted& e) {
                   end("accepted", e.at);
                   rec.at("b")["registration_id"] = e.registration.str();
                 },
                 [](const auto&) {},
             },
             event);
  reindex(before, invitation_entries(rec));
  return eventstore::outcome::success();
}

result<void> Fold::apply_registration(json& rec, const d::Event& event, const eventstore::RecordedEvent& recorded) {
  const Entries before = registration_entries(rec);
  std::visit(Visitor{
                 [&](const d::RegistrationCreated& e) {
                   rec = json{{"b",
                               {{"id", e.registration.str()},
                                {"org", e.org.str()},
                                {"code", opt(e.code)},
                                {"participant", e.participant},
                                {"session_id", e.session.str()},
                                {"price", opt(e.price)},
                                {"status", "active"},
                                {"access_from", e.access_from},
                                {"access_until", opt(e.access_until)},
                                {"invitation_id", opt_id(e.invitation)},
                                {"ended_at", nullptr}}},
                              {"x", {{"pos", recorded.position.value}}}};
                 },
                 [&](const d::RegistrationCancelled& e) {
                   rec.at("b")["status"] = "cancelled";
                   rec.at("b")["ended_at"] = e.at;
                 },
                 [&](const d::RegistrationRevoked& e) {
                   rec.at("b")["status"] = "revoked";
                   rec.at("b")["ended_at"] = e.at;
                 },
                 [&](const d::RegistrationAccessChanged& e) { rec.at("b")["access_until"] = opt(e.access_until); },
                 [](const auto&) {},
             },
             event);
  reindex(before, registration_entries(rec));
  return eventstore::outcome::success();
}

}  // namespace tessera::projections::detail
