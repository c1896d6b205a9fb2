#include "tessera/codec/json.h"

#include "tessera/codec/time.h"

namespace tessera::domain {

using nlohmann::json;

namespace {

template <class T>
void put_optional(json& j, const char* key, const std::optional<T>& value) {
  j[key] = value ? json(*value) : json(nullptr);
}

template <class T>
void get_optional(const json& j, const char* key, std::optional<T>& value) {
  const auto it = j.find(key);
  if (it == j.end() || it->is_null()) {
    value.reset();
  } else {
    value = it->template get<T>();
  }
}

template <class Tag>
void put_id(json& j, const char* key, const Id<Tag>& id) {
  j[key] = id.str();
}

template <class Tag>
void get_id(const json& j, const char* key, Id<Tag>& id) {
  id = Id<Tag>(j.at(key).get<std::string>());
}

template <class Tag>
void put_optional_id(json& j, const char* key, const std::optional<Id<Tag>>& id) {
  j[key] = id ? json(id->str()) : json(nullptr);
}

template <class Tag>
void get_optional_id(const json& j, const char* key, std::optional<Id<Tag>>& id) {
  const auto it = j.find(key);
  if (it == j.end() || it->is_null()) {
    id.reset();
  } else {
    id = Id<Tag>(it->template get<std::string>());
  }
}

template <class Tag>
json ids_json(const std::vector<Id<Tag>>& ids) {
  json out = json::array();
  for (const auto& id : ids) out.push_back(id.str());
  return out;
}

template <class Tag>
std::vector<Id<Tag>> ids_from(const json& j, const char* key) {
  std::vector<Id<Tag>> out;
  for (const auto& item : j.value(key, json::array())) out.emplace_back(item.get<std::string>());
  return out;
}

// A count: a whole number from 0 to 2^32-1; anything else is malformed.
std::uint32_t count_at(const json& j, const char* key) {
  const json& value = j.at(key);
  if (!value.is_number_unsigned() || value.get<std::uint64_t>() > UINT32_MAX) {
    throw json::type_error::create(302, std::string(key) + " must be a whole number from 0 to 4294967295", &value);
  }
  return value.get<std::uint32_t>();
}

}  // namespace

void to_json(json& j, const Money& m) { j = json{{"amount", m.amount}, {"currency", m.currency}}; }
void from_json(const json& j, Money& m) {
  if (!j.at("amount").is_number_integer()) throw json::type_error::create(302, "amount must be a whole number", &j);
  j.at("amount").get_to(m.amount);
  j.at("currency").get_to(m.currency);
}

void to_json(json& j, const Participant& p) {
  j = json{{"email", p.email}};
  if (!p.name.empty()) j["name"] = p.name;
  if (!p.group.empty()) j["group"] = p.group;
  if (!p.region.empty()) j["region"] = p.region;
  if (!p.external_id.empty()) j["external_id"] = p.external_id;
}
void from_json(const json& j, Participant& p) {
  j.at("email").get_to(p.email);
  p.name = j.value("name", "");
  p.group = j.value("group", "");
  p.region = j.value("region", "");
  p.external_id = j.value("external_id", "");
}

void to_json(json& j, const Restrictions& r) {
  j = json{{"emails", r.emails}, {"email_domains", r.email_domains}, {"regions", r.regions}, {"groups", r.groups}};
}
void from_json(const json& j, Restrictions& r) {
  r.emails = j.value("emails", std::vector<std::string>{});
  r.email_domains = j.value("email_domains", std::vector<std::string>{});
  r.regions = j.value("regions", std::vector<std::string>{});
  r.groups = j.value("groups", std::vector<std::string>{});
}

void to_json(json& j, const Timestamp& t) { j = codec::format_rfc3339(t); }
void from_json(const json& j, Timestamp& t) {
  const auto parsed = codec::parse_rfc3339(j.get<std::string>());
  if (!parsed) throw json::type_error::create(302, "not an RFC 3339 timestamp", &j);
  t = *parsed;
}

void to_json(json& j, const ContractCreated& e) {
  j = json::object();
  put_id(j, "org", e.org);
  put_id(j, "contract_id", e.contract);
  j["name"] = e.name;
  j["reuse_cancelled_codes"] = e.reuse_cancelled_codes;
  put_optional(j, "default_price", e.default_price);
}
void from_json(const json& j, ContractCreated& e) {
  get_id(j, "org", e.org);
  get_id(j, "contract_id", e.contract);
  j.at("name").get_to(e.name);
  j.at("reuse_cancelled_codes").get_to(e.reuse_cancelled_codes);
  get_optional(j, "default_price", e.default_price);
}

void to_json(json& j, const SessionCreated& e) {
  j = json::object();
  put_id(j, "org", e.org);
  put_id(j, "session_id", e.session);
  j["name"] = e.name;
  j["capacity"] = e.capacity;
  put_optional_id(j, "contract_id", e.contract);
  put_optional(j, "opens_at", e.opens_at);
}
void from_json(const json& j, SessionCreated& e) {
  get_id(j, "org", e.org);
  get_id(j, "session_id", e.session);
  j.at("name").get_to(e.name);
  e.capacity = count_at(j, "capacity");
  get_optional_id(j, "contract_id", e.contract);
  get_optional(j, "opens_at", e.opens_at);
}

void to_json(json& j, const BatchGenerated& e) {
  j = json::object();
  put_id(j, "org", e.org);
  put_id(j, "batch_id", e.batch);
  put_id(j, "contract_id", e.contract);
  put_optional_id(j, "session_id", e.session);
  j["quantity"] = e.quantity;
  put_optional(j, "price", e.price);
  j["note"] = e.note;
  put_optional(j, "valid_from", e.valid_from);
  put_optional(j, "valid_until", e.valid_until);
  j["max_uses"] = e.max_uses;
  j["restrictions"] = e.restrictions;
  j["prefix"] = e.prefix;
}
void from_json(const json& j, BatchGenerated& e) {
  get_id(j, "org", e.org);
  get_id(j, "batch_id", e.batch);
  get_id(j, "contract_id", e.contract);
  get_optional_id(j, "session_id", e.session);
  e.quantity = count_at(j, "quantity");
  get_optional(j, "price", e.price);
  j.at("note").get_to(e.note);
  get_optional(j, "valid_from", e.valid_from);
  get_optional(j, "valid_until", e.valid_until);
  e.max_uses = count_at(j, "max_uses");
  j.at("restrictions").get_to(e.restrictions);
  j.at("prefix").get_to(e.prefix);
}

void to_json(json& j, const CodeIssued& e) {
  j = json::object();
  put_id(j, "org", e.org);
  j["code"] = e.code;
  put_id(j, "batch_id", e.batch);
  put_optional(j, "assignee", e.assignee);
  put_optional(j, "price", e.price);
}
void from_json(const json& j, CodeIssued& e) {
  get_id(j, "org", e.org);
  j.at("code").get_to(e.code);
  get_id(j, "batch_id", e.batch);
  get_optional(j, "assignee", e.assignee);
  get_optional(j, "price", e.price);
}

void to_json(json& j, const CodeRedeemed& e) {
  j = json::object();
  put_id(j, "registration_id", e.registration);
  j["participant"] = e.participant;
  put_id(j, "session_id", e.session);
  j["at"] = e.at;
  put_optional_id(j, "invitation_id", e.invitation);
  j["superseded"] = ids_json(e.superseded);
}
void from_json(const json& j, CodeRedeemed& e) {
  get_id(j, "registration_id", e.registration);
  j.at("participant").get_to(e.participant);
  get_id(j, "session_id", e.session);
  j.at("at").get_to(e.at);
  get_optional_id(j, "invitation_id", e.invitation);
  e.superseded = ids_from<InvitationTag>(j, "superseded");
}

void to_json(json& j, const SeatRegistered& e) {
  j = json::object();
  put_id(j, "registration_id", e.registration);
  put_optional_id(j, "invitation_id", e.invitation);
}
void from_json(const json& j, SeatRegistered& e) {
  get_id(j, "registration_id", e.registration);
  get_optional_id(j, "invitation_id", e.invitation);
}

void to_json(json& j, const RegistrationCreated& e) {
  j = json::object();
  put_id(j, "org", e.org);
  put_id(j, "registration_id", e.registration);
  put_id(j, "session_id", e.session);
  put_optional(j, "code", e.code);
  j["participant"] = e.participant;
  put_optional(j, "price", e.price);
  j["access_from"] = e.access_from;
  put_optional(j, "access_until", e.access_until);
  put_optional_id(j, "invitation_id", e.invitation);
}
void from_json(const json& j, RegistrationCreated& e) {
  get_id(j, "org", e.org);
  get_id(j, "registration_id", e.registration);
  get_id(j, "session_id", e.session);
  get_optional(j, "code", e.code);
  j.at("participant").get_to(e.participant);
  get_optional(j, "price", e.price);
  j.at("access_from").get_to(e.access_from);
  get_optional(j, "access_until", e.access_until);
  get_optional_id(j, "invitation_id", e.invitation);
}

void to_json(json& j, const ContractConfigured& e) {
  j = json::object();
  j["name"] = e.name;
  j["reuse_cancelled_codes"] = e.reuse_cancelled_codes;
  put_optional(j, "default_price", e.default_price);
}
void from_json(const json& j, ContractConfigured& e) {
  j.at("name").get_to(e.name);
  j.at("reuse_cancelled_codes").get_to(e.reuse_cancelled_codes);
  get_optional(j, "default_price", e.default_price);
}

void to_json(json& j, const SessionCapacityChanged& e) { j = json{{"capacity", e.capacity}}; }
void from_json(const json& j, SessionCapacityChanged& e) { e.capacity = count_at(j, "capacity"); }

void to_json(json& j, const SeatReserved& e) {
  j = json{{"invitation_id", e.invitation.str()}, {"over_capacity", e.over_capacity}};
}
void from_json(const json& j, SeatReserved& e) {
  get_id(j, "invitation_id", e.invitation);
  j.at("over_capacity").get_to(e.over_capacity);
}

void to_json(json& j, const SeatReleased& e) { j = json{{"invitation_id", e.invitation.str()}}; }
void from_json(const json& j, SeatReleased& e) { get_id(j, "invitation_id", e.invitation); }

void to_json(json& j, const SeatFreed& e) { j = json{{"registration_id", e.registration.str()}}; }
void from_json(const json& j, SeatFreed& e) { get_id(j, "registration_id", e.registration); }

void to_json(json& j, const CodeAssigned& e) { j = json{{"participant", e.participant}}; }
void from_json(const json& j, CodeAssigned& e) { j.at("participant").get_to(e.participant); }

void to_json(json& j, const CodeEdited& e) {
  j = json::object();
  put_optional(j, "note", e.note);
  put_optional(j, "price", e.price);
  put_optional(j, "valid_from", e.valid_from);
  put_optional(j, "valid_until", e.valid_until);
}
void from_json(const json& j, CodeEdited& e) {
  get_optional(j, "note", e.note);
  get_optional(j, "price", e.price);
  get_optional(j, "valid_from", e.valid_from);
  get_optional(j, "valid_until", e.valid_until);
}

void to_json(json& j, const CodeArchived&) { j = json::object(); }
void from_json(const json&, CodeArchived&) {}
void to_json(json& j, const CodeDeleted&) { j = json::object(); }
void from_json(const json&, CodeDeleted&) {}

void to_json(json& j, const CodeInvitationAttached& e) {
  j = json{{"invitation_id", e.invitation.str()}, {"session_id", e.session.str()}};
}
void from_json(const json& j, CodeInvitationAttached& e) {
  get_id(j, "invitation_id", e.invitation);
  get_id(j, "session_id", e.session);
}

void to_json(json& j, const CodeInvitationDetached& e) { j = json{{"invitation_id", e.invitation.str()}}; }
void from_json(const json& j, CodeInvitationDetached& e) { get_id(j, "invitation_id", e.invitation); }

void to_json(json& j, const CodeUseReleased& e) {
  j = json{{"registration_id", e.registration.str()}, {"unassign", e.unassign}};
}
void from_json(const json& j, CodeUseReleased& e) {
  get_id(j, "registration_id", e.registration);
  j.at("unassign").get_to(e.unassign);
}

void to_json(json& j, const InvitationSent& e) {
  j = json::object();
  put_id(j, "org", e.org);
  put_id(j, "invitation_id", e.invitation);
  put_id(j, "session_id", e.session);
  j["participant"] = e.participant;
  put_optional(j, "code", e.code);
  put_optional(j, "expires_at", e.expires_at);
  j["bind_to_email"] = e.bind_to_email;
  j["over_capacity"] = e.over_capacity;
  j["at"] = e.at;
}
void from_json(const json& j, InvitationSent& e) {
  get_id(j, "org", e.org);
  get_id(j, "invitation_id", e.invitation);
  get_id(j, "session_id", e.session);
  j.at("participant").get_to(e.participant);
  get_optional(j, "code", e.code);
  get_optional(j, "expires_at", e.expires_at);
  j.at("bind_to_email").get_to(e.bind_to_email);
  j.at("over_capacity").get_to(e.over_capacity);
  j.at("at").get_to(e.at);
}

void to_json(json& j, const InvitationResent& e) { j = json{{"at", e.at}}; }
void from_json(const json& j, InvitationResent& e) { j.at("at").get_to(e.at); }
void to_json(json& j, const InvitationCancelled& e) { j = json{{"at", e.at}}; }
void from_json(const json& j, InvitationCancelled& e) { j.at("at").get_to(e.at); }
void to_json(json& j, const InvitationExpired& e) { j = json{{"at", e.at}}; }
void from_json(const json& j, InvitationExpired& e) { j.at("at").get_to(e.at); }

void to_json(json& j, const InvitationSuperseded& e) { j = json{{"by_registration_id", e.by.str()}, {"at", e.at}}; }
void from_json(const json& j, InvitationSuperseded& e) {
  get_id(j, "by_registration_id", e.by);
  j.at("at").get_to(e.at);
}

void to_json(json& j, const InvitationAccepted& e) {
  j = json{{"registration_id", e.registration.str()}, {"at", e.at}};
}
void from_json(const json& j, InvitationAccepted& e) {
  get_id(j, "registration_id", e.registration);
  j.at("at").get_to(e.at);
}

void to_json(json& j, const RegistrationCancelled& e) { j = json{{"at", e.at}, {"code_reusable", e.code_reusable}}; }
void from_json(const json& j, RegistrationCancelled& e) {
  j.at("at").get_to(e.at);
  j.at("code_reusable").get_to(e.code_reusable);
}

void to_json(json& j, const RegistrationRevoked& e) { j = json{{"at", e.at}}; }
void from_json(const json& j, RegistrationRevoked& e) { j.at("at").get_to(e.at); }

void to_json(json& j, const RegistrationAccessChanged& e) {
  j = json::object();
  put_optional(j, "access_until", e.access_until);
}
void from_json(const json& j, RegistrationAccessChanged& e) { get_optional(j, "access_until", e.access_until); }

}  // namespace tessera::domain

