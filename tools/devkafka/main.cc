// tessera-devkafka: a Kafka cluster for one machine, so that several Tessera
// processes (tesserad --kafka BROKERS, tessera-projector, kcat) share a broker
// without installing Kafka. It is librdkafka's mock cluster: the real Kafka
// protocol over loopback TCP, data in memory only.
//
// Its first line on stdout is the bootstrap address; then it reads commands,
// one a line, on stdin, and answers each with one line on stdout:
//   down          every broker drops its connections and refuses new ones
//   up            every broker accepts connections again
//   fail N [ERR]  the next N Produce requests fail with Kafka error code ERR
//                 (default 10, MESSAGE_TOO_LARGE, which no client retries)
//   quit          stop
// It runs until `quit`, SIGINT or SIGTERM. The end of stdin only ends the
// commands: started in the background with no terminal, it stays up.
#include <spdlog/sinks/stdout_color_sinks.h>
#include <spdlog/spdlog.h>
#include <CLI/CLI.hpp>

#include <unistd.h>

#include <csignal>
#include <cstdio>
#include <iostream>
#include <memory>
#include <mutex>
#include <sstream>
#include <string>
#include <thread>

#include "tessera/domain/streams.h"
#include "tessera/kafka/embedded_cluster.h"
#include "tessera/kafka/topics.h"

namespace {

using tessera::kafka::EmbeddedCluster;

// Answers go to stdout, one line each, flushed: a script or a test waits for them.
void answer(const std::string& line) {
  std::fputs((line + "\n").c_str(), stdout);
  std::fflush(stdout);
}

// Runs one command line against the cluster; false for `quit`.
bool run_command(EmbeddedCluster& cluster, const std::string& line) {
  std::istringstream in(line);
  std::string verb;
  in >> verb;
  if (verb.empty()) return true;
  if (verb == "quit") return false;
  if (verb == "down" || verb == "up") {
    const auto changed = verb == "down" ? cluster.set_all_brokers_down() : cluster.set_all_brokers_up();
    if (!changed) {
      answer("error " + verb + ": " + changed.error().message());
      return true;
    }
    spdlog::info("tessera-devkafka: every broker {}", verb);
    answer("ok " + verb);
    return true;
  }
  if (verb == "fail") {
    long long count = 0;
    int error_code = 10;
    if (!(in >> count) || count < 1) {
      answer("error fail: say how many Produce requests, e.g. 'fail 3' or 'fail 3 10'");
      return true;
    }
    if (!(in >> error_code)) error_code = 10;
    const auto injected = cluster.fail_next_produce_requests(static_cast<std::size_t>(count), error_code);
    if (!injected) {
      answer("error fail: " + injected.error().message());
      return true;
    }
    spdlog::info("tessera-devkafka: the next {} Produce request(s) fail with error {}", count, error_code);
    answer("ok fail " + std::to_string(count) + " " + std::to_string(error_code));
    return true;
  }
  answer("error unknown command '" + verb + "' (down, up, fail N [ERR], quit)");
  return true;
}

}  // namespace

int main(int argc, char** argv) {
  CLI::App app{"tessera-devkafka: librdkafka's mock Kafka cluster for development and fault drills"};
  int brokers = 3;
  int partitions = 4;
  app.add_option("--brokers", brokers, "brokers in the cluster")->capture_default_str()->check(CLI::Range(1, 16));
  app.add_option("--partitions", partitions, "partitions of each tessera.<category> topic")
      ->capture_default_str()
      ->check(CLI::Range(1, 256));
  CLI11_PARSE(app, argc, argv);

  // stdout carries the bootstrap line and the answers only.
  spdlog::set_default_logger(spdlog::stderr_color_mt("tessera-devkafka"));

  // Signals are taken by sigwait() below; blocked here, before the mock's
  // threads start, so that every thread inherits the mask.
  sigset_t stop_signals;
  sigemptyset(&stop_signals);
  sigaddset(&stop_signals, SIGINT);
  sigaddset(&stop_signals, SIGTERM);
  pthread_sigmask(SIG_BLOCK, &stop_signals, nullptr);
  // In the background of an interactive shell, reading the terminal fails
  // (EIO) instead of stopping the whole process, brokers included.
  std::signal(SIGTTIN, SIG_IGN);
  // Whoever reads our answers may go away; the cluster stays up.
  std::signal(SIGPIPE, SIG_IGN);

  auto started = EmbeddedCluster::start(brokers);
  if (!started) {
    spdlog::error("cannot start the mock cluster: {}", started.error().message());
    return 1;
  }
  // Shared with the command thread, which may outlive main() blocked in a
  // read: the cluster is released under the mutex, so a command never meets
  // a destroyed one.
  struct Shared {
    std::mutex mutex;
    std::unique_ptr<EmbeddedCluster> cluster;
  };
  const auto shared = std::make_shared<Shared>();
  shared->cluster = std::move(started).value();
  EmbeddedCluster& cluster = *shared->cluster;
  for (const auto category : tessera::domain::kStreamCategories) {
    const std::string topic = tessera::kafka::topic_for_category(category);
    if (const auto created = cluster.create_topic(topic, partitions); !created) {
      spdlog::error("cannot create topic {}: {}", topic, created.error().message());
      return 1;
    }
  }
  answer(cluster.bootstrap());
  spdlog::info(
      "tessera-devkafka: {} broker(s) at {}; topics tessera.* with {} partitions; commands: down, "
      "up, fail N [ERR], quit",
      brokers, cluster.bootstrap(), partitions);

  std::thread([shared] {
    std::string line;
    while (std::getline(std::cin, line)) {
      std::lock_guard lock(shared->mutex);
      if (!shared->cluster) return;
      if (!run_command(*shared->cluster, line)) {
        kill(getpid(), SIGTERM);
        return;
      }
    }
    // Logged under the lock: after main() the logger is gone with the cluster.
    std::lock_guard lock(shared->mutex);
    if (shared->cluster) {
      spdlog::info("tessera-devkafka: no more commands (end of stdin); running until SIGINT or SIGTERM");
    }
  }).detach();

  int signal = 0;
  sigwait(&stop_signals, &signal);
  spdlog::info("tessera-devkafka: stopping ({})", signal == SIGINT ? "SIGINT" : "SIGTERM");
  std::lock_guard lock(shared->mutex);
  shared->cluster.reset();
  return 0;
}
