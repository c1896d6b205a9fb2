// Internal: what every route handler works with, and the helpers they share
// to read a request and shape a response.
#pragma once

#include <utility>  // Boost 1.74's asio needs it first on GCC 12

#include <boost/asio/any_io_executor.hpp>

#include <atomic>
#include <functional>
#include <map>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "task.h"
#include "tessera/api/handler.h"
#include "tessera/domain/commands.h"
#include "tessera/domain/errc.h"

namespace tessera::api::detail {

using nlohmann::json;

// One request being handled.
struct Call {
  const Services& services;
  const Request& request;
  // Where the request resumes after waiting for the pipeline or the models.
  boost::asio::any_io_executor executor;
  // The position of the latest write accepted so far, by any request: a
  // query waits for the read models to reach it (read-your-writes).
  std::atomic<std::uint64_t>& accepted_up_to;
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

// What a route answers: the response, or the error it maps to (problem.h).
using Answer = result<Response>;
// A route: a coroutine that answers once its command or query is done.
using Routed = Task<Answer>;

Response json_response(http::status status, const json& body);
Response created(const json& body, const std::string& location);
Response csv_response(std::string body);

// The request body as JSON; api::errc::malformed_json when it is not.
result<json> read_json(const Call& call);

// The version an If-Match header names for `stream`; nullopt without one.
// A malformed If-Match is a validation error.
result<std::optional<pipeline::Precondition>> precondition(const Call& call, const domain::StreamId& stream);

// Runs a command under the call's idempotency key, if it has one: the
// accepted result, or the refusal. A replayed result carries the first
// command's events (so its ids, not `command`'s), and marks the call
// replayed. The request is suspended meanwhile, holding no thread.
Task<result<pipeline::Accepted>> execute(Call& call, domain::Command command,
                                         std::optional<pipeline::Precondition> precondition = {});
// The same under another key than the call's (one of its parts, such as a
// row of an upload), or none.
Task<result<pipeline::Accepted>> submit(Call& call, domain::Command command,
                                        std::optional<pipeline::Precondition> precondition,
                                        std::optional<pipeline::IdempotencyKey> key);

// The accepted command's first event of type E, or null. Creates name the
// resource from it: a replayed command's ids are the first command's.
template <class E>
const E* first_event(const pipeline::Accepted& accepted) {
  for (const auto& e : accepted.events) {
    if (const auto* found = std::get_if<E>(&e.event)) return found;
  }
  return nullptr;
}

// Suspends the request until the read models reflect the log up to
// `position` (so a client reads its own writes); api::errc::models_lagging
// if they lag past the read-your-writes wait.
Task<result<void>> wait_for_models(const Call& call, eventstore::Position position);
// The same, up to every write accepted before this request arrived; at once
// in query-only mode (no log: the models answer as far as they have read).
Task<result<void>> wait_for_models(const Call& call);

// A document as 200 with its ETag; the `missing` refusal when absent.
Answer document_response(const result<std::optional<projections::Document>>& found, domain::errc missing,
                         std::string_view what);

// The answer to an accepted command that shows the resource it wrote: the
// document of `stream` as the command's own events make it, folded by the
// read models' own view over the stored document (ReadModels::preview), so
// it is the JSON and ETag a GET right after it returns; with `status` (and
// `location` if 201 or 202). Events of earlier commands on the stream that
// the models have not applied yet are read from the log and folded first:
// the answer never waits for the projector. `view` shapes the document as
// the organisation sees it (as its GET route does). A document missing is a
// fault (api::errc::internal).
using DocumentView = std::function<std::optional<projections::Document>(projections::Document)>;
Routed written(const Call& call, const pipeline::Accepted& accepted, http::status status, std::string location,
               domain::StreamId stream, DocumentView view = {});

// The code key a path segment or body field names; code_malformed when it
// names none.
result<std::string> code_key(std::string_view typed);

}  // namespace tessera::api::detail
