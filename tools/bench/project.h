// tessera-bench project: how fast the read models follow the log (issue 14).
#pragma once

#include <nlohmann/json.hpp>

#include <cstdint>
#include <filesystem>

namespace tessera::bench {

struct ProjectOptions {
  std::uint64_t events = 2'000'000;  // in the log the rebuild folds
  double seconds = 30;               // of open-loop appends with the live projector
  double measure_seconds = 10;       // of closed-loop appends, no projector: the log's own rate
  int clients = 64;                  // of that measurement, and of building the log
  double load = 0.8;                 // the live phase's rate, as a share of the log's own
};

// Builds the log of the mix (mix.h) through the pipeline in `dir`, then
// times a rebuild of the read models from empty, measures the rate the log
// takes the mix at alone, and follows open-loop appends at `load` of it
// with the live projector, sampling its lag every 100 ms.
nlohmann::json bench_project(const ProjectOptions& options, const std::filesystem::path& dir);

}  // namespace tessera::bench
