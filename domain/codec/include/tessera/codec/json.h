// JSON forms of the domain's values and events: the payloads written in the
// log, published to Kafka and read by projections. Field names are the API's.
//
// from_json throws nlohmann::json::exception (type_error, out_of_range) on a
// missing or mistyped field; decode_event() turns that into a value.
#pragma once

#include <cstdint>
#include <nlohmann/json.hpp>
#include <optional>
#include <string>
#include <string_view>

#include "tessera/domain/events.h"

namespace tessera::domain {

void to_json(nlohmann::json& j, const Money& m);
void from_json(const nlohmann::json& j, Money& m);
void to_json(nlohmann::json& j, const Participant& p);
void from_json(const nlohmann::json& j, Participant& p);
void to_json(nlohmann::json& j, const Restrictions& r);
void from_json(const nlohmann::json& j, Restrictions& r);
void to_json(nlohmann::json& j, const Timestamp& t);
void from_json(const nlohmann::json& j, Timestamp& t);

}  // namespace tessera::domain

namespace tessera::codec {

// The event's payload (its fields, not its type) as compact JSON.
std::string encode_event(const domain::Event& event);
nlohmann::json event_to_json(const domain::Event& event);

// Reads a payload written by encode_event() under `type` and `schema`.
// nullopt for an unknown type, a newer schema or a malformed payload.
std::optional<domain::Event> decode_event(std::string_view type, std::uint16_t schema, std::string_view payload);

}  // namespace tessera::codec
