// tessera-projector: the read models, built from Kafka and served over HTTP.
// Consumes the relay's topics in a consumer group (kafka/projector.h), keeps
// the models in its own RocksDB and answers the same queries as tesserad,
// with the same JSON; it accepts no writes (405). Stops on SIGINT or SIGTERM.
#include <utility>  // Boost 1.74's asio needs it first on GCC 12

#include <spdlog/spdlog.h>
#include <CLI/CLI.hpp>

#include <filesystem>
#include <optional>

#include "tessera/api/claim_tokens.h"
#include "tessera/api/server.h"
#include "tessera/kafka/projector.h"

namespace {

using nlohmann::json;

json consumer_status(const tessera::kafka::ProjectorStatus& s) {
  json partitions = json::array();
  for (const auto& p : s.partitions) {
    partitions.push_back({{"topic", p.topic},
                          {"partition", p.partition},
                          {"offset", p.next},
                          {"end", p.end ? json(*p.end) : json(nullptr)},
                          {"lag", p.end ? json(std::max<std::int64_t>(0, *p.end - p.next)) : json(nullptr)}});
  }
  return {{"lag", s.lag ? json(*s.lag) : json(nullptr)},
          {"messages", s.messages},
          {"applied", s.applied},
          {"duplicates", s.duplicates},
          {"stalled_at", s.stalled ? json{{"topic", s.stalled->at.topic},
                                          {"partition", s.stalled->at.partition},
                                          {"offset", s.stalled->at.offset}}
                                   : json(nullptr)},
          {"stall_reason", s.stalled ? json(s.stalled->reason) : json(nullptr)},
          {"stall_attempts", s.stalled ? s.stalled->attempts : std::uint64_t{0}},
          {"partitions", std::move(partitions)}};
}

}  // namespace

int main(int argc, char** argv) {
  CLI::App app{"tessera-projector: Tessera's read models, built from Kafka, served over HTTP"};
  std::string kafka;
  std::string data_dir = "./projector-data";
  std::string listen = "127.0.0.1:8081";
  std::string group = "tessera-projector";
  std::string claim_key;
  int session_timeout_ms = 10'000;
  app.add_option("--kafka", kafka, "BROKERS (host:port,...) the relay publishes to")->required();
  app.add_option("--data-dir", data_dir, "where the read models live")->capture_default_str();
  app.add_option("--listen", listen, "HOST:PORT to serve HTTP on (port 0: any free port)")->capture_default_str();
  app.add_option("--group", group, "Kafka consumer group (one per projector that serves queries)")
      ->capture_default_str();
  app.add_option("--claim-key", claim_key,
                 "tesserad's claim.key, to serve invitations with their claim tokens (else null)");
  app.add_option("--session-timeout-ms", session_timeout_ms,
                 "how long the group waits for a vanished member before reassigning its partitions")
      ->capture_default_str()
      ->check(CLI::PositiveNumber);
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

  const std::filesystem::path root(data_dir);
  auto models = tessera::projections::ReadModels::open(root / "readmodels");
  if (!models) {
    spdlog::error("cannot open the read models in {}: {}", (root / "readmodels").string(), models.error().message());
    return 1;
  }

  std::optional<tessera::api::ClaimTokens> claims;
  if (!claim_key.empty()) {
    // The server's key, read only: a key made up here would serve tokens
    // that tesserad refuses.
    std::error_code missing;
    if (!std::filesystem::is_regular_file(claim_key, missing)) {
      spdlog::error("--claim-key {}: no such file", claim_key);
      return 2;
    }
    auto opened = tessera::api::ClaimTokens::open(claim_key);
    if (!opened) {
      spdlog::error("cannot read the claim key {}: {}", claim_key, opened.error().message());
      return 1;
    }
    claims = std::move(opened).value();
  }

  tessera::kafka::ProjectorOptions options;
  options.bootstrap = kafka;
  options.group = group;
  options.session_timeout = std::chrono::milliseconds(session_timeout_ms);
  tessera::kafka::Projector projector(*models.value(), options);
  if (auto started = projector.start(); !started) {
    spdlog::error("cannot consume from {}: {}", kafka, started.error().message());
    return 1;
  }

  tessera::api::GuessLimiter guesses;
  tessera::api::Handler handler(
      tessera::api::Services{nullptr, *models.value(), claims ? &*claims : nullptr, guesses, [&]() -> json {
                               return {{"kafka_bootstrap", kafka},
                                       {"kafka_group", group},
                                       {"events_applied", models.value()->applied_events()},
                                       {"consumer", consumer_status(projector.status())}};
                             }});

  std::unique_ptr<tessera::api::Server> server;
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
  spdlog::info("tessera-projector listening on http://{}:{} (kafka {}, group {}, events applied {})", endpoint->host,
               server->port(), kafka, group, models.value()->applied_events());
  server->run();

  projector.stop();
  spdlog::info("tessera-projector stopped");
  return 0;
}
