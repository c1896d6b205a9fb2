// tesserad: the Tessera service. Opens the log, starts the command pipeline,
// the projector, the Kafka relay and the HTTP server, and stops them in the
// reverse order on SIGINT or SIGTERM.
#include <utility>  // Boost 1.74's asio needs it first on GCC 12

#include <spdlog/spdlog.h>
#include <CLI/CLI.hpp>

#include <chrono>
#include <filesystem>

#include "batch_resumer.h"
#include "expiry_scheduler.h"
#include "tessera/api/claim_tokens.h"
#include "tessera/api/server.h"
#include "tessera/kafka/embedded_cluster.h"
#include "tessera/kafka/relay.h"
#include "tessera/projections/projector.h"

int main(int argc, char** argv) {
  CLI::App app{"tesserad: invitation and registration codes, event-sourced"};
  std::string data_dir = "./data";
  std::string listen = "127.0.0.1:8080";
  std::string kafka = "embedded";
  app.add_option("--data-dir", data_dir, "where the log and the read models live")->capture_default_str();
  app.add_option("--listen", listen, "HOST:PORT to serve HTTP on (port 0: any free port)")->capture_default_str();
  app.add_option("--kafka", kafka, "embedded | none | BROKERS (host:port,...)")->capture_default_str();
  std::size_t max_connections = tessera::api::ServerOptions{}.max_connections;
  app.add_option("--max-connections", max_connections,
                 "connections open at once; beyond, a new one is closed as it is accepted")
      ->capture_default_str()
      ->check(CLI::PositiveNumber);
  CLI11_PARSE(app, argc, argv);

  const auto endpoint = tessera::api::parse_listen_address(listen);
  if (!endpoint) {
    spdlog::error("--listen must be HOST:PORT, not '{}'", listen);
    return 2;
  }

  namespace es = tessera::eventstore;
  const std::filesystem::path root(data_dir);
  auto log = es::Log::open(root / "log");
  if (!log) {
    spdlog::error("cannot open the log in {}: {}", (root / "log").string(), log.error().message());
    return 1;
  }
  auto models = tessera::projections::ReadModels::open(root / "readmodels");
  if (!models) {
    spdlog::error("cannot open the read models in {}: {}", (root / "readmodels").string(), models.error().message());
    return 1;
  }

  std::unique_ptr<tessera::kafka::EmbeddedCluster> cluster;
  std::unique_ptr<tessera::kafka::Relay> relay;
  std::string bootstrap;
  if (kafka == "embedded") {
    auto started = tessera::kafka::EmbeddedCluster::start();
    if (!started) {
      spdlog::error("cannot start the embedded Kafka cluster: {}", started.error().message());
      return 1;
    }
    cluster = std::move(started).value();
    bootstrap = cluster->bootstrap();
  } else if (kafka != "none") {
    bootstrap = kafka;
  }
  if (!bootstrap.empty()) {
    tessera::kafka::RelayOptions options;
    options.bootstrap = bootstrap;
    // The embedded cluster keeps nothing across restarts: give it everything.
    options.republish_from_start = cluster != nullptr;
    relay = std::make_unique<tessera::kafka::Relay>(*log.value(), options);
    relay->start();
  }

  auto claims = tessera::api::ClaimTokens::open(root / "claim.key");
  if (!claims) {
    spdlog::error("cannot read or create the claim key {}: {}", (root / "claim.key").string(),
                  claims.error().message());
    return 1;
  }

  // Declared before what it serves, so destroyed after it: the pipeline's
  // last answers and the projector's last waits resume requests on the
  // server's executors, which must outlive them.
  std::unique_ptr<tessera::api::Server> server;
  tessera::pipeline::Pipeline pipeline(*log.value(), tessera::pipeline::system_sources());
  tessera::projections::Projector projector(*log.value(), *models.value());
  tessera::tools::ExpiryScheduler expiries(pipeline, *models.value());
  tessera::tools::BatchResumer batches(pipeline, *models.value());
  tessera::api::GuessLimiter guesses;
  // Without a relay (--kafka none) its figures are null in /v1/status and
  // absent from /metrics.
  const auto relay_status = [&]() -> nlohmann::json {
    nlohmann::json status = {
        {"kafka_bootstrap", bootstrap.empty() ? nlohmann::json(nullptr) : nlohmann::json(bootstrap)},
        {"relay_position", nullptr},
        {"relay_lag_events", nullptr},
        {"relay_lag_seconds", nullptr},
        {"relay_producer_restarts", nullptr}};
    // The read models' projector, stopped at an event it cannot fold
    // (projections/stall.h): where and why; null while it follows the log.
    const auto stalled = projector.status().stalled;
    status["projector_stalled_at"] = stalled ? nlohmann::json(stalled->at.value) : nlohmann::json(nullptr);
    status["projector_stall_reason"] = stalled ? nlohmann::json(stalled->reason) : nlohmann::json(nullptr);
    if (!relay) return status;
    const auto published = relay->published().value;
    status["relay_position"] = published;
    status["relay_producer_restarts"] = relay->producer_restarts();
    if (const auto lag = relay->lag(std::chrono::system_clock::now())) {
      status["relay_lag_events"] = lag.value().events;
      status["relay_lag_seconds"] = lag.value().seconds;
    }
    return status;
  };
  const auto relay_metrics = [&]() -> std::vector<tessera::api::Metric> {
    using tessera::api::Metric;
    if (!relay) return {};
    std::vector<Metric> metrics = {
        {"tessera_relay_position", "Position up to which every event is acknowledged by Kafka.", Metric::Kind::gauge,
         static_cast<double>(relay->published().value)},
        {"tessera_relay_producer_restarts_total",
         "Kafka producers the relay replaced after a failure, re-sending from its checkpoint.", Metric::Kind::counter,
         static_cast<double>(relay->producer_restarts())},
    };
    if (const auto lag = relay->lag(std::chrono::system_clock::now())) {
      metrics.push_back({"tessera_relay_lag_events", "Events in the log not yet acknowledged by Kafka.",
                         Metric::Kind::gauge, static_cast<double>(lag.value().events)});
      metrics.push_back({"tessera_relay_lag_seconds",
                         "How long the oldest event not yet acknowledged by Kafka has waited (0 when caught up).",
                         Metric::Kind::gauge, lag.value().seconds});
    }
    return metrics;
  };
  tessera::api::Handler handler(
      tessera::api::Services{&pipeline, *models.value(), &claims.value(), guesses, relay_status, relay_metrics});

  try {
    server = std::make_unique<tessera::api::Server>(
        handler, tessera::api::ServerOptions{
                     .host = endpoint->host, .port = endpoint->port, .max_connections = max_connections});
  } catch (const std::exception& e) {
    spdlog::error("cannot listen on {}: {}", listen, e.what());
    return 1;
  }

  const tessera::api::StopOnSignals stop_on_signals(*server);

  // Tests and scripts read this line to learn the port when --listen asked for 0.
  spdlog::info("tesserad listening on http://{}:{} (log position {}, kafka {})", endpoint->host, server->port(),
               log.value()->head().value, bootstrap.empty() ? "none" : bootstrap);
  server->run();

  if (relay) relay->stop();
  spdlog::info("tesserad stopped");
  return 0;
}
