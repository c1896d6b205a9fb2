// Internal: what every route handler works with, and the helpers they share
// to read a request and shape a response.
#pragma once

#include <map>
#include <optional>
#include <string>
#include <string_view>
#include <variant>
#include <vector>

#include "tessera/api/handler.h"
#include "tessera/domain/commands.h"

namespace tessera::api::detail {

using nlohmann::json;

// One request being handled.
struct Call {
  const Services& services;
  const Request& request;
  std::vector<std::string> path;  // decoded segments
  std::map<std::string, std::string> query;
  domain::OrgId org;  // path segment 2 under /v1/orgs/; empty elsewhere
  // The request's Idempotency-Key, scoped, with the request's fingerprint;
  // execute() submits commands under it (see idempotency.h).
  std::optional<pipeline::IdempotencyKey> idempotency = std::nullopt;
  // Set when the pipeline replayed a command of this request (its key was
  // already recorded): the answer is rebuilt, and marked as a replay.
  bool replayed = false;

  const std::string& segment(std::size_t i) const { return path.at(i); }
  std::optional<std::string> query_value(const std::string& key) const;
  bool accepts_csv() const;
  std::string header(http::field field) const;
};

Response json_response(http::status status, const json& body);
Response created(const json& body, const std::string& location);
Response csv_response(std::string body);

// The request body as JSON, or the problem with it.
std::variant<json, Response> read_json(const Call& call);

// The version an If-Match header names for `stream`; nullopt without one.
// A malformed If-Match yields a validation problem.
std::variant<std::optional<pipeline::Precondition>, Response> precondition(const Call& call,
                                                                           const domain::StreamId& stream);

// Runs a command under the call's idempotency key, if it has one; the
// accepted result, or the problem that refuses it. A replayed result carries
// the first command's events (so its ids, not `command`'s), and marks the
// call replayed.
std::variant<pipeline::Accepted, Response> execute(Call& call, domain::Command command,
                                                   std::optional<pipeline::Precondition> precondition = {});

// The accepted command's first event of type E, or null. Creates name the
// resource from it: a replayed command's ids are the first command's.
template <class E>
const E* first_event(const pipeline::Accepted& accepted) {
  for (const auto& e : accepted.events) {
    if (const auto* found = std::get_if<E>(&e.event)) return found;
  }
  return nullptr;
}

// Waits until the read models reflect the log up to `position` (so a client
// reads its own writes); false if they lag more than a few seconds.
bool wait_for_models(const Call& call, eventstore::Position position);
// The same, up to the log's head; at once in query-only mode (no log).
bool wait_for_models(const Call& call);

// A document as 200 with its ETag, or 404 `missing_slug` when absent.
Response document_response(const eventstore::result<std::optional<projections::Document>>& found,
                           std::string_view missing_slug, std::string_view what);

// The code key a path segment or body field names; the problem when malformed.
std::variant<std::string, Response> code_key(std::string_view typed);

}  // namespace tessera::api::detail

// Binds `var` to the value of a std::variant<T, Response>, or returns the
// Response (a problem) from the enclosing handler.
#define TESSERA_TAKE(var, expr)                                    \
  auto var##_taken = (expr);                                       \
  if (auto* var##_problem = std::get_if<Response>(&var##_taken)) { \
    return std::move(*var##_problem);                              \
  }                                                                \
  auto& var = std::get<0>(var##_taken)
