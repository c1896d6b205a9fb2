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

// Runs a command; the accepted result, or the problem that refuses it.
std::variant<pipeline::Accepted, Response> execute(const Call& call, domain::Command command,
                                                   std::optional<pipeline::Precondition> precondition = {});

// Waits until the read models reflect the log up to `position` (so a client
// reads its own writes); false if they lag more than a few seconds.
bool wait_for_models(const Call& call, eventstore::Position position);

// A document as 200 with its ETag, or 404 `missing_slug` when absent.
Response document_response(const eventstore::result<std::optional<projections::Document>>& found,
                           std::string_view missing_slug, std::string_view what);

// The code key a path segment or body field names; the problem when malformed.
std::variant<std::string, Response> code_key(std::string_view typed);

}  // namespace tessera::api::detail

// Binds `var` to the value of a std::variant<T, Response>, or returns the
// Response (a problem) from the enclosing handler.
#define TESSERA_TAKE(var, expr)                                              \
  auto var##_taken = (expr);                                                 \
  if (auto* var##_problem = std::get_if<Response>(&var##_taken)) {           \
    return std::move(*var##_problem);                                        \
  }                                                                          \
  auto& var = std::get<0>(var##_taken)
