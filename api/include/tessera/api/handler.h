// Request handling as a function from request to response, apart from the
// server's sockets: parse, map to a command or query, map the result back.
// No business rule lives here; the domain decides.
//
// Threading: handle() is safe to call from many threads at once. It blocks
// until a command's batch is durable, so call it off the I/O threads.
#pragma once

#include <chrono>
#include <functional>
#include <nlohmann/json.hpp>
#include <vector>

#include "tessera/api/claim_tokens.h"
#include "tessera/api/guess_limiter.h"
#include "tessera/api/http.h"
#include "tessera/api/metrics.h"
#include "tessera/pipeline/pipeline.h"
#include "tessera/projections/read_models.h"

namespace tessera::api {

// What the handler borrows; each must outlive it.
//
// Query-only mode (tessera-projector: read models fed from Kafka, no log of
// its own): `pipeline` is null. Then only GET routes are served;
// every other method answers 405 `method-not-allowed` (its `Allow` lists the
// GETs of that path, if any), queries do not wait for a log's head, and
// /v1/status has no `log_position`. Without `claims`, invitations are served
// with null `claim_token` and `claim_url`.
struct Services {
  pipeline::Pipeline* pipeline;  // null: query-only
  const projections::ReadModels& models;
  const ClaimTokens* claims;  // null only in query-only mode
  GuessLimiter& guesses;
  // Figures of the parts outside the request path (the Kafka relay), merged
  // into /v1/status.
  std::function<nlohmann::json()> status;
  // Metrics of those parts, served at GET /metrics after the log's and the
  // read models' positions. Called once per scrape, from any thread.
  std::function<std::vector<Metric>()> metrics = {};
  // How long an answer waits for the read models to reflect the log (so a
  // client reads its own writes) before it says they lag: a GET then answers
  // 503 `unavailable`, a write 202 Accepted.
  std::chrono::milliseconds read_your_writes = std::chrono::seconds(5);
};

class Handler {
 public:
  explicit Handler(Services services) : services_(std::move(services)) {}

  // `client` is the peer's address, for the per-address guess limit.
  Response handle(const Request& request, const std::string& client) const;

 private:
  Services services_;
};

}  // namespace tessera::api
