#include "documents.h"

#include <algorithm>
#include <limits>
#include <type_traits>
#include <utility>

#include "tessera/codec/json.h"
#include "tessera/eventstore/errc.h"

namespace tessera::projections::detail {
namespace {

using nlohmann::json;
namespace d = tessera::domain;
using eventstore::errc;

template <class T>
inline constexpr bool kIsId = false;
template <class Tag>
inline constexpr bool kIsId<d::Id<Tag>> = true;

// --- the stored form ------------------------------------------------------
// Instants are stored as microseconds: no RFC 3339 to parse on every read.

template <class T>
json stored(const T& value) {
  if constexpr (kIsId<T>) {
    return value.str();
  } else if constexpr (std::is_same_v<T, d::Timestamp>) {
    return value.micros;
  } else {
    return json(value);  // a bool, a number, a string, or the domain's Money or Participant
  }
}
template <class T>
json stored(const std::optional<T>& value) {
  return value ? stored(*value) : json(nullptr);
}

// Thrown by Fields and caught by decode(): never leaves this file. Reading a
// struct field by field is simplest with a throw at the first that fails.
struct Unreadable {
  std::string field;
  std::string why;
};

// The members of one stored JSON object, each read as the type it is stored
// into; a missing one, a mistyped one or one out of range is Unreadable.
class Fields {
 public:
  Fields(const json& object, std::string path) : j_(object), path_(std::move(path)) {
    if (!j_.is_object()) throw Unreadable{path_.empty() ? "the document" : path_, "is not an object"};
  }

  template <class T>
  void get(const char* key, T& out) const {
    out = read<T>(at(key), name(key));
  }
  // null reads as nullopt; a missing key is still Unreadable.
  template <class T>
  void get(const char* key, std::optional<T>& out) const {
    const json& value = at(key);
    if (value.is_null()) {
      out.reset();
    } else {
      out = read<T>(value, name(key));
    }
  }
  Fields nested(const char* key) const { return Fields(at(key), name(key)); }
  bool null(const char* key) const { return at(key).is_null(); }

  // A status stored as its domain slug (to_string), one of `all`.
  template <class Status, std::size_t N>
  void get_status(const char* key, Status& out, const std::array<Status, N>& all) const {
    const auto slug = read<std::string>(at(key), name(key));
    const auto it = std::ranges::find_if(all, [&](Status s) { return d::to_string(s) == slug; });
    if (it == all.end()) throw Unreadable{name(key), "is no status: " + slug};
    out = *it;
  }

 private:
  const json& at(const char* key) const {
    const auto it = j_.find(key);
    if (it == j_.end()) throw Unreadable{name(key), "is missing"};
    return *it;
  }
  std::string name(const char* key) const { return path_.empty() ? std::string(key) : path_ + "." + key; }

  template <class T>
  static T read(const json& value, const std::string& field) {
    if constexpr (std::is_same_v<T, bool>) {
      if (!value.is_boolean()) throw Unreadable{field, "is not a boolean"};
      return value.get<bool>();
    } else if constexpr (std::is_integral_v<T> && std::is_unsigned_v<T>) {
      if (!value.is_number_unsigned() || value.get<std::uint64_t>() > std::numeric_limits<T>::max()) {
        throw Unreadable{field, "is not a count in range"};
      }
      return static_cast<T>(value.get<std::uint64_t>());
    } else if constexpr (std::is_same_v<T, std::int64_t>) {
      if (!value.is_number_integer() ||
          (value.is_number_unsigned() &&
           value.get<std::uint64_t>() > static_cast<std::uint64_t>(std::numeric_limits<std::int64_t>::max()))) {
        throw Unreadable{field, "is not a whole number in range"};
      }
      return value.get<std::int64_t>();
    } else if constexpr (std::is_same_v<T, std::string>) {
      if (!value.is_string()) throw Unreadable{field, "is not a string"};
      return value.get<std::string>();
    } else if constexpr (std::is_same_v<T, d::Timestamp>) {
      return d::Timestamp{read<std::int64_t>(value, field)};
    } else if constexpr (kIsId<T>) {
      return T(read<std::string>(value, field));
    } else {
      // Money, Participant: the domain's codec, which throws its own.
      try {
        return value.get<T>();
      } catch (const json::exception& e) {
        throw Unreadable{field, e.what()};
      }
    }
  }

