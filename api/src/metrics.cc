#include "tessera/api/metrics.h"

#include <fmt/format.h>
#include <cmath>

namespace tessera::api {
namespace {

// HELP text escapes backslash and newline (the exposition format's rule).
std::string escape_help(const std::string& text) {
  std::string out;
  out.reserve(text.size());
  for (const char c : text) {
    if (c == '\\') {
      out += "\\\\";
    } else if (c == '\n') {
      out += "\\n";
    } else {
      out += c;
    }
  }
  return out;
}

std::string sample_value(double value) {
  if (std::isnan(value)) return "NaN";
  if (std::isinf(value)) return value > 0 ? "+Inf" : "-Inf";
  // Positions and counts are integers well below 2^53: no exponent for them.
  if (value == std::trunc(value) && std::fabs(value) < 9.0e15) return fmt::format("{:.0f}", value);
  return fmt::format("{}", value);
}

}  // namespace

std::string prometheus_text(std::span<const Metric> metrics) {
  std::string out;
  for (const Metric& metric : metrics) {
    out += fmt::format("# HELP {} {}\n# TYPE {} {}\n{} {}\n", metric.name, escape_help(metric.help), metric.name,
                       metric.kind == Metric::Kind::counter ? "counter" : "gauge", metric.name,
                       sample_value(metric.value));
  }
  return out;
}

}  // namespace tessera::api
