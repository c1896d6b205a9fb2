#include "tessera/codec/json.h"

#include <algorithm>
#include <charconv>
#include <concepts>
#include <vector>

#include "event_fields.h"
#include "tessera/codec/time.h"

namespace tessera::domain {

using nlohmann::json;

namespace {

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
void get_id(const json& j, const char* key, Id<Tag>& id) {
  id = Id<Tag>(j.at(key).get<std::string>());
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
std::vector<Id<Tag>> ids_from(const json& j, const char* key) {
  std::vector<Id<Tag>> out;
  for (const auto& item : j.value(key, json::array())) out.emplace_back(item.get<std::string>());
  return out;
}

// Fields written into an nlohmann::json object.
class JsonFields {
 public:
  explicit JsonFields(json& j) : j_(j) { j_ = json::object(); }

  template <class T>
  void field(const char* key, const T& value) {
    j_[key] = value_of(value);
  }

 private:
  template <class Tag>
  static json value_of(const Id<Tag>& id) {
    return id.str();
  }
  template <class T>
  static json value_of(const std::optional<T>& value) {
    return value ? value_of(*value) : json(nullptr);
  }
  template <class T>
  static json value_of(const std::vector<T>& items) {
    json out = json::array();
    for (const auto& item : items) out.push_back(value_of(item));
    return out;
  }
  template <class T>
  static json value_of(const T& value) {
    return json(value);
  }

  json& j_;
};

// Fields written as compact JSON text, the text JsonFields' object prints
// (keys in the order given, which write_fields keeps sorted). An event's
// payload is written this way: no object, map node or string per field.
class TextFields {
 public:
  explicit TextFields(std::string& out) : out_(out) { out_.push_back('{'); }
  void close() { out_.push_back('}'); }

  template <class T>
  void field(std::string_view key, const T& value) {
    if (!first_) out_.push_back(',');
    first_ = false;
    put(key);
    out_.push_back(':');
    put(value);
  }

 private:
  void put(std::string_view s) {
    const bool plain = std::ranges::all_of(s, [](char c) {
      const auto u = static_cast<unsigned char>(c);
      return u >= 0x20 && u < 0x7F && c != '"' && c != '\\';
    });
    if (!plain) {
      // What needs escaping or UTF-8 checking is left to nlohmann, so that
      // it comes out exactly as its dump() prints it (or throws as it does).
      out_ += json(std::string(s)).dump();
      return;
    }
    out_.push_back('"');
    out_.append(s);
    out_.push_back('"');
  }
  void put(const std::string& s) { put(std::string_view(s)); }
  void put(bool b) { out_.append(b ? "true" : "false"); }
  template <std::integral T>
  void put(T n) {
    char digits[24];
    const auto end = std::to_chars(std::begin(digits), std::end(digits), n).ptr;
    out_.append(digits, end);
  }
  void put(const Timestamp& t) { put(codec::format_rfc3339(t)); }
  template <class Tag>
  void put(const Id<Tag>& id) {
    put(id.str());
  }
  template <class T>
  void put(const std::optional<T>& value) {
    if (value) {
      put(*value);
    } else {
      out_.append("null");
    }
  }
  template <class T>
  void put(const std::vector<T>& items) {
    out_.push_back('[');
    for (std::size_t i = 0; i < items.size(); ++i) {
      if (i > 0) out_.push_back(',');
      put(items[i]);
    }
    out_.push_back(']');
  }
  template <class T>
  requires requires(TextFields& fields, const T& value) { write_fields(fields, value); }
  void put(const T& object) {
    TextFields inner(out_);
    write_fields(inner, object);
    inner.close();
  }

  std::string& out_;
  bool first_ = true;
};

// A count: a whole number from 0 to 2^32-1; anything else is malformed.
std::uint32_t count_at(const json& j, const char* key) {
  const json& value = j.at(key);
  if (!value.is_number_unsigned() || value.get<std::uint64_t>() > UINT32_MAX) {
    throw json::type_error::create(302, std::string(key) + " must be a whole number from 0 to 4294967295", &value);
  }
  return value.get<std::uint32_t>();
}

}  // namespace

void to_json(json& j, const Money& m) {
  JsonFields fields(j);
  write_fields(fields, m);
}
void from_json(const json& j, Money& m) {
  if (!j.at("amount").is_number_integer()) throw json::type_error::create(302, "amount must be a whole number", &j);
  j.at("amount").get_to(m.amount);
  j.at("currency").get_to(m.currency);
}

void to_json(json& j, const Participant& p) {
  JsonFields fields(j);
  write_fields(fields, p);
}
void from_json(const json& j, Participant& p) {
  j.at("email").get_to(p.email);
  p.name = j.value("name", "");
  p.group = j.value("group", "");
  p.region = j.value("region", "");
  p.external_id = j.value("external_id", "");
}

void to_json(json& j, const Restrictions& r) {
  JsonFields fields(j);
  write_fields(fields, r);
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

void from_json(const json& j, ContractCreated& e) {
  get_id(j, "org", e.org);
  get_id(j, "contract_id", e.contract);
  j.at("name").get_to(e.name);
  j.at("reuse_cancelled_codes").get_to(e.reuse_cancelled_codes);
  get_optional(j, "default_price", e.default_price);
}

void from_json(const json& j, SessionCreated& e) {
  get_id(j, "org", e.org);
  get_id(j, "session_id", e.session);
  j.at("name").get_to(e.name);
  e.capacity = count_at(j, "capacity");
  get_optional_id(j, "contract_id", e.contract);
  get_optional(j, "opens_at", e.opens_at);
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
  e.in_chunks = j.value("in_chunks", false);
}

void from_json(const json& j, BatchChunkIssued& e) {
  e.from = count_at(j, "from");
  e.count = count_at(j, "count");
}

void from_json(const json& j, CodeIssued& e) {
  get_id(j, "org", e.org);
  j.at("code").get_to(e.code);
  get_id(j, "batch_id", e.batch);
  get_optional(j, "assignee", e.assignee);
  get_optional(j, "price", e.price);
}

void from_json(const json& j, CodeRedeemed& e) {
  get_id(j, "registration_id", e.registration);
  j.at("participant").get_to(e.participant);
  get_id(j, "session_id", e.session);
  j.at("at").get_to(e.at);
  get_optional_id(j, "invitation_id", e.invitation);
  e.superseded = ids_from<InvitationTag>(j, "superseded");
}

void from_json(const json& j, SeatRegistered& e) {
  get_id(j, "registration_id", e.registration);
  get_optional_id(j, "invitation_id", e.invitation);
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

void from_json(const json& j, ContractConfigured& e) {
  j.at("name").get_to(e.name);
  j.at("reuse_cancelled_codes").get_to(e.reuse_cancelled_codes);
  get_optional(j, "default_price", e.default_price);
}

void from_json(const json& j, SessionCapacityChanged& e) { e.capacity = count_at(j, "capacity"); }

void from_json(const json& j, SessionEdited& e) {
  j.at("name").get_to(e.name);
  get_optional(j, "opens_at", e.opens_at);
}

void from_json(const json& j, SeatReserved& e) {
  get_id(j, "invitation_id", e.invitation);
  j.at("over_capacity").get_to(e.over_capacity);
}

void from_json(const json& j, SeatReleased& e) { get_id(j, "invitation_id", e.invitation); }

void from_json(const json& j, SeatFreed& e) { get_id(j, "registration_id", e.registration); }

void from_json(const json& j, CodeAssigned& e) { j.at("participant").get_to(e.participant); }

void from_json(const json& j, CodeEdited& e) {
  get_optional(j, "note", e.note);
  get_optional(j, "price", e.price);
  get_optional(j, "valid_from", e.valid_from);
  get_optional(j, "valid_until", e.valid_until);
}

void from_json(const json&, CodeArchived&) {}
void from_json(const json&, CodeDeleted&) {}

void from_json(const json& j, CodeInvitationAttached& e) {
  get_id(j, "invitation_id", e.invitation);
  get_id(j, "session_id", e.session);
}

void from_json(const json& j, CodeInvitationDetached& e) { get_id(j, "invitation_id", e.invitation); }

void from_json(const json& j, CodeUseReleased& e) {
  get_id(j, "registration_id", e.registration);
  j.at("unassign").get_to(e.unassign);
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

void from_json(const json& j, InvitationResent& e) { j.at("at").get_to(e.at); }
void from_json(const json& j, InvitationCancelled& e) { j.at("at").get_to(e.at); }
void from_json(const json& j, InvitationExpired& e) { j.at("at").get_to(e.at); }

void from_json(const json& j, InvitationSuperseded& e) {
  get_id(j, "by_registration_id", e.by);
  j.at("at").get_to(e.at);
}

void from_json(const json& j, InvitationAccepted& e) {
  get_id(j, "registration_id", e.registration);
  j.at("at").get_to(e.at);
}

void from_json(const json& j, RegistrationCancelled& e) {
  j.at("at").get_to(e.at);
  j.at("code_reusable").get_to(e.code_reusable);
}

void from_json(const json& j, RegistrationRevoked& e) { j.at("at").get_to(e.at); }

void from_json(const json& j, RegistrationAccessChanged& e) { get_optional(j, "access_until", e.access_until); }

}  // namespace tessera::domain

namespace tessera::codec {

nlohmann::json event_to_json(const domain::Event& event) {
  return std::visit(
      [](const auto& e) {
        nlohmann::json j;
        domain::JsonFields fields(j);
        write_fields(fields, e);
        return j;
      },
      event);
}

std::string encode_event(const domain::Event& event) {
  std::string out;
  std::visit(
      [&](const auto& e) {
        domain::TextFields fields(out);
        write_fields(fields, e);
        fields.close();
      },
      event);
  return out;
}

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
