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

}  // namespace

void to_json(json& j, const Money& m) { j = json{{"amount", m.amount}, {"currency", m.currency}}; }
void from_json(const json& j, Money& m) {
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
  j.at("capacity").get_to(e.capacity);
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
  j.at("quantity").get_to(e.quantity);
  get_optional(j, "price", e.price);
  j.at("note").get_to(e.note);
  get_optional(j, "valid_from", e.valid_from);
  get_optional(j, "valid_until", e.valid_until);
  j.at("max_uses").get_to(e.max_uses);
  j.at("restrictions").get_to(e.restrictions);
  j.at("prefix").get_to(e.prefix);
}

void to_json(json& j, const CodeIssued& e) {
  j = json::object();
  put_id(j, "org", e.org);
  j["code"] = e.code;
  put_id(j, "batch_id", e.batch);
  put_optional(j, "assignee", e.assignee);
}
void from_json(const json& j, CodeIssued& e) {
  get_id(j, "org", e.org);
  j.at("code").get_to(e.code);
  get_id(j, "batch_id", e.batch);
  get_optional(j, "assignee", e.assignee);
}

void to_json(json& j, const CodeRedeemed& e) {
  j = json::object();
  put_id(j, "registration_id", e.registration);
  j["participant"] = e.participant;
  put_id(j, "session_id", e.session);
  j["at"] = e.at;
}
void from_json(const json& j, CodeRedeemed& e) {
  get_id(j, "registration_id", e.registration);
  j.at("participant").get_to(e.participant);
  get_id(j, "session_id", e.session);
  j.at("at").get_to(e.at);
}

void to_json(json& j, const SeatRegistered& e) {
  j = json::object();
  put_id(j, "registration_id", e.registration);
}
void from_json(const json& j, SeatRegistered& e) { get_id(j, "registration_id", e.registration); }

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
}

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
