#include "tessera/kafka/relay.h"

#include <librdkafka/rdkafka.h>
#include <spdlog/spdlog.h>

#include <algorithm>
#include <charconv>
#include <cstdint>
#include <deque>
#include <optional>
#include <set>
#include <unordered_map>

#include "rdkafka_support.h"
#include "tessera/codec/time.h"
#include "tessera/kafka/topics.h"

namespace tessera::kafka {
namespace {

using namespace std::chrono_literals;
using Clock = std::chrono::steady_clock;

constexpr std::size_t kReadBatch = 512;
// Every wait is bounded by one of these, so that stop() is noticed quickly.
constexpr auto kPollSlice = 10ms;
constexpr auto kIdleWait = 100ms;
constexpr auto kClusterIdWait = 250ms;
constexpr auto kRebuildBackoffFirst = 100ms;
constexpr auto kRebuildBackoffMax = 5s;

int to_int_ms(std::chrono::milliseconds d) { return static_cast<int>(d.count()); }

std::optional<std::uint64_t> parse_decimal(std::string_view text) {
  std::uint64_t value = 0;
  const auto [ptr, ec] = std::from_chars(text.data(), text.data() + text.size(), value);
  if (ec != std::errc() || ptr != text.data() + text.size()) return std::nullopt;
  return value;
}

// The checkpoint advances over acknowledged positions without a gap:
// acknowledgements from different partitions arrive in any order.
class Progress {
 public:
  explicit Progress(std::uint64_t checkpoint) : checkpoint_(checkpoint) {}

  void acknowledged(std::uint64_t position) {
    if (position <= checkpoint_) return;  // a duplicate acknowledgement
    if (position != checkpoint_ + 1) {
      ahead_.insert(position);
      return;
    }
    ++checkpoint_;
    while (!ahead_.empty() && *ahead_.begin() == checkpoint_ + 1) {
      ahead_.erase(ahead_.begin());
      ++checkpoint_;
    }
  }

  std::uint64_t checkpoint() const { return checkpoint_; }

 private:
  std::uint64_t checkpoint_;
  std::set<std::uint64_t> ahead_;  // acknowledged, beyond a gap
};

}  // namespace

// One producer's life: from its creation to its destruction on stop() or on
// a failure that needs a new producer. Lives on the relay's thread only;
// librdkafka calls its callbacks from rd_kafka_poll/flush on that thread too.
class Relay::Session {
 public:
  explicit Session(Relay& relay) : relay_(relay), progress_(0) {}
  Session(const Session&) = delete;
  Session& operator=(const Session&) = delete;
  ~Session() { destroy_producer(); }

  result<void> create_producer() {
    const RelayOptions& o = relay_.options_;
    auto conf = detail::new_conf();
    for (const auto& [name, value] : relay_producer_settings(o)) {
      BOOST_OUTCOME_TRY(detail::set_config(conf.get(), name.c_str(), value));
    }
    rd_kafka_conf_set_opaque(conf.get(), this);
    rd_kafka_conf_set_dr_msg_cb(conf.get(), &Session::on_delivery);
    rd_kafka_conf_set_error_cb(conf.get(), &Session::on_error);
    auto producer = detail::new_handle(RD_KAFKA_PRODUCER, std::move(conf));
    if (!producer) return producer.error();
    producer_ = std::move(producer).value();
    return boost::outcome_v2::success();
  }

  // The cluster's id, once metadata has come in; nullopt after `timeout`.
  std::optional<std::string> cluster_id(std::chrono::milliseconds timeout) {
    char* id = rd_kafka_clusterid(producer_.get(), to_int_ms(timeout));
    if (id == nullptr) return std::nullopt;
    std::string out(id);
    rd_kafka_mem_free(producer_.get(), id);
    return out;
  }

  // Publishes from `checkpoint` on, to the cluster `cluster_id`.
  void begin(std::string cluster_id, std::uint64_t checkpoint) {
    cluster_id_ = std::move(cluster_id);
    progress_ = Progress(checkpoint);
    next_read_ = checkpoint;
    persisted_ = checkpoint;
    last_persist_ = Clock::now();
    relay_.published_.store(checkpoint);
  }

