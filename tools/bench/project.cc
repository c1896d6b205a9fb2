#include "project.h"

#include <algorithm>
#include <atomic>
#include <iostream>
#include <thread>
#include <vector>

#include "common.h"
#include "mix.h"
#include "tessera/projections/projector.h"
#include "tessera/projections/read_models.h"

namespace tessera::bench {
namespace {

namespace es = tessera::eventstore;
namespace pl = tessera::pipeline;
namespace pj = tessera::projections;

constexpr auto kSampleEvery = std::chrono::milliseconds(100);

std::unique_ptr<pj::ReadModels> open_models(const std::filesystem::path& dir) {
  auto models = pj::ReadModels::open(dir);
  if (!models) throw std::runtime_error("cannot open the read models: " + models.error().message());
  return std::move(models).value();
}

void wait_caught_up(const es::Log& log, const pj::ReadModels& models, const pj::Projector& projector) {
  const es::Position head = log.head();
  while (!models.wait_for(head, std::chrono::seconds(10))) {
    if (const auto stalled = projector.status().stalled) {
      throw std::runtime_error("the projector stalled: " + stalled->reason);
    }
    std::cerr << "project: read models at " << models.checkpoint().value << " of " << head.value << "\n";
  }
}

// The resident set now (not the peak), from /proc.
long rss_mb() {
  long pages = 0, resident = 0;
  if (std::FILE* statm = std::fopen("/proc/self/statm", "r")) {
    if (std::fscanf(statm, "%ld %ld", &pages, &resident) != 2) resident = 0;
    std::fclose(statm);
  }
  return resident * ::sysconf(_SC_PAGESIZE) / (1024 * 1024);
}

std::uint64_t percentile(std::vector<std::uint64_t> values, double p) {
  if (values.empty()) return 0;
  std::ranges::sort(values);
  const auto rank = static_cast<std::size_t>(std::ceil(p * static_cast<double>(values.size()))) - 1;
  return values[std::min(rank, values.size() - 1)];
}

}  // namespace

nlohmann::json bench_project(const ProjectOptions& options, const std::filesystem::path& dir) {
  auto log = open_log(dir / "log", /*sync=*/true);
  pl::Pipeline pipeline(*log, pl::system_sources());
  Mix mix(pipeline);

  // The log the rebuild folds, appended as fast as the clients get answers.
  const auto build_start = Clock::now();
  run_closed_loop(pipeline, mix, options.clients, [&] { return log->head().value >= options.events; });
  const double build_seconds = seconds_between(build_start, Clock::now());
  const es::Position built = log->head();
  std::cerr << "project: built " << built.value << " events in " << build_seconds << " s\n";

  // A rebuild from nothing: open fresh models, catch up with the log.
  const auto rebuild_start = Clock::now();
  const double rebuild_cpu_before = cpu_seconds();
  auto models = open_models(dir / "readmodels");
  {
    pj::Projector projector(*log, *models);
    wait_caught_up(*log, *models, projector);
  }
  const double rebuild_seconds = seconds_between(rebuild_start, Clock::now());
  // The process's CPU over the rebuild: the projector's thread and RocksDB's
  // flushes and compactions (the pipeline idles). Less noisy than the rate
  // on a machine shared with other work.
  const double rebuild_cpu = cpu_seconds() - rebuild_cpu_before;
  const long rss_after_rebuild = rss_mb();
  std::cerr << "project: rebuilt in " << rebuild_seconds << " s\n";

  // The rate the log takes the mix at, with no projector.
  const es::Position before_measure = log->head();
  const auto measure_start = Clock::now();
  const auto measure_until = measure_start + std::chrono::duration_cast<Clock::duration>(
                                                 std::chrono::duration<double>(options.measure_seconds));
  run_closed_loop(pipeline, mix, options.clients, [&] { return Clock::now() >= measure_until; });
  const double measured_seconds = seconds_between(measure_start, Clock::now());
  const double log_rate = static_cast<double>(log->head().value - before_measure.value) / measured_seconds;
  std::cerr << "project: the log alone takes " << log_rate << " events/s\n";

  // The live projector, caught up first, following open-loop appends.
  pj::Projector projector(*log, *models);
  wait_caught_up(*log, *models, projector);
  const double offered_rate = log_rate * options.load;
  std::vector<std::uint64_t> lags;
  std::atomic<bool> appending{true};
  const es::Position live_from = models->checkpoint();
  const auto live_start = Clock::now();
  std::jthread sampler([&] {
    for (auto at = Clock::now(); appending; at += kSampleEvery) {
      std::this_thread::sleep_until(at);
      const auto checkpoint = models->checkpoint().value;
      const auto head = log->head().value;
      lags.push_back(head > checkpoint ? head - checkpoint : 0);
    }
  });
  const std::uint64_t offered = run_open_loop(pipeline, mix, offered_rate, options.seconds);
  const auto appends_end = Clock::now();
  appending = false;
  sampler.join();
  const es::Position live_head = log->head();
  const double append_seconds = seconds_between(live_start, appends_end);
  wait_caught_up(*log, *models, projector);
  const double live_seconds = seconds_between(live_start, Clock::now());
  const double appended_rate = static_cast<double>(live_head.value - live_from.value) / append_seconds;

  const auto max_lag = lags.empty() ? 0 : *std::ranges::max_element(lags);
  const auto p99_lag = percentile(lags, 0.99);
  const auto in_seconds = [&](std::uint64_t lag) { return round_to(static_cast<double>(lag) / appended_rate, 3); };
  return {
      {"bench", "project"},
      {"events", built.value},
      {"build_seconds", round_to(build_seconds, 2)},
      {"rebuild_seconds", round_to(rebuild_seconds, 3)},
      {"rebuild_events_per_s", std::llround(static_cast<double>(built.value) / rebuild_seconds)},
      {"rebuild_cpu_us_per_event", round_to(rebuild_cpu * 1e6 / static_cast<double>(built.value), 2)},
      {"log_alone_events_per_s", std::llround(log_rate)},
      {"offered_events_per_s", std::llround(offered_rate)},
      {"offered_events", offered},
      {"appended_events_per_s", std::llround(appended_rate)},
      {"seconds", options.seconds},
      {"live_events_per_s", std::llround(static_cast<double>(live_head.value - live_from.value) / live_seconds)},
      {"lag_events", {{"max", max_lag}, {"p99", p99_lag}, {"samples", lags.size()}}},
      {"lag_seconds", {{"max", in_seconds(max_lag)}, {"p99", in_seconds(p99_lag)}}},
      {"caught_up_after_appends_s", round_to(seconds_between(appends_end, Clock::now()), 3)},
      {"peak_rss_mb", peak_rss_mb()},
      {"rss_mb_after_rebuild", rss_after_rebuild},
      {"rss_mb_at_end", rss_mb()},
      {"log_events", log->head().value},
      {"commands", mix.counts()},
  };
}

}  // namespace tessera::bench
