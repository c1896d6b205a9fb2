// Figures for GET /metrics, in Prometheus' text exposition format 0.0.4
// (content type "text/plain; version=0.0.4"): each metric with its HELP and
// TYPE lines, then its one sample, no labels.
#pragma once

#include <span>
#include <string>

namespace tessera::api {

struct Metric {
  enum class Kind { gauge, counter };
  std::string name;  // Prometheus' grammar: [a-zA-Z_:][a-zA-Z0-9_:]*, "_total" for a counter
  std::string help;  // one line
  Kind kind = Kind::gauge;
  double value = 0;
};

// The exposition of `metrics`, in the order given. Whole numbers are written
// without a fraction, others in the shortest form that reads back exactly.
std::string prometheus_text(std::span<const Metric> metrics);

}  // namespace tessera::api
