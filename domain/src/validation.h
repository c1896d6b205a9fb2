// Internal: field checks shared by the deciders.
#pragma once

#include <optional>
#include <string_view>

#include "tessera/domain/money.h"
#include "tessera/domain/participant.h"
#include "tessera/domain/result.h"

namespace tessera::domain::detail {

// Organisation and resource ids: 1..64 of [A-Za-z0-9_], so that they can stand
// in a stream id and a URL path unescaped.
bool valid_id(std::string_view id);
result<void> check_name(std::string_view field, std::string_view value);
result<void> check_price(std::string_view field, const std::optional<Money>& price);
result<void> check_participant(std::string_view field, const Participant& participant);

}  // namespace tessera::domain::detail
