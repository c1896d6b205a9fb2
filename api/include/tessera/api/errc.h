// Errors of the HTTP layer itself: what is wrong with a request before any
// command or query is made of it, or with answering it. The domain's, the
// pipeline's and the log's errors keep their own categories; the handler maps
// every one to a problem (problem.h). Each code's message is its stable slug,
// the last segment of the problem's `type`.
#pragma once

#include <system_error>

#include "tessera/base/error.h"

namespace tessera::api {

enum class errc {
  malformed_json = 1,  // the body is not JSON
  // The request's framing breaks RFC 9112: a Transfer-Encoding other than
  // chunked, one beside a Content-Length, or a message that does not parse.
  bad_request,
  headers_too_large,   // request line and headers past the limit (431)
  payload_too_large,   // a body past the limit (413)
  route_unknown,       // no such resource: slug "not-found"
  method_not_allowed,  // the resource answers other methods
  // The read models have not caught up with the log within the
  // read-your-writes wait: the same call may succeed in a moment.
  models_lagging,  // slug "unavailable"
  // Too many unknown or malformed codes or tokens from one address.
  rate_limited,
  // An answer kept under an Idempotency-Key cannot be read back, or the read
  // models miss what the log holds: a fault of the server, logged.
  internal,
};

const tessera::error_category& api_category() noexcept;
std::error_code make_error_code(errc e) noexcept;

}  // namespace tessera::api

template <>
struct std::is_error_code_enum<tessera::api::errc> : std::true_type {};
