// Errors of the Kafka subsystem, as std::error_code values in a
// tessera::error_category, so that tessera::retry_advice() answers for them.
//
// The value of such an error_code is librdkafka's rd_kafka_resp_err_t and its
// message is librdkafka's own text for it, so nothing is lost in translation.
// Retry advice: transport, timeout, leader and queue-full errors are worth
// another call (retry::call); configuration and protocol errors are not.
#pragma once

#include <system_error>

#include "tessera/base/error.h"

namespace tessera::kafka {

const tessera::error_category& kafka_category() noexcept;

// `rd_kafka_resp_err` is a value of librdkafka's rd_kafka_resp_err_t.
std::error_code make_kafka_error(int rd_kafka_resp_err) noexcept;

}  // namespace tessera::kafka