  const json& j_;
  std::string path_;
};

constexpr std::array kInvitationStatuses = {d::InvitationStatus::pending, d::InvitationStatus::accepted,
                                            d::InvitationStatus::cancelled, d::InvitationStatus::superseded,
                                            d::InvitationStatus::expired};
constexpr std::array kRegistrationStatuses = {d::RegistrationStatus::active, d::RegistrationStatus::cancelled,
                                              d::RegistrationStatus::revoked};

// One stored() and one read() per struct: the only places its stored keys are named.

json stored(const ContractDoc& doc) {
  return {{"v", doc.version},
          {"org", stored(doc.org)},
          {"id", stored(doc.id)},
          {"name", doc.name},
          {"reuse_cancelled_codes", doc.reuse_cancelled_codes},
          {"default_price", stored(doc.default_price)}};
}
void read(const Fields& f, ContractDoc& doc) {
  f.get("v", doc.version);
  f.get("org", doc.org);
  f.get("id", doc.id);
  f.get("name", doc.name);
  f.get("reuse_cancelled_codes", doc.reuse_cancelled_codes);
  f.get("default_price", doc.default_price);
}

json stored(const SessionDoc& doc) {
  return {{"v", doc.version},
          {"org", stored(doc.org)},
          {"id", stored(doc.id)},
          {"name", doc.name},
          {"contract", stored(doc.contract)},
          {"opens_at", stored(doc.opens_at)},
          {"capacity", doc.seats.capacity},
          {"reserved", doc.seats.reserved},
          {"registered", doc.seats.registered}};
}
void read(const Fields& f, SessionDoc& doc) {
  f.get("v", doc.version);
  f.get("org", doc.org);
  f.get("id", doc.id);
  f.get("name", doc.name);
  f.get("contract", doc.contract);
  f.get("opens_at", doc.opens_at);
  f.get("capacity", doc.seats.capacity);
  f.get("reserved", doc.seats.reserved);
  f.get("registered", doc.seats.registered);
}

json stored(const BatchTerms& terms) {
  return {{"contract", stored(terms.contract)},
          {"session", stored(terms.session)},
          {"price", stored(terms.price)},
          {"note", terms.note},
          {"valid_from", stored(terms.valid_from)},
          {"valid_until", stored(terms.valid_until)},
          {"max_uses", terms.max_uses}};
}
void read(const Fields& f, BatchTerms& terms) {
  f.get("contract", terms.contract);
  f.get("session", terms.session);
  f.get("price", terms.price);
  f.get("note", terms.note);
  f.get("valid_from", terms.valid_from);
  f.get("valid_until", terms.valid_until);
  f.get("max_uses", terms.max_uses);
}

json stored(const BatchDoc& doc) {
  return {{"v", doc.version}, {"org", stored(doc.org)}, {"id", stored(doc.id)}, {"terms", stored(doc.terms)}};
}
void read(const Fields& f, BatchDoc& doc) {
  f.get("v", doc.version);
  f.get("org", doc.org);
  f.get("id", doc.id);
  read(f.nested("terms"), doc.terms);
}

json stored(const CodeDoc& doc) {
  return {{"v", doc.version},
          {"org", stored(doc.org)},
          {"code", doc.code},
          {"batch", stored(doc.batch)},
          {"pos", doc.pos},
          {"assignee", stored(doc.assignee)},
          {"uses", doc.uses},
          {"price", stored(doc.price)},
          {"note", stored(doc.note)},
          {"valid_from", stored(doc.valid_from)},
          {"valid_until", stored(doc.valid_until)},
          {"archived", doc.archived},
          {"deleted", doc.deleted},
          {"last_redeemer", stored(doc.last_redeemer)},
          {"terms", doc.terms ? stored(*doc.terms) : json(nullptr)}};
}
void read(const Fields& f, CodeDoc& doc) {
  f.get("v", doc.version);
  f.get("org", doc.org);
  f.get("code", doc.code);
  f.get("batch", doc.batch);
  f.get("pos", doc.pos);
  f.get("assignee", doc.assignee);
  f.get("uses", doc.uses);
  f.get("price", doc.price);
  f.get("note", doc.note);
  f.get("valid_from", doc.valid_from);
  f.get("valid_until", doc.valid_until);
  f.get("archived", doc.archived);
  f.get("deleted", doc.deleted);
  f.get("last_redeemer", doc.last_redeemer);
  if (f.null("terms")) {
    doc.terms.reset();
  } else {
    read(f.nested("terms"), doc.terms.emplace());
  }
}

json stored(const InvitationDoc& doc) {
  return {{"v", doc.version},
          {"org", stored(doc.org)},
          {"id", stored(doc.id)},
          {"status", d::to_string(doc.status)},
          {"participant", stored(doc.participant)},
          {"code", stored(doc.code)},
          {"session", stored(doc.session)},
          {"expires_at", stored(doc.expires_at)},
          {"bind_to_email", doc.bind_to_email},
          {"over_capacity", doc.over_capacity},
          {"sent_at", stored(doc.sent_at)},
          {"resent_at", stored(doc.resent_at)},
          {"ended_at", stored(doc.ended_at)},
          {"registration", stored(doc.registration)},
          {"pos", doc.pos}};
}
void read(const Fields& f, InvitationDoc& doc) {
  f.get("v", doc.version);
  f.get("org", doc.org);
  f.get("id", doc.id);
  f.get_status("status", doc.status, kInvitationStatuses);
  f.get("participant", doc.participant);
  f.get("code", doc.code);
  f.get("session", doc.session);
  f.get("expires_at", doc.expires_at);
  f.get("bind_to_email", doc.bind_to_email);
  f.get("over_capacity", doc.over_capacity);
  f.get("sent_at", doc.sent_at);
  f.get("resent_at", doc.resent_at);
  f.get("ended_at", doc.ended_at);
  f.get("registration", doc.registration);
  f.get("pos", doc.pos);
}

json stored(const RegistrationDoc& doc) {
  return {{"v", doc.version},
          {"org", stored(doc.org)},
          {"id", stored(doc.id)},
          {"code", stored(doc.code)},
          {"participant", stored(doc.participant)},
          {"session", stored(doc.session)},
          {"price", stored(doc.price)},
          {"status", d::to_string(doc.status)},
          {"access_from", stored(doc.access_from)},
          {"access_until", stored(doc.access_until)},
          {"invitation", stored(doc.invitation)},
          {"ended_at", stored(doc.ended_at)},
          {"pos", doc.pos}};
}
void read(const Fields& f, RegistrationDoc& doc) {
  f.get("v", doc.version);
  f.get("org", doc.org);
  f.get("id", doc.id);
  f.get("code", doc.code);
  f.get("participant", doc.participant);
  f.get("session", doc.session);
  f.get("price", doc.price);
  f.get_status("status", doc.status, kRegistrationStatuses);
  f.get("access_from", doc.access_from);
  f.get("access_until", doc.access_until);
  f.get("invitation", doc.invitation);
  f.get("ended_at", doc.ended_at);
  f.get("pos", doc.pos);
}

// A summary is stored as it is served.
json stored(const ContractSummary& doc) { return body(doc); }
void read(const Fields& f, ContractSummary& doc) {
  f.get("total", doc.total);
  for (const auto status : d::kCodeStatuses) f.get(std::string(d::to_string(status)).c_str(), doc.of(status));
}

// --- the served form --------------------------------------------------------
// Ids as strings, instants as RFC 3339, absent values as null.

template <class T>
json served(const T& value) {
  if constexpr (kIsId<T>) {
    return value.str();
  } else {
    return json(value);  // a Timestamp through the domain's codec: RFC 3339
  }
}
template <class T>
json served(const std::optional<T>& value) {
  return value ? served(*value) : json(nullptr);
}

d::CodeStatusFacts facts(const CodeDoc& code, const BatchTerms& terms) {
  return {code.archived, code.uses, terms.max_uses, code.assignee.has_value()};
}

}  // namespace

std::optional<d::CodeStatus> status(const CodeDoc& code) {
  if (code.deleted || !code.terms) return std::nullopt;
  return d::code_status(facts(code, *code.terms));
}

std::optional<d::Participant> participant(const CodeDoc& code) {
  if (code.assignee) return code.assignee;
  return d::exhausted(facts(code, *code.terms)) ? code.last_redeemer : std::nullopt;
}

std::uint64_t& ContractSummary::of(d::CodeStatus status) {
  const auto it = std::ranges::find(d::kCodeStatuses, status);
  return by_status[static_cast<std::size_t>(it - d::kCodeStatuses.begin())];
}

std::string encode(const ContractDoc& doc) { return stored(doc).dump(); }
std::string encode(const SessionDoc& doc) { return stored(doc).dump(); }
std::string encode(const BatchDoc& doc) { return stored(doc).dump(); }
std::string encode(const CodeDoc& doc) { return stored(doc).dump(); }
std::string encode(const InvitationDoc& doc) { return stored(doc).dump(); }
std::string encode(const RegistrationDoc& doc) { return stored(doc).dump(); }
std::string encode(const ContractSummary& doc) { return stored(doc).dump(); }

template <class Doc>
result<Doc> decode(std::string_view key, std::string_view text) {
  const json j = json::parse(text, nullptr, /*allow_exceptions=*/false);
  if (j.is_discarded()) return Error(errc::corruption, "read models: " + std::string(key) + " is not JSON");
  try {
    Doc doc;
    read(Fields(j, {}), doc);
    return doc;
  } catch (const Unreadable& unreadable) {
    return Error(errc::corruption, "read models: " + std::string(key) + ": " + unreadable.field + " " + unreadable.why);
  }
}

template result<ContractDoc> decode<ContractDoc>(std::string_view, std::string_view);
template result<SessionDoc> decode<SessionDoc>(std::string_view, std::string_view);
template result<BatchDoc> decode<BatchDoc>(std::string_view, std::string_view);
template result<CodeDoc> decode<CodeDoc>(std::string_view, std::string_view);
template result<InvitationDoc> decode<InvitationDoc>(std::string_view, std::string_view);
template result<RegistrationDoc> decode<RegistrationDoc>(std::string_view, std::string_view);
template result<ContractSummary> decode<ContractSummary>(std::string_view, std::string_view);

json body(const ContractDoc& doc) {
  return {{"id", served(doc.id)},
          {"org", served(doc.org)},
          {"name", doc.name},
          {"reuse_cancelled_codes", doc.reuse_cancelled_codes},
          {"default_price", served(doc.default_price)}};
}

json body(const SessionDoc& doc) {
  return {{"id", served(doc.id)},
          {"org", served(doc.org)},
          {"name", doc.name},
          {"capacity", doc.seats.capacity},
          {"contract_id", served(doc.contract)},
          {"opens_at", served(doc.opens_at)},
          {"reserved", doc.seats.reserved},
          {"registered", doc.seats.registered},
          {"available", doc.seats.available()}};
}

std::optional<json> body(const CodeDoc& doc) {
  const auto shown = status(doc);
  if (!shown) return std::nullopt;
  const BatchTerms& terms = *doc.terms;
  return json{
      {"code", doc.code},
      {"org", served(doc.org)},
      {"status", d::to_string(*shown)},
      {"uses", doc.uses},
      {"max_uses", terms.max_uses},
      {"price", served(d::own_else_batch(doc.price, terms.price))},
      {"participant", served(participant(doc))},
      {"batch_id", served(doc.batch)},
      {"session_id", served(terms.session)},
      {"contract_id", served(terms.contract)},
      {"note", served(d::own_else_batch(doc.note, std::optional<std::string>(terms.note)))},
      {"valid_from", served(d::own_else_batch(doc.valid_from, terms.valid_from))},
      {"valid_until", served(d::own_else_batch(doc.valid_until, terms.valid_until))},
  };
}

json body(const InvitationDoc& doc) {
  return {{"id", served(doc.id)},
          {"org", served(doc.org)},
          {"status", d::to_string(doc.status)},
          {"participant", served(doc.participant)},
          {"code", served(doc.code)},
          {"session_id", served(doc.session)},
          {"expires_at", served(doc.expires_at)},
          {"bind_to_email", doc.bind_to_email},
          {"over_capacity", doc.over_capacity},
          {"sent_at", served(doc.sent_at)},
          {"resent_at", served(doc.resent_at)},
          {"ended_at", served(doc.ended_at)},
          {"registration_id", served(doc.registration)}};
}

json body(const RegistrationDoc& doc) {
  return {{"id", served(doc.id)},
          {"org", served(doc.org)},
          {"code", served(doc.code)},
          {"participant", served(doc.participant)},
          {"session_id", served(doc.session)},
          {"price", served(doc.price)},
          {"status", d::to_string(doc.status)},
          {"access_from", served(doc.access_from)},
          {"access_until", served(doc.access_until)},
          {"invitation_id", served(doc.invitation)},
          {"ended_at", served(doc.ended_at)}};
}

json body(const ContractSummary& doc) {
  json out{{"total", doc.total}};
  for (std::size_t i = 0; i < d::kCodeStatuses.size(); ++i) out[d::to_string(d::kCodeStatuses[i])] = doc.by_status[i];
  return out;
}

}  // namespace tessera::projections::detail
