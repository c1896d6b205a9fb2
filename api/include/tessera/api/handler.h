// Request handling, apart from the server's sockets: parse, map to a command
// or query, map the result back. No business rule lives here; the domain
// decides.
//
// No thread waits for a disk: a request whose command goes to the pipeline,
// or whose query waits for the read models, is suspended, and its answer
// comes later from the executor it was handed. A thousand slow fsyncs hold
// no thread.
//
// Threading: handle() is safe to call from many threads at once.
#pragma once

#include <utility>  // Boost 1.74's asio needs it first on GCC 12

#include <boost/asio/any_io_executor.hpp>

#include <atomic>
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
  std::chrono::milliseconds read_your_writes = std::chrono::seconds(2);
};

class Handler {
 public:
  // A GET waits for the read models to hold every write accepted before it
  // arrived; at first, everything the log holds (after a restart, the
  // models may still be catching up).
  explicit Handler(Services services);

  // Handles `request` and calls `respond` once with the answer: before
  // handle() returns when nothing had to wait, else later, on `executor`
  // (a connection's strand, for instance). `client` is the peer's address,
  // for the per-address guess limit.
  using Respond = std::move_only_function<void(Response)>;
  void handle(Request request, std::string client, boost::asio::any_io_executor executor, Respond respond) const;

 private:
  Services services_;
  // The latest log position a write was accepted at (read-your-writes).
  mutable std::atomic<std::uint64_t> accepted_up_to_;
};

}  // namespace tessera::api
