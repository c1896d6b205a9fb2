#include "tessera/kafka/errc.h"

#include <librdkafka/rdkafka.h>

#include <string>

namespace tessera::kafka {
namespace {

class KafkaCategory final : public tessera::error_category {
 public:
  const char* name() const noexcept override { return "tessera.kafka"; }

  std::string message(int condition) const override {
    return rd_kafka_err2str(static_cast<rd_kafka_resp_err_t>(condition));
  }

  retry advice(int condition) const noexcept override {
    switch (static_cast<rd_kafka_resp_err_t>(condition)) {
      case RD_KAFKA_RESP_ERR__TRANSPORT:
      case RD_KAFKA_RESP_ERR__ALL_BROKERS_DOWN:
      case RD_KAFKA_RESP_ERR__RESOLVE:
      case RD_KAFKA_RESP_ERR__TIMED_OUT:
      case RD_KAFKA_RESP_ERR__MSG_TIMED_OUT:
      case RD_KAFKA_RESP_ERR__QUEUE_FULL:
      case RD_KAFKA_RESP_ERR__WAIT_COORD:
      case RD_KAFKA_RESP_ERR_LEADER_NOT_AVAILABLE:
      case RD_KAFKA_RESP_ERR_NOT_LEADER_FOR_PARTITION:
      case RD_KAFKA_RESP_ERR_REQUEST_TIMED_OUT:
      case RD_KAFKA_RESP_ERR_BROKER_NOT_AVAILABLE:
      case RD_KAFKA_RESP_ERR_NETWORK_EXCEPTION:
      case RD_KAFKA_RESP_ERR_NOT_ENOUGH_REPLICAS:
      case RD_KAFKA_RESP_ERR_NOT_ENOUGH_REPLICAS_AFTER_APPEND:
      case RD_KAFKA_RESP_ERR_COORDINATOR_NOT_AVAILABLE:
        return retry::call;
      default:
        return retry::no;
    }
  }
};

}  // namespace

const tessera::error_category& kafka_category() noexcept {
  static const KafkaCategory category;
  return category;
}

std::error_code make_kafka_error(int rd_kafka_resp_err) noexcept { return {rd_kafka_resp_err, kafka_category()}; }

}  // namespace tessera::kafka
