// Internal: RFC 9457 problem details (application/problem+json).
#pragma once

#include <string_view>
#include <system_error>

#include "tessera/api/http.h"
#include "tessera/domain/errc.h"

namespace tessera::api::detail {

// A problem response whose `type` ends in `slug`.
Response problem(http::status status, std::string_view slug, std::string_view detail);

// The problem for a refused command or a failed query.
Response problem_for(const std::error_code& code, std::string_view detail);

}  // namespace tessera::api::detail
