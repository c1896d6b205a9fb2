// RFC 3339 timestamps (UTC) for the wire and the log's JSON payloads.
#pragma once

#include <optional>
#include <string>
#include <string_view>

#include "tessera/domain/ids.h"

namespace tessera::codec {

// "2026-11-24T10:15:30.123456Z"; the fraction is left out when it is zero.
std::string format_rfc3339(domain::Timestamp t);

// Accepts "YYYY-MM-DDTHH:MM:SS[.frac](Z|±HH:MM)"; nullopt when malformed.
std::optional<domain::Timestamp> parse_rfc3339(std::string_view text);

}  // namespace tessera::codec
