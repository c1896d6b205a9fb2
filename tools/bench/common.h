// What tessera-bench's subcommands share: the clock, the figures' rounding,
// the process's resources, and the log and pipeline calls every bench makes.
// Header-only; no state.
#pragma once

#include <sys/resource.h>

#include <chrono>
#include <cmath>
#include <filesystem>
#include <memory>
#include <stdexcept>
#include <string>

#include "tessera/codec/json.h"
#include "tessera/domain/commands.h"
#include "tessera/domain/state.h"
#include "tessera/domain/streams.h"
#include "tessera/eventstore/log.h"
#include "tessera/pipeline/pipeline.h"

namespace tessera::bench {

using Clock = std::chrono::steady_clock;

inline const domain::OrgId kOrg{"bench"};

inline double seconds_between(Clock::time_point from, Clock::time_point to) {
  return std::chrono::duration<double>(to - from).count();
}

inline double round_to(double value, int decimals) {
  const double scale = std::pow(10.0, decimals);
  return std::round(value * scale) / scale;
}

// CPU seconds this process has used (all threads, user and system).
inline double cpu_seconds() {
  rusage usage{};
  getrusage(RUSAGE_SELF, &usage);
  const auto seconds = [](const timeval& t) {
    return static_cast<double>(t.tv_sec) + static_cast<double>(t.tv_usec) / 1e6;
  };
  return seconds(usage.ru_utime) + seconds(usage.ru_stime);
}

inline long peak_rss_mb() {
  rusage usage{};
  getrusage(RUSAGE_SELF, &usage);
  return usage.ru_maxrss / 1024;  // Linux reports KiB
}

inline std::unique_ptr<eventstore::Log> open_log(const std::filesystem::path& dir, bool sync) {
  auto log = eventstore::Log::open(dir, eventstore::LogOptions{.sync_writes = sync});
  if (!log) throw std::runtime_error("cannot open the log in " + dir.string() + ": " + log.error().message());
  return std::move(log).value();
}

// Submits and waits; throws when the command is refused.
inline pipeline::Accepted run(pipeline::Pipeline& pipeline, domain::Command command, const char* what) {
  auto outcome = pipeline.submit(std::move(command)).get();
  if (!outcome) throw std::runtime_error(std::string(what) + " refused: " + outcome.error().message());
  return std::move(outcome).value();
}

inline domain::CreateContract contract_command(std::string id) {
  return domain::CreateContract{kOrg, domain::ContractId{std::move(id)}, "Bench", false, std::nullopt};
}

inline domain::GenerateBatch generate_command(std::string batch, const domain::ContractId& contract,
                                              std::uint32_t codes) {
  domain::GenerateBatch g;
  g.org = kOrg;
  g.batch = domain::BatchId{std::move(batch)};
  g.contract = contract;
  g.quantity = codes;
  return g;
}

// Waits until the batch is ready (a batch generated in chunks: its last
// chunk is in the log), folding its stream as the pipeline does.
inline void wait_until_ready(const eventstore::Log& log, const domain::OrgId& org, const domain::BatchId& batch) {
  const std::string stream = domain::batch_stream(org, batch).str();
  domain::BatchState state;
  eventstore::StreamVersion seen{0};
  while (!state.ready()) {
    const eventstore::Position head = log.head();
    auto events = log.read_stream(stream, seen, 1024);
    if (!events) throw std::runtime_error("reading " + stream + ": " + events.error().message());
    for (const auto& e : events.value()) {
      auto decoded = codec::decode_event(e.type, e.schema, e.payload);
      if (!decoded) throw std::runtime_error("an event of " + stream + " does not decode");
      state = domain::evolve(std::move(state), *decoded);
      seen = e.version;
    }
    if (events.value().empty()) log.wait_beyond(head, std::chrono::milliseconds(10));
  }
}

}  // namespace tessera::bench
