#include "body_reader.h"

#include "tessera/domain/errc.h"

#include "tessera/codec/time.h"

namespace tessera::api::detail {

result<void> BodyReader::finish() const {
  if (problem_) return Error(domain::errc::validation, *problem_);
  return outcome::success();
}

using nlohmann::json;

BodyReader::BodyReader(const json& body) : body_(body) {
  if (!body_.is_object()) fail("body", "must be a JSON object");
}

const json* BodyReader::find(const char* key) {
  if (!body_.is_object()) return nullptr;
  const auto it = body_.find(key);
  return (it == body_.end() || it->is_null()) ? nullptr : &*it;
}

void BodyReader::fail(const std::string& field, const std::string& what) {
  if (!problem_) problem_ = field + " " + what;
}

std::string BodyReader::text(const char* key, bool required) {
  const json* value = find(key);
  if (!value) {
    if (required) fail(key, "is required");
    return {};
  }
  if (!value->is_string()) {
    fail(key, "must be a string");
    return {};
  }
  return value->get<std::string>();
}

std::optional<std::string> BodyReader::optional_text(const char* key) {
  if (!find(key)) return std::nullopt;
  return text(key, true);
}

std::uint32_t BodyReader::count(const char* key, std::optional<std::uint32_t> fallback) {
  const json* value = find(key);
  if (!value) {
    if (!fallback) fail(key, "is required");
    return fallback.value_or(0);
  }
  if (!value->is_number_unsigned() || value->get<std::uint64_t>() > UINT32_MAX) {
    fail(key, "must be a whole number from 0 to 4294967295");
    return 0;
  }
  return value->get<std::uint32_t>();
}

bool BodyReader::flag(const char* key, bool fallback) {
  const json* value = find(key);
  if (!value) return fallback;
  if (!value->is_boolean()) {
    fail(key, "must be true or false");
    return fallback;
  }
  return value->get<bool>();
}

std::optional<domain::Money> BodyReader::money(const char* key) {
  const json* value = find(key);
  if (!value) return std::nullopt;
  const auto amount = value->is_object() ? value->find("amount") : value->end();
  const auto currency = value->is_object() ? value->find("currency") : value->end();
  if (!value->is_object() || amount == value->end() || !amount->is_number_integer() || currency == value->end() ||
      !currency->is_string()) {
    fail(key, "must be {\"amount\": minor units, \"currency\": \"EUR\"}");
    return std::nullopt;
  }
  return domain::Money{amount->get<std::int64_t>(), currency->get<std::string>()};
}

std::optional<domain::Timestamp> BodyReader::time(const char* key) {
  const json* value = find(key);
  if (!value) return std::nullopt;
  std::optional<domain::Timestamp> parsed;
  if (value->is_string()) parsed = codec::parse_rfc3339(value->get<std::string>());
  if (!parsed) fail(key, "must be an RFC 3339 time such as 2026-12-01T09:00:00Z");
  return parsed;
}

std::optional<domain::Participant> BodyReader::read_participant(const json& value, const std::string& field) {
  if (!value.is_object()) {
    fail(field, "must be an object with at least an email");
    return std::nullopt;
  }
  domain::Participant p;
  for (auto [name, target] : {std::pair{"email", &p.email}, std::pair{"name", &p.name}, std::pair{"group", &p.group},
                              std::pair{"region", &p.region}, std::pair{"external_id", &p.external_id}}) {
    const auto it = value.find(name);
    if (it == value.end() || it->is_null()) continue;
    if (!it->is_string()) {
      fail(field + "." + name, "must be a string");
      return std::nullopt;
    }
    *target = it->get<std::string>();
  }
  if (p.email.empty()) {
    fail(field + ".email", "is required");
    return std::nullopt;
  }
  return p;
}

domain::Participant BodyReader::participant(const char* key) {
  const json* value = find(key);
  if (!value) {
    fail(key, "is required");
    return {};
  }
  return read_participant(*value, key).value_or(domain::Participant{});
}

std::vector<domain::Participant> BodyReader::participants(const char* key) {
  std::vector<domain::Participant> out;
  const json* value = find(key);
  if (!value) return out;
  if (!value->is_array()) {
    fail(key, "must be an array of participants");
    return out;
  }
  out.reserve(value->size());
  for (std::size_t i = 0; i < value->size(); ++i) {
    auto p = read_participant((*value)[i], std::string(key) + "[" + std::to_string(i) + "]");
    if (!p) return {};
    out.push_back(std::move(*p));
  }
  return out;
}

std::vector<std::string> BodyReader::strings(const json& parent, const char* key, const std::string& field) {
  std::vector<std::string> out;
  const auto it = parent.find(key);
  if (it == parent.end() || it->is_null()) return out;
  if (!it->is_array()) {
    fail(field, "must be an array of strings");
    return out;
  }
  for (const auto& item : *it) {
    if (!item.is_string()) {
      fail(field, "must be an array of strings");
      return {};
    }
    out.push_back(item.get<std::string>());
  }
  return out;
}

domain::Restrictions BodyReader::restrictions(const char* key) {
  domain::Restrictions r;
  const json* value = find(key);
  if (!value) return r;
  if (!value->is_object()) {
    fail(key, "must be an object");
    return r;
  }
  const std::string prefix = std::string(key) + ".";
  r.emails = strings(*value, "emails", prefix + "emails");
  r.email_domains = strings(*value, "email_domains", prefix + "email_domains");
  r.regions = strings(*value, "regions", prefix + "regions");
  r.groups = strings(*value, "groups", prefix + "groups");
  return r;
}

}  // namespace tessera::api::detail