  // Reads and produces until stop() or a failure that needs a new producer.
  SessionEnd pump() {
    while (!relay_.stopping()) {
      rd_kafka_poll(producer_.get(), 0);
      if (failed_) return SessionEnd::rebuild;
      persist_checkpoint(false);

      if (unsent_.empty() && in_flight_ < relay_.options_.max_in_flight && relay_.log_.head().value > next_read_) {
        if (!read_more()) {
          relay_.sleep_unless_stopping(kIdleWait);
          continue;
        }
      }
      while (!unsent_.empty() && in_flight_ < relay_.options_.max_in_flight) {
        const auto produced = produce(unsent_.front());
        if (produced == Produced::failed) return SessionEnd::rebuild;
        if (produced == Produced::queue_full) {
          // librdkafka's queue is full: wait for deliveries, then try the
          // same event again. Nothing is skipped or reordered.
          rd_kafka_poll(producer_.get(), to_int_ms(kPollSlice));
          break;
        }
        unsent_.pop_front();
        ++in_flight_;
      }

      if (in_flight_ >= relay_.options_.max_in_flight) {
        rd_kafka_poll(producer_.get(), to_int_ms(kPollSlice));  // wait for acknowledgements
        continue;
      }
      if (!unsent_.empty() || relay_.log_.head().value > next_read_) continue;
      if (in_flight_ > 0) {
        rd_kafka_poll(producer_.get(), to_int_ms(kPollSlice));
      } else {
        relay_.log_.wait_beyond(eventstore::Position{next_read_}, kIdleWait);
      }
    }
    return SessionEnd::stopped;
  }

  // On stop: waits (bounded) for the acknowledgements of what is in flight.
  void flush() {
    if (!producer_ || in_flight_ == 0 || failed_) return;
    const auto err = rd_kafka_flush(producer_.get(), to_int_ms(relay_.options_.flush_timeout));
    if (err != RD_KAFKA_RESP_ERR_NO_ERROR) {
      spdlog::warn("kafka relay: {} event(s) unacknowledged at stop ({}); the next start re-sends them", in_flight_,
                   rd_kafka_err2str(err));
    }
  }

  void store_checkpoint() { persist_checkpoint(true); }

  void destroy_producer() {
    if (!producer_) return;
    // Whatever is still queued or in flight is abandoned: its delivery
    // reports (purged) arrive in the poll below and are ignored, and the next
    // session re-sends it from the checkpoint.
    abandoning_ = true;
    rd_kafka_purge(producer_.get(), RD_KAFKA_PURGE_F_QUEUE | RD_KAFKA_PURGE_F_INFLIGHT);
    rd_kafka_poll(producer_.get(), 0);
    topics_.clear();
    producer_.reset();
  }

 private:
  enum class Produced { ok, queue_full, failed };

  bool read_more() {
    auto events = relay_.log_.read_all(eventstore::Position{next_read_}, kReadBatch);
    if (!events) {
      spdlog::warn("kafka relay: cannot read the log after position {}: {}", next_read_, events.error().message());
      return false;
    }
    for (auto& event : events.value()) {
      next_read_ = event.position.value;
      unsent_.push_back(std::move(event));
    }
    return !unsent_.empty();
  }

