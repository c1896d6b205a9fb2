#include "tessera/codec/state.h"

#include <nlohmann/json.hpp>

#include "tessera/codec/json.h"

namespace tessera::codec {

namespace d = domain;
using nlohmann::json;

namespace {

// The creating event of an aggregate ("its terms") in the log's own JSON form,
// so that a snapshot reads the terms exactly as a fold of the log would.
template <class Terms>
json terms_json(const Terms& terms) {
  return json{{"type", d::event_type(d::Event{terms})}, {"payload", event_to_json(d::Event{terms})}};
}

template <class Terms>
Terms terms_from(const json& j) {
  const auto type = j.at("type").get<std::string>();
  auto event = decode_event(type, d::kEventSchemaVersion, j.at("payload").dump());
  if (!event || !std::holds_alternative<Terms>(*event)) throw std::invalid_argument("snapshot terms");
  return std::get<Terms>(std::move(*event));
}

template <class T>
json optional_json(const std::optional<T>& value) {
  return value ? json(*value) : json(nullptr);
}

template <class T>
std::optional<T> optional_from(const json& j, const char* key) {
  const auto& value = j.at(key);
  if (value.is_null()) return std::nullopt;
  return value.get<T>();
}

std::optional<d::Timestamp> optional_micros(const json& j, const char* key) {
  const auto& value = j.at(key);
  if (value.is_null()) return std::nullopt;
  return d::Timestamp{value.get<std::int64_t>()};
}

json micros_json(const std::optional<d::Timestamp>& t) { return t ? json(t->micros) : json(nullptr); }

json to_json(const d::CodeState& s) {
  json pending = json::array();
  for (const auto& p : s.pending) pending.push_back({p.invitation.str(), p.session.str()});
  return json{{"kind", "code"},
              {"archived", s.archived},
              {"deleted", s.deleted},
              {"org", s.org.str()},
              {"code", s.code},
              {"batch", s.batch.str()},
              {"assignee", optional_json(s.assignee)},
              {"uses", s.uses},
              {"redemptions_ever", s.redemptions_ever},
              {"note", optional_json(s.note)},
              {"price", optional_json(s.price)},
              {"valid_from", micros_json(s.valid_from)},
              {"valid_until", micros_json(s.valid_until)},
              {"pending", std::move(pending)}};
}

d::CodeState code_from(const json& j) {
  d::CodeState s;
  s.exists = true;
  s.archived = j.at("archived").get<bool>();
  s.deleted = j.at("deleted").get<bool>();
  s.org = d::OrgId{j.at("org").get<std::string>()};
  s.code = j.at("code").get<std::string>();
  s.batch = d::BatchId{j.at("batch").get<std::string>()};
  s.assignee = optional_from<d::Participant>(j, "assignee");
  s.uses = j.at("uses").get<std::uint32_t>();
  s.redemptions_ever = j.at("redemptions_ever").get<std::uint32_t>();
  s.note = optional_from<std::string>(j, "note");
  s.price = optional_from<d::Money>(j, "price");
  s.valid_from = optional_micros(j, "valid_from");
  s.valid_until = optional_micros(j, "valid_until");
  for (const auto& p : j.at("pending")) {
    s.pending.push_back({d::InvitationId{p.at(0).get<std::string>()}, d::SessionId{p.at(1).get<std::string>()}});
  }
  return s;
}

json to_json(const d::AggregateState& state) {
  return std::visit(
      [](const auto& s) -> json {
        using S = std::decay_t<decltype(s)>;
        if constexpr (std::is_same_v<S, std::monostate>) {
          return json{{"kind", "none"}};
        } else if constexpr (std::is_same_v<S, d::ContractState>) {
          return json{{"kind", "contract"}, {"terms", terms_json(s.terms)}};
        } else if constexpr (std::is_same_v<S, d::SessionState>) {
          return json{{"kind", "session"},
                      {"terms", terms_json(s.terms)},
                      {"capacity", s.capacity},
                      {"reserved", s.reserved},
                      {"registered", s.registered}};
        } else if constexpr (std::is_same_v<S, d::BatchState>) {
          return json{{"kind", "batch"}, {"terms", terms_json(s.terms)}, {"generated", s.generated}};
        } else if constexpr (std::is_same_v<S, d::CodeState>) {
          return to_json(s);
        } else if constexpr (std::is_same_v<S, d::InvitationState>) {
          return json{{"kind", "invitation"}, {"terms", terms_json(s.terms)}, {"status", static_cast<int>(s.status)}};
        } else {
          static_assert(std::is_same_v<S, d::RegistrationState>);
          return json{{"kind", "registration"}, {"terms", terms_json(s.terms)}, {"status", static_cast<int>(s.status)}};
        }
      },
      state);
}

template <class Enum>
Enum enum_from(const json& j, Enum last) {
  const int value = j.at("status").get<int>();
  if (value < 0 || value > static_cast<int>(last)) throw std::invalid_argument("snapshot status");
  return static_cast<Enum>(value);
}

d::AggregateState from_json(const json& j) {
  const auto kind = j.at("kind").get<std::string>();
  if (kind == "none") return std::monostate{};
  if (kind == "contract") return d::ContractState{true, terms_from<d::ContractCreated>(j.at("terms"))};
  if (kind == "session") {
    d::SessionState s{true, terms_from<d::SessionCreated>(j.at("terms"))};
    s.capacity = j.at("capacity").get<std::uint32_t>();
    s.reserved = j.at("reserved").get<std::uint32_t>();
    s.registered = j.at("registered").get<std::uint32_t>();
    return s;
  }
  if (kind == "batch") {
    return d::BatchState{true, terms_from<d::BatchGenerated>(j.at("terms")), j.at("generated").get<std::uint32_t>()};
  }
  if (kind == "code") return code_from(j);
  if (kind == "invitation") {
    return d::InvitationState{true, terms_from<d::InvitationSent>(j.at("terms")),
                              enum_from(j, d::InvitationStatus::expired)};
  }
  if (kind == "registration") {
    return d::RegistrationState{true, terms_from<d::RegistrationCreated>(j.at("terms")),
                                enum_from(j, d::RegistrationStatus::revoked)};
  }
  throw std::invalid_argument("snapshot kind");
}

}  // namespace

std::string encode_state(const d::AggregateState& state) {
  json j = to_json(state);
  j["format"] = kStateFormat;
  std::visit(
      [&](const auto& s) {
        if constexpr (requires { s.exists; }) j["exists"] = s.exists;
      },
      state);
  return j.dump();
}

std::optional<d::AggregateState> decode_state(std::string_view text) {
  try {
    const json j = json::parse(text);
    if (j.at("format").get<int>() != kStateFormat) return std::nullopt;
    auto state = from_json(j);
    std::visit(
        [&](auto& s) {
          if constexpr (requires { s.exists; }) s.exists = j.at("exists").get<bool>();
        },
        state);
    return state;
  } catch (const std::exception&) {
    return std::nullopt;
  }
}

}  // namespace tessera::codec