namespace tessera::codec {

nlohmann::json event_to_json(const domain::Event& event) {
  return std::visit([](const auto& e) { return nlohmann::json(e); }, event);
}

std::string encode_event(const domain::Event& event) { return event_to_json(event).dump(); }

namespace {

template <class E>
std::optional<domain::Event> read_as(std::string_view payload) {
  const auto j = nlohmann::json::parse(payload, nullptr, /*allow_exceptions=*/false);
  if (j.is_discarded()) return std::nullopt;
  try {
    return domain::Event{j.get<E>()};
  } catch (const nlohmann::json::exception&) {
    return std::nullopt;
  }
}

// One row per event type: the name written in the log and its reader.
template <class... Es>
std::optional<domain::Event> dispatch(std::string_view type, std::string_view payload) {
  std::optional<domain::Event> out;
  (void)((type == domain::event_type(domain::Event{Es{}}) ? (out = read_as<Es>(payload), true) : false) || ...);
  return out;
}

template <class>
struct Dispatcher;
template <class... Es>
struct Dispatcher<std::variant<Es...>> {
  static std::optional<domain::Event> run(std::string_view type, std::string_view payload) {
    return dispatch<Es...>(type, payload);
  }
};

}  // namespace

std::optional<domain::Event> decode_event(std::string_view type, std::uint16_t schema, std::string_view payload) {
  if (schema == 0 || schema > domain::kEventSchemaVersion) return std::nullopt;
  return Dispatcher<domain::Event>::run(type, payload);
}

}  // namespace tessera::codec