  Produced produce(const eventstore::RecordedEvent& event) {
    rd_kafka_topic_t* topic = topic_handle(topic_for_stream(event.stream));
    if (topic == nullptr) return Produced::failed;

    const std::string id = event.id();
    const std::string type = "tessera." + event.type;
    const std::string time = codec::format_rfc3339(domain::Timestamp{event.recorded_at_micros});
    const std::string position = std::to_string(event.position.value);
    const std::string version = std::to_string(event.version.value);
    const std::string schema = std::to_string(event.schema);

    std::vector<rd_kafka_vu_t> vus;
    vus.reserve(16);
    const auto add = [&](rd_kafka_vtype_t vtype, auto set) {
      rd_kafka_vu_t vu{};
      vu.vtype = vtype;
      set(vu.u);
      vus.push_back(vu);
    };
    const auto header = [&](const char* name, std::string_view value) {
      add(RD_KAFKA_VTYPE_HEADER, [&](auto& u) {
        u.header.name = name;
        u.header.val = value.data();
        u.header.size = static_cast<ssize_t>(value.size());
      });
    };
    add(RD_KAFKA_VTYPE_RKT, [&](auto& u) { u.rkt = topic; });
    add(RD_KAFKA_VTYPE_PARTITION, [&](auto& u) { u.i32 = RD_KAFKA_PARTITION_UA; });
    add(RD_KAFKA_VTYPE_MSGFLAGS, [&](auto& u) { u.i = RD_KAFKA_MSG_F_COPY; });
    add(RD_KAFKA_VTYPE_KEY, [&](auto& u) {
      u.mem.ptr = const_cast<char*>(event.stream.data());  // copied (MSG_F_COPY)
      u.mem.size = event.stream.size();
    });
    add(RD_KAFKA_VTYPE_VALUE, [&](auto& u) {
      u.mem.ptr = const_cast<char*>(event.payload.data());  // copied (MSG_F_COPY)
      u.mem.size = event.payload.size();
    });
    // The delivery report brings the position back (rkmessage->_private).
    add(RD_KAFKA_VTYPE_OPAQUE,
        [&](auto& u) { u.ptr = reinterpret_cast<void*>(static_cast<std::uintptr_t>(event.position.value)); });
    header("ce_specversion", "1.0");
    header("ce_id", id);
    header("ce_type", type);
    header("ce_source", "/tessera");
    header("ce_time", time);
    header("ce_subject", event.stream);
    header("content-type", "application/json");
    header("tessera_position", position);
    header("tessera_version", version);
    header("tessera_schema", schema);

    rd_kafka_error_t* error = rd_kafka_produceva(producer_.get(), vus.data(), vus.size());
    if (error == nullptr) return Produced::ok;
    const auto code = rd_kafka_error_code(error);
    const std::string reason = rd_kafka_error_string(error);
    rd_kafka_error_destroy(error);
    if (code == RD_KAFKA_RESP_ERR__QUEUE_FULL) return Produced::queue_full;
    spdlog::warn("kafka relay: cannot produce {} (position {}) to {}: {}", id, event.position.value,
                 rd_kafka_topic_name(topic), reason);
    return Produced::failed;
  }

  rd_kafka_topic_t* topic_handle(const std::string& name) {
    if (const auto it = topics_.find(name); it != topics_.end()) return it->second.get();
    rd_kafka_topic_t* rkt = rd_kafka_topic_new(producer_.get(), name.c_str(), nullptr);
    if (rkt == nullptr) {
      spdlog::warn("kafka relay: cannot create a handle for topic {}: {}", name,
                   rd_kafka_err2str(rd_kafka_last_error()));
      return nullptr;
    }
    topics_.emplace(name, detail::TopicPtr(rkt));
    return rkt;
  }

  // A synced write: at most once per checkpoint_interval unless forced.
  void persist_checkpoint(bool force) {
    const std::uint64_t checkpoint = progress_.checkpoint();
    if (checkpoint == persisted_ || cluster_id_.empty()) return;
    const auto now = Clock::now();
    if (!force && now - last_persist_ < relay_.options_.checkpoint_interval) return;
    last_persist_ = now;
    const auto stored = relay_.log_.put_meta(checkpoint_key(cluster_id_), std::to_string(checkpoint),
                                             eventstore::Log::MetaWrite::synced);
    if (!stored) {
      spdlog::warn("kafka relay: cannot store checkpoint {}: {}", checkpoint, stored.error().message());
      return;
    }
    persisted_ = checkpoint;
  }

  static void on_delivery(rd_kafka_t*, const rd_kafka_message_t* message, void* opaque) {
    auto& self = *static_cast<Session*>(opaque);
    const auto position = static_cast<std::uint64_t>(reinterpret_cast<std::uintptr_t>(message->_private));
    if (self.in_flight_ > 0) --self.in_flight_;
    if (message->err == RD_KAFKA_RESP_ERR_NO_ERROR) {
      self.progress_.acknowledged(position);
      self.relay_.published_.store(self.progress_.checkpoint());
      return;
    }
    if (self.abandoning_) return;
    // librdkafka has given up on this message after its own retries: later
    // messages of the same partition must not overtake it, so this producer
    // is done and the next one starts again from the checkpoint.
    if (!self.failed_) {
      spdlog::warn(
          "kafka relay: delivery of position {} to {} failed: {}; restarting the producer from "
          "checkpoint {}",
          position, rd_kafka_topic_name(message->rkt), rd_kafka_err2str(message->err), self.progress_.checkpoint());
    }
    self.failed_ = true;
  }

