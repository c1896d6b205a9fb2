// Internal glue between librdkafka's C API and Tessera: owning handles,
// configuration with errors as values, and librdkafka's logs sent to spdlog.
#pragma once

#include <librdkafka/rdkafka.h>
#include <boost/outcome/try.hpp>

#include <memory>
#include <string>
#include <string_view>

#include "tessera/kafka/errc.h"

namespace tessera::kafka::detail {

struct ConfDeleter {
  void operator()(rd_kafka_conf_t* conf) const noexcept { rd_kafka_conf_destroy(conf); }
};
using ConfPtr = std::unique_ptr<rd_kafka_conf_t, ConfDeleter>;

struct HandleDeleter {
  void operator()(rd_kafka_t* rk) const noexcept { rd_kafka_destroy(rk); }
};
using HandlePtr = std::unique_ptr<rd_kafka_t, HandleDeleter>;

struct TopicDeleter {
  void operator()(rd_kafka_topic_t* rkt) const noexcept { rd_kafka_topic_destroy(rkt); }
};
using TopicPtr = std::unique_ptr<rd_kafka_topic_t, TopicDeleter>;

// A configuration whose logs go to spdlog (librdkafka's syslog levels mapped
// onto spdlog's), each line tagged with the client's name.
ConfPtr new_conf();

// rd_kafka_conf_set, its complaint logged and returned as an error.
result<void> set_config(rd_kafka_conf_t* conf, const char* name, std::string_view value);

// rd_kafka_new; takes the configuration (librdkafka owns it on success).
result<HandlePtr> new_handle(rd_kafka_type_t type, ConfPtr conf);

}  // namespace tessera::kafka::detail
