#include "tessera/kafka/embedded_cluster.h"

#include <librdkafka/rdkafka.h>
#include <librdkafka/rdkafka_mock.h>
#include <spdlog/spdlog.h>

#include <algorithm>
#include <string>
#include <vector>

#include "rdkafka_support.h"

namespace tessera::kafka {

struct EmbeddedCluster::Impl {
  // The mock cluster needs a client handle for its bookkeeping; this one
  // never connects anywhere. It must outlive the cluster.
  detail::HandlePtr owner;
  rd_kafka_mock_cluster_t* cluster = nullptr;
  int brokers = 0;

  ~Impl() {
    if (cluster != nullptr) rd_kafka_mock_cluster_destroy(cluster);
  }

  result<void> set_each_broker(rd_kafka_resp_err_t (*change)(rd_kafka_mock_cluster_t*, int32_t)) const {
    // One call per broker id: 2.0.2 may not know -1 ("all brokers").
    for (int32_t id = 1; id <= brokers; ++id) {
      if (const auto err = change(cluster, id); err != RD_KAFKA_RESP_ERR_NO_ERROR) return make_kafka_error(err);
    }
    return boost::outcome_v2::success();
  }
};

EmbeddedCluster::EmbeddedCluster(std::unique_ptr<Impl> impl) : impl_(std::move(impl)) {}
EmbeddedCluster::~EmbeddedCluster() = default;

result<std::unique_ptr<EmbeddedCluster>> EmbeddedCluster::start(int brokers) {
  if (brokers < 1) return make_kafka_error(RD_KAFKA_RESP_ERR__INVALID_ARG);
  auto conf = detail::new_conf();
  // The owner handle has no bootstrap servers by design; librdkafka's notice
  // about that is noise, hence warnings and worse only.
  BOOST_OUTCOME_TRY(detail::set_config(conf.get(), "log_level", "4"));
  BOOST_OUTCOME_TRY(detail::set_config(conf.get(), "client.id", "tessera-embedded-cluster"));
  auto owner = detail::new_handle(RD_KAFKA_PRODUCER, std::move(conf));
  if (!owner) return owner.error();

  auto impl = std::make_unique<Impl>();
  impl->owner = std::move(owner).value();
  impl->brokers = brokers;
  impl->cluster = rd_kafka_mock_cluster_new(impl->owner.get(), brokers);
  if (impl->cluster == nullptr) {
    spdlog::warn("kafka: the embedded cluster did not start (no loopback listener?)");
    return make_kafka_error(RD_KAFKA_RESP_ERR__FAIL);
  }
  spdlog::info("kafka: embedded cluster of {} broker(s) at {}", brokers,
               rd_kafka_mock_cluster_bootstraps(impl->cluster));
  return std::unique_ptr<EmbeddedCluster>(new EmbeddedCluster(std::move(impl)));
}

std::string EmbeddedCluster::bootstrap() const { return rd_kafka_mock_cluster_bootstraps(impl_->cluster); }

int EmbeddedCluster::broker_count() const { return impl_->brokers; }

result<void> EmbeddedCluster::create_topic(std::string_view name, int partitions) {
  if (name.empty() || partitions < 1) return make_kafka_error(RD_KAFKA_RESP_ERR__INVALID_ARG);
  const std::string topic(name);
  const auto err = rd_kafka_mock_topic_create(impl_->cluster, topic.c_str(), partitions, std::min(impl_->brokers, 3));
  if (err != RD_KAFKA_RESP_ERR_NO_ERROR) return make_kafka_error(err);
  return boost::outcome_v2::success();
}

result<void> EmbeddedCluster::set_all_brokers_down() { return impl_->set_each_broker(&rd_kafka_mock_broker_set_down); }

result<void> EmbeddedCluster::set_all_brokers_up() { return impl_->set_each_broker(&rd_kafka_mock_broker_set_up); }

result<void> EmbeddedCluster::fail_next_produce_requests(std::size_t count, int kafka_error_code) {
  constexpr std::int16_t kProduceApiKey = 0;
  const std::vector<rd_kafka_resp_err_t> errors(count, static_cast<rd_kafka_resp_err_t>(kafka_error_code));
  rd_kafka_mock_push_request_errors_array(impl_->cluster, kProduceApiKey, errors.size(), errors.data());
  return boost::outcome_v2::success();
}

}  // namespace tessera::kafka
