// The relay: publishes the event log to Kafka, every event exactly in log
// order per stream, none lost.
//
// Each event becomes one message on topic_for_stream(stream) (topics.h), key =
// stream id, value = the event's JSON payload, with CloudEvents 1.0 headers in
// the Kafka binary binding (ce_specversion, ce_id = "<stream>@<version>",
// ce_type = "tessera.<type>", ce_source, ce_time, ce_subject = stream,
// content-type) plus tessera_position, tessera_version and tessera_schema
// (the payload's schema version; decimal).
//
// Guarantees:
//  - At least once. The checkpoint is the highest position P such that the
//    cluster acknowledged every event up to P (delivery reports, acks=all,
//    idempotent producer); it is persisted in the log's meta space, one per
//    Kafka cluster id, at most `checkpoint_interval` behind. After a restart
//    or a producer rebuild the relay re-sends everything after the checkpoint,
//    so a consumer may see an event twice: both copies have the same ce_id and
//    stream version, and consumers skip a version they have already applied.
//  - Per-stream order. A stream's events are produced in version order to
//    one partition; a retriable failure (queue full, broker down, leader
//    change) only delays them, and no message ever times out. A permanent
//    delivery failure stops the producer before it sends anything more
//    (librdkafka's gapless guarantee); that, or any fatal producer error,
//    makes the relay destroy it and resume from the checkpoint with a new
//    one, so a message never overtakes an earlier one that failed.
//
// It starts publishing once it has learned the cluster's id (from metadata),
// which keys its checkpoint; until then, and during an outage, it waits.
//
// Threading: the relay runs on its own thread between start() and stop();
// published(), lag(), producer_restarts(), bootstrap() and cluster_id() may
// be called from any thread. The log must outlive the relay.
#pragma once

#include <atomic>
#include <chrono>
#include <cstddef>
#include <cstdint>
#include <mutex>
#include <string>
#include <string_view>
#include <thread>
#include <utility>
#include <vector>

#include "tessera/eventstore/log.h"
#include "tessera/kafka/errc.h"

namespace tessera::kafka {

// How far Kafka is behind the log.
struct RelayLag {
  // Events in the log and not yet acknowledged by the cluster.
  std::uint64_t events = 0;
  // How long the oldest of them has waited: `now` minus the time the log
  // recorded it. 0 when caught up; never negative.
  double seconds = 0;
};

struct RelayOptions {
  // Kafka's bootstrap.servers: "host:port[,host:port...]".
  std::string bootstrap;
  // Publish the whole log again instead of resuming from the stored
  // checkpoint. The embedded cluster starts empty, and its cluster id may be
  // one a previous run already stored a checkpoint for.
  bool republish_from_start = false;
  std::string client_id = "tessera-relay";

  // Events produced and not yet acknowledged, at most. Bounds memory and how
  // much a rebuild re-sends.
  std::size_t max_in_flight = 10'000;
  // stop() waits at most this long for acknowledgements of what is in flight.
  std::chrono::milliseconds flush_timeout{std::chrono::seconds(5)};
  // How often the checkpoint is written to the log's meta space (a synced write).
  std::chrono::milliseconds checkpoint_interval{100};
  // librdkafka's linger.ms: how long to wait to fill a batch.
  std::chrono::milliseconds linger{5};
};

// The librdkafka properties the relay's producer is created with, in order.
// Public so that the ordering guarantee they carry can be tested against a
// broker, and read by an operator who wonders what the relay asks of Kafka.
using ProducerSettings = std::vector<std::pair<std::string, std::string>>;
ProducerSettings relay_producer_settings(const RelayOptions& options);

class Relay {
 public:
  Relay(eventstore::Log& log, RelayOptions options);
  ~Relay();  // stop()
  Relay(const Relay&) = delete;
  Relay& operator=(const Relay&) = delete;

  // Starts the relay's thread. No effect if it runs already; after stop() it
  // starts again, resuming from the checkpoint (or from the start, if so
  // configured).
  void start();

  // Stops reading the log, waits up to flush_timeout for the acknowledgements
  // of what is in flight, stores the checkpoint, and joins the thread. What
  // was not acknowledged then is re-sent by the next start. Idempotent.
  void stop();

  // The checkpoint: every event at or below it is in Kafka. Position{0} until
  // the first acknowledgement.
  eventstore::Position published() const { return eventstore::Position{published_.load()}; }

  // The log's head against published(); `now` measures the wait of the first
  // unpublished event (reading it is one lookup in the log). Fails only when
  // the log cannot be read.
  result<RelayLag> lag(std::chrono::system_clock::time_point now) const;

  const std::string& bootstrap() const { return options_.bootstrap; }

  // How many times a failure made the relay replace its producer and
  // re-send from the checkpoint, since construction. 0 in a healthy life.
  std::uint64_t producer_restarts() const { return producer_restarts_.load(); }

  // The id of the Kafka cluster the relay publishes to; empty until it has
  // reached the cluster.
  std::string cluster_id() const;

  // The meta key under which the checkpoint for `cluster_id` is stored.
  static std::string checkpoint_key(std::string_view cluster_id);

 private:
  class Session;
  enum class SessionEnd { stopped, rebuild };

  void run();
  SessionEnd run_session();
  bool stopping() const { return stopping_.load(std::memory_order_relaxed); }
  void sleep_unless_stopping(std::chrono::milliseconds duration) const;

  eventstore::Log& log_;
  const RelayOptions options_;
  std::thread thread_;
  std::atomic<bool> stopping_{false};
  std::atomic<std::uint64_t> published_{0};
  std::atomic<std::uint64_t> producer_restarts_{0};

  mutable std::mutex cluster_mutex_;
  std::string cluster_id_;  // guarded by cluster_mutex_
  // Set by start(), cleared once the relay reached the cluster: whether
  // republish_from_start applies (to a start, not to a producer rebuild).
  bool fresh_start_ = false;
};

}  // namespace tessera::kafka