  static void on_error(rd_kafka_t* rk, int err, const char* reason, void* opaque) {
    auto& self = *static_cast<Session*>(opaque);
    if (err == RD_KAFKA_RESP_ERR__FATAL) {
      char fatal[512];
      const auto cause = rd_kafka_fatal_error(rk, fatal, sizeof fatal);
      spdlog::warn("kafka relay: fatal producer error {}: {}; restarting the producer from checkpoint {}",
                   rd_kafka_err2name(cause), fatal, self.progress_.checkpoint());
      self.failed_ = true;
      return;
    }
    // Transport errors, all brokers down and the like: librdkafka retries
    // them itself, the relay's events only wait. librdkafka has already
    // logged a failed connection (as FAIL), so that one is not repeated.
    spdlog::log(err == RD_KAFKA_RESP_ERR__TRANSPORT ? spdlog::level::debug : spdlog::level::warn,
                "kafka relay: {} ({}); retrying", reason, rd_kafka_err2name(static_cast<rd_kafka_resp_err_t>(err)));
  }

  Relay& relay_;
  detail::HandlePtr producer_;
  std::unordered_map<std::string, detail::TopicPtr> topics_;  // of producer_, released before it
  Progress progress_;
  std::string cluster_id_;
  std::uint64_t next_read_ = 0;  // the last position read from the log
  std::deque<eventstore::RecordedEvent> unsent_;
  std::size_t in_flight_ = 0;
  bool failed_ = false;
  bool abandoning_ = false;
  std::uint64_t persisted_ = 0;
  Clock::time_point last_persist_;
};

ProducerSettings relay_producer_settings(const RelayOptions& o) {
  return {
      {"bootstrap.servers", o.bootstrap},
      {"client.id", o.client_id},
      // Idempotence keeps a partition's messages in order and without
      // duplicates across librdkafka's own retries; it implies acks=all,
      // but say so: it is the durability this relay promises.
      {"enable.idempotence", "true"},
      {"acks", "all"},
      // A batch that fails for good (message too large, say) stops the
      // producer with a fatal error instead of letting librdkafka bump its
      // epoch and send the partition's next batch: that batch would reach the
      // topic before the relay, on its own thread, has heard of the failure
      // and re-sent the failed events, and a stream would arrive out of
      // order (seen in tests/e2e/kafka_faults_test.cc under ASan).
      {"enable.gapless.guarantee", "true"},
      // One Produce request in flight per broker. With more, a request that
      // fails with a retriable error (leader change, timeout) can be
      // overtaken by the next one; librdkafka then takes the later one's
      // success as proof that the earlier messages were written too, which
      // holds only on a broker that checks idempotent sequence numbers.
      // librdkafka's mock cluster checks them for transactional producers
      // only, and acknowledged messages it never stored (seen in
      // tests/e2e/kafka_faults_test.cc). Batches stay large (linger.ms).
      {"max.in.flight.requests.per.connection", "1"},
      // Never give up on a message: the gapless guarantee does not cover a
      // message that times out, and an outage only delays the relay anyway.
      {"message.timeout.ms", "0"},
      // The Java client's partitioner, so every client agrees on a key's partition.
      {"partitioner", "murmur2_random"},
      {"linger.ms", std::to_string(o.linger.count())},
      // librdkafka backs off up to 10 s between reconnects by default; a
      // shorter ceiling ends an outage's delay soon after the brokers return.
      {"reconnect.backoff.max.ms", "1000"},
      {"queue.buffering.max.messages", std::to_string(std::max<std::size_t>(o.max_in_flight * 2, 1000))},
      {"api.version.request", "true"},  // the default, and rd_kafka_clusterid needs it
  };
}

Relay::Relay(eventstore::Log& log, RelayOptions options) : log_(log), options_(std::move(options)) {}

Relay::~Relay() { stop(); }

std::string Relay::checkpoint_key(std::string_view cluster_id) { return "relay.checkpoint." + std::string(cluster_id); }

result<RelayLag> Relay::lag(std::chrono::system_clock::time_point now) const {
  // The checkpoint first: the head read after it can only be further on, so
  // the figure never goes negative.
  const std::uint64_t published = published_.load();
  const std::uint64_t head = log_.head().value;
  if (head <= published) return RelayLag{};
  const auto next = log_.read_all(eventstore::Position{published}, 1);
  if (!next) return next.error();
  if (next.value().empty()) return RelayLag{head - published, 0};
  const auto recorded =
      std::chrono::system_clock::time_point(std::chrono::microseconds(next.value().front().recorded_at_micros));
  const std::chrono::duration<double> waited = now - recorded;
  return RelayLag{head - published, std::max(0.0, waited.count())};
}

std::string Relay::cluster_id() const {
  std::lock_guard lock(cluster_mutex_);
  return cluster_id_;
}

void Relay::start() {
  if (thread_.joinable()) return;
  stopping_.store(false);
  fresh_start_ = true;
  thread_ = std::thread([this] { run(); });
}

void Relay::stop() {
  if (!thread_.joinable()) return;
  stopping_.store(true);
  thread_.join();
}

void Relay::sleep_unless_stopping(std::chrono::milliseconds duration) const {
  const auto until = Clock::now() + duration;
  while (!stopping() && Clock::now() < until) {
    std::this_thread::sleep_for(std::min<Clock::duration>(kPollSlice, until - Clock::now()));
  }
}

void Relay::run() {
  spdlog::info("kafka relay: publishing the log to {}", options_.bootstrap);
  auto backoff = std::chrono::milliseconds(kRebuildBackoffFirst);
  while (!stopping()) {
    const auto began = Clock::now();
    if (run_session() == SessionEnd::stopped) break;
    ++producer_restarts_;
    // A session that ran a while before failing earns a quick retry; one
    // that fails at once waits longer each time, up to a ceiling.
    backoff = Clock::now() - began > kRebuildBackoffMax
                  ? std::chrono::milliseconds(kRebuildBackoffFirst)
                  : std::min<std::chrono::milliseconds>(backoff * 2, kRebuildBackoffMax);
    sleep_unless_stopping(backoff);
  }
  spdlog::info("kafka relay: stopped at position {}", published_.load());
}

Relay::SessionEnd Relay::run_session() {
  Session session(*this);
  if (!session.create_producer()) return SessionEnd::rebuild;

  // The cluster id keys the checkpoint: a different cluster has not seen
  // what the relay published elsewhere.
  std::optional<std::string> id;
  auto waiting_since = Clock::now();
  while (!stopping() && !(id = session.cluster_id(kClusterIdWait))) {
    if (Clock::now() - waiting_since > 10s) {
      spdlog::warn("kafka relay: still waiting to reach the cluster at {}", options_.bootstrap);
      waiting_since = Clock::now();
    }
  }
  if (!id) return SessionEnd::stopped;

  std::uint64_t from = 0;
  const std::string previous = cluster_id();
  if (fresh_start_ && options_.republish_from_start) {
    from = 0;
  } else if (!fresh_start_ && *id == previous) {
    from = published_.load();  // a rebuild: the previous session's checkpoint, maybe not stored yet
  } else {
    const auto stored = log_.get_meta(checkpoint_key(*id));
    if (!stored) {
      spdlog::warn("kafka relay: cannot read the checkpoint for cluster {}: {}", *id, stored.error().message());
      return SessionEnd::rebuild;
    }
    if (stored.value()) {
      const auto parsed = parse_decimal(*stored.value());
      if (!parsed) {
        spdlog::warn(
            "kafka relay: checkpoint '{}' for cluster {} is not a number; publishing from the "
            "start",
            *stored.value(), *id);
      }
      from = parsed.value_or(0);
    }
  }
  if (const auto head = log_.head().value; from > head) {
    // The log is older than what this cluster has seen (restored from a
    // backup?): go on from its end, and say so, since consumers that applied
    // the lost stream versions will skip the new events that reuse them.
    spdlog::warn("kafka relay: checkpoint {} for cluster {} is beyond the log's end {}", from, *id, head);
    from = head;
  }
  fresh_start_ = false;
  {
    std::lock_guard lock(cluster_mutex_);
    cluster_id_ = *id;
  }
  spdlog::info("kafka relay: cluster {} at {}, publishing after position {}", *id, options_.bootstrap, from);
  session.begin(*id, from);
  const SessionEnd end = session.pump();
  if (end == SessionEnd::stopped) session.flush();
  // Acknowledgements that arrive while the producer is torn down still count,
  // so the checkpoint is stored after it: published() then equals what is stored.
  session.destroy_producer();
  session.store_checkpoint();
  return end;
}

}  // namespace tessera::kafka
