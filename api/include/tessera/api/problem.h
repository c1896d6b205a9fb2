// RFC 9457 problem details (application/problem+json), and the one
// mapping from an error of any layer to its HTTP answer.
#pragma once

#include <string_view>

#include "tessera/api/http.h"
#include "tessera/base/error.h"

namespace tessera::api::detail {

// A problem response whose `type` ends in `slug`.
Response problem(http::status status, std::string_view slug, std::string_view detail);

// The HTTP status an error answers with. A domain refusal and an API error
// have a status each; a precondition that failed is 412 and a reused
// Idempotency-Key 422. Any other error follows its retry advice: retry::call
// (a disk, a broker, a lagging read model) is 503, retry::command 409, and
// retry::no (a fault) 500.
http::status status_for(const Error& error);

// The problem for an error: status_for()'s status, the error's slug and its
// message. A 503 carries Retry-After; a 500 is logged with its cause, since
// the client cannot act on it.
Response problem_for(const Error& error);

}  // namespace tessera::api::detail
