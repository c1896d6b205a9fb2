// An in-process Kafka cluster: librdkafka's mock cluster (rdkafka_mock.h).
//
// Its brokers listen on loopback TCP ports chosen by the system and speak the
// Kafka protocol, so any Kafka client in any process (kcat, the relay, a
// consumer group) can produce to it and consume from it.
//
// Lifetime: the cluster runs from start() until the object is destroyed. It
// keeps its data in memory only: everything is gone with it, and clients still
// connected then find their brokers gone. Its cluster id can repeat from one
// start to the next, so it is no proof of having seen a cluster before.
//
// Threading: the mock runs on its own thread; every method is safe to call
// from any thread.
//
// Limits (librdkafka 2.0.2): no CreateTopics request (a topic is created with
// 4 partitions on first use, or beforehand by create_topic()); about 5 MiB or
// 100,000 message sets kept per partition, older data dropped; transactions
// without commit markers.
#pragma once

#include <cstddef>
#include <memory>
#include <string>
#include <string_view>

#include "tessera/kafka/errc.h"

namespace tessera::kafka {

class EmbeddedCluster {
 public:
  // Starts a cluster of `brokers` brokers (ids 1..brokers).
  static result<std::unique_ptr<EmbeddedCluster>> start(int brokers = 1);

  ~EmbeddedCluster();
  EmbeddedCluster(const EmbeddedCluster&) = delete;
  EmbeddedCluster& operator=(const EmbeddedCluster&) = delete;

  // The brokers' addresses for `bootstrap.servers`, e.g. "127.0.0.1:39443".
  std::string bootstrap() const;

  int broker_count() const;

  // Creates `name` with `partitions` partitions (replicated on up to 3
  // brokers). Only before first use changes anything: a topic that already
  // exists, even auto-created, keeps its partitions.
  result<void> create_topic(std::string_view name, int partitions = 4);

  // Every broker drops its connections and refuses new ones (up()
  // reopens them). Partition leadership does not move, so for clients this is
  // an outage of the whole cluster: producers queue and retry, nothing is lost.
  result<void> set_all_brokers_down();
  result<void> set_all_brokers_up();

  // The next `count` Produce requests fail with `kafka_error_code` (a Kafka
  // protocol error code, e.g. 10 MESSAGE_TOO_LARGE, which no client retries),
  // whichever broker receives them. For fault tests.
  result<void> fail_next_produce_requests(std::size_t count, int kafka_error_code);

 private:
  struct Impl;
  explicit EmbeddedCluster(std::unique_ptr<Impl> impl);
  std::unique_ptr<Impl> impl_;
};

}  // namespace tessera::kafka
