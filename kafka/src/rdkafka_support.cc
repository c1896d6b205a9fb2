#include "rdkafka_support.h"

#include <spdlog/spdlog.h>

namespace tessera::kafka::detail {
namespace {

// librdkafka logs with syslog levels. It recovers from most of what it calls
// an error (a broker connection refused, a request timed out) by itself, so
// those are warnings here; the relay reports what it cannot recover from.
spdlog::level::level_enum to_spdlog(int syslog_level) {
  if (syslog_level <= 4) return spdlog::level::warn;
  if (syslog_level == 5) return spdlog::level::info;
  if (syslog_level == 6) return spdlog::level::debug;
  return spdlog::level::trace;
}

// librdkafka warns on every client it creates that a property is
// experimental; the relay sets enable.gapless.guarantee knowingly, and a
// warning at each start would teach operators to ignore warnings.
bool is_experimental_property_notice(std::string_view facility, std::string_view message) {
  return facility == "CONFWARN" && message.find(" is experimental") != std::string_view::npos;
}

void log_to_spdlog(const rd_kafka_t* rk, int level, const char* facility, const char* message) {
  const auto spdlog_level =
      is_experimental_property_notice(facility, message) ? spdlog::level::debug : to_spdlog(level);
  spdlog::log(spdlog_level, "rdkafka {} {}: {}", rk != nullptr ? rd_kafka_name(rk) : "-", facility, message);
}

}  // namespace

ConfPtr new_conf() {
  ConfPtr conf(rd_kafka_conf_new());
  rd_kafka_conf_set_log_cb(conf.get(), &log_to_spdlog);
  return conf;
}

result<void> set_config(rd_kafka_conf_t* conf, const char* name, std::string_view value) {
  char errstr[512];
  const std::string text(value);
  if (rd_kafka_conf_set(conf, name, text.c_str(), errstr, sizeof errstr) != RD_KAFKA_CONF_OK) {
    spdlog::warn("kafka: cannot set {}={}: {}", name, text, errstr);
    return make_kafka_error(RD_KAFKA_RESP_ERR__INVALID_ARG);
  }
  return boost::outcome_v2::success();
}

result<HandlePtr> new_handle(rd_kafka_type_t type, ConfPtr conf) {
  char errstr[512];
  rd_kafka_t* rk = rd_kafka_new(type, conf.get(), errstr, sizeof errstr);
  if (rk == nullptr) {
    // On failure the configuration is still ours to destroy (conf does it).
    spdlog::warn("kafka: cannot create a client: {}", errstr);
    return make_kafka_error(RD_KAFKA_RESP_ERR__INVALID_ARG);
  }
  (void)conf.release();  // rd_kafka_new took it
  return HandlePtr(rk);
}

}  // namespace tessera::kafka::detail
