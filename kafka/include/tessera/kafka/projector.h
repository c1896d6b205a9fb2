// The Kafka-fed projector: builds the read models from the relay's topics,
// in a consumer group, the way projections::Projector builds them from the
// local log. The two give the same models.
//
// Each message (relay.h: key = stream, CloudEvents headers, tessera_position,
// tessera_version, JSON payload) becomes a RecordedEvent; a batch of them is
// folded with ReadModels::apply_from_kafka(), which writes the documents,
// the next offset of every partition the batch read and the count of events
// applied in one RocksDB write batch. So:
//  - A restart applies nothing twice and skips nothing: on every partition
//    assignment (start, rebalance) the consumer seeks to the offsets stored
//    with the models, not to the group's committed offsets (those are
//    committed too, asynchronously, for monitoring only).
//  - A re-sent event (a relay restart produces again what was in flight) is
//    skipped: its stream's document already records its version.
//  - Streams interleave across partitions and topics in any order; the fold
//    is built to give the same models for any order that keeps each stream's
//    own (projections/README.md), so nothing waits for another stream.
// A message it cannot fold stops it there, not skipped (the reason, and
// what happens next, in projections/stall.h): an event that does not decode
// (a type or schema this binary does not know, a payload that does not
// parse) and, the same, a message that is no Tessera event at all (no
// tessera.<type> ce_type, no tessera_version or tessera_position: on a
// Tessera topic, that is a fault upstream). What was read before it is
// applied and its offsets stored; nothing after it, on any partition, is
// applied; status().stalled says where and why. Every `stall_retry` it reads
// that message again (fetching nothing else meanwhile); a restart reads it
// again too, from the offsets stored with the models.
//
// A consumer group splits the partitions among its members: run each
// projector that serves queries in a group of its own (a member holding only
// some partitions holds only their streams' documents).
//
// Threading: the projector consumes on its own thread between start() and
// stop(); status() may be called from any thread. The models must outlive it.
#pragma once

#include <atomic>
#include <chrono>
#include <cstddef>
#include <cstdint>
#include <memory>
#include <mutex>
#include <optional>
#include <string>
#include <thread>
#include <vector>

#include "tessera/kafka/errc.h"
#include "tessera/projections/read_models.h"
#include "tessera/projections/stall.h"

namespace tessera::kafka {

struct ProjectorOptions {
  // Kafka's bootstrap.servers: "host:port[,host:port...]".
  std::string bootstrap;
  std::string group = "tessera-projector";
  std::string client_id = "tessera-projector";
  // The topics to read; empty: those of every category the read models fold
  // (tessera.contracts, .sessions, .batches, .codes, .invitations, .registrations).
  std::vector<std::string> topics = {};
  // Messages folded in one write batch, at most.
  std::size_t max_batch = 2000;
  // Kafka's session.timeout.ms: how long the group waits for a member that
  // vanished (a crashed projector) before it hands its partitions on.
  std::chrono::milliseconds session_timeout{std::chrono::seconds(10)};
  // How long it waits, stopped at a message it cannot fold, before it reads
  // the message again.
  std::chrono::milliseconds stall_retry = projections::kStallRetry;
};

// Where a message is.
struct MessageAt {
  std::string topic;
  std::int32_t partition = 0;
  std::int64_t offset = 0;
  bool operator==(const MessageAt&) const = default;
};

// One assigned partition: where the projector stands and where its end is.
struct PartitionProgress {
  std::string topic;
  std::int32_t partition = 0;
  std::int64_t next = 0;                 // the next offset to read
  std::optional<std::int64_t> end = {};  // the high watermark, once a fetch told it
};

struct ProjectorStatus {
  std::vector<PartitionProgress> partitions;  // assigned now, by topic and partition
  // Messages not yet read: sum of end - next over the partitions whose end
  // is known; nullopt before any is known.
  std::optional<std::int64_t> lag;
  // Since start(): messages read (and folded), events applied, events
  // skipped because already applied (re-sends).
  std::uint64_t messages = 0;
  std::uint64_t applied = 0;
  std::uint64_t duplicates = 0;
  // While it is stopped at a message it cannot fold: where, why, and how
  // many times it read it there; nullopt while it consumes.
  std::optional<projections::Stall<MessageAt>> stalled;
};

class Projector {
 public:
  Projector(projections::ReadModels& models, ProjectorOptions options);
  ~Projector();  // stop()
  Projector(const Projector&) = delete;
  Projector& operator=(const Projector&) = delete;

  // Creates the consumer, subscribes to the topics and starts the thread.
  // Fails on a configuration librdkafka refuses. No effect if running.
  result<void> start();

  // Applies what was read, leaves the group (which rebalances at once) and
  // joins the thread. Idempotent.
  void stop();

  ProjectorStatus status() const;

 private:
  class Consumer;

  projections::ReadModels& models_;
  const ProjectorOptions options_;
  std::unique_ptr<Consumer> consumer_;
  std::thread thread_;
  std::atomic<bool> stopping_{false};
  mutable std::mutex status_mutex_;
  ProjectorStatus status_;  // guarded by status_mutex_, written by the thread
};

}  // namespace tessera::kafka
