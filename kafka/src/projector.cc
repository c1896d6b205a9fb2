#include "tessera/kafka/projector.h"

#include <librdkafka/rdkafka.h>
#include <spdlog/spdlog.h>

#include <algorithm>
#include <array>
#include <charconv>
#include <map>
#include <set>
#include <string_view>
#include <utility>
#include <variant>

#include "rdkafka_support.h"
#include "tessera/codec/time.h"
#include "tessera/domain/streams.h"
#include "tessera/kafka/topics.h"

namespace tessera::kafka {
namespace {

using namespace std::chrono_literals;
using Clock = std::chrono::steady_clock;

// Every wait is bounded by one of these, so that stop() is noticed quickly.
constexpr auto kIdlePoll = 100ms;
constexpr auto kRetryWait = 500ms;
constexpr auto kStatusInterval = 50ms;

constexpr std::string_view kTypePrefix = "tessera.";

template <class Int>
std::optional<Int> parse_decimal(std::string_view text) {
  Int value = 0;
  const auto [ptr, ec] = std::from_chars(text.data(), text.data() + text.size(), value);
  if (ec != std::errc() || ptr != text.data() + text.size()) return std::nullopt;
  return value;
}

std::optional<std::string_view> header(rd_kafka_headers_t* headers, const char* name) {
  const void* value = nullptr;
  std::size_t size = 0;
  if (headers == nullptr || rd_kafka_header_get_last(headers, name, &value, &size) != RD_KAFKA_RESP_ERR_NO_ERROR) {
    return std::nullopt;
  }
  if (value == nullptr) return std::string_view();
  return std::string_view(static_cast<const char*>(value), size);
}

std::string_view bytes(const void* data, std::size_t size) {
  return data == nullptr ? std::string_view() : std::string_view(static_cast<const char*>(data), size);
}

// The event a relay's message carries (relay.h), or why it carries none.
std::variant<eventstore::RecordedEvent, std::string> to_event(const rd_kafka_message_t& message) {
  rd_kafka_headers_t* headers = nullptr;
  if (rd_kafka_message_headers(&message, &headers) != RD_KAFKA_RESP_ERR_NO_ERROR) headers = nullptr;

  eventstore::RecordedEvent event;
  const auto subject = header(headers, "ce_subject");
  event.stream = std::string(subject ? *subject : bytes(message.key, message.key_len));
  if (event.stream.empty()) return std::string("not a Tessera event: no ce_subject and no key");

  const auto type = header(headers, "ce_type");
  if (!type || !type->starts_with(kTypePrefix)) return std::string("not a Tessera event: no ce_type tessera.<type>");
  event.type = std::string(type->substr(kTypePrefix.size()));

  const auto version = header(headers, "tessera_version");
  const auto parsed_version = version ? parse_decimal<std::uint64_t>(*version) : std::nullopt;
  if (!parsed_version || *parsed_version == 0) return std::string("not a Tessera event: no tessera_version");
  event.version.value = *parsed_version;

  const auto position = header(headers, "tessera_position");
  const auto parsed_position = position ? parse_decimal<std::uint64_t>(*position) : std::nullopt;
  if (!parsed_position || *parsed_position == 0) return std::string("not a Tessera event: no tessera_position");
  event.position.value = *parsed_position;

  // Relays before tessera_schema existed wrote schema 1 only.
  const auto schema = header(headers, "tessera_schema");
  const auto parsed_schema = schema ? parse_decimal<std::uint16_t>(*schema) : std::uint16_t{1};
  if (!parsed_schema) return std::string("not a Tessera event: a tessera_schema that is not a number");
  event.schema = *parsed_schema;

  if (const auto time = header(headers, "ce_time")) {
    if (const auto at = codec::parse_rfc3339(*time)) event.recorded_at_micros = at->micros;
  }
  event.payload = std::string(bytes(message.payload, message.len));
  // Checked here, not only by the fold, so that the projector stops at this
  // message with the messages before it applied.
  if (auto decoded = projections::decode(event); !decoded) return decoded.error().message();
  return event;
}

std::string describe(const MessageAt& at) {
  return "the message at " + at.topic + " [" + std::to_string(at.partition) + "] offset " + std::to_string(at.offset);
}

}  // namespace

// The consumer's life on the projector's thread: librdkafka calls the
// rebalance callback from rd_kafka_consumer_poll() on that thread too, so
// nothing here needs a lock but the status it publishes.
class Projector::Consumer {
 public:
  explicit Consumer(Projector& owner) : owner_(owner), report_("kafka projector", describe) {}
  Consumer(const Consumer&) = delete;
  Consumer& operator=(const Consumer&) = delete;

  result<void> create() {
    const ProjectorOptions& o = owner_.options_;
    auto conf = detail::new_conf();
    const std::array<std::pair<const char*, std::string>, 8> settings = {{
        {"bootstrap.servers", o.bootstrap},
        {"group.id", o.group},
        {"client.id", o.client_id},
        // The offsets that count are those stored with the models; the
        // group's are committed by hand, for monitoring.
        {"enable.auto.commit", "false"},
        {"enable.auto.offset.store", "false"},
        {"auto.offset.reset", "earliest"},
        // Eager rebalancing: each assignment is a whole one (rd_kafka_assign).
        {"partition.assignment.strategy", "range,roundrobin"},
        {"session.timeout.ms", std::to_string(o.session_timeout.count())},
    }};
    for (const auto& [name, value] : settings) {
      BOOST_OUTCOME_TRY(detail::set_config(conf.get(), name, value));
    }
    rd_kafka_conf_set_opaque(conf.get(), this);
    rd_kafka_conf_set_rebalance_cb(conf.get(), &Consumer::on_rebalance);
    rd_kafka_conf_set_error_cb(conf.get(), &Consumer::on_error);
    auto handle = detail::new_handle(RD_KAFKA_CONSUMER, std::move(conf));
    if (!handle) return handle.error();
    consumer_ = std::move(handle).value();
    rd_kafka_poll_set_consumer(consumer_.get());

    std::vector<std::string> topics = o.topics;
    if (topics.empty()) {
      for (const auto category : domain::kStreamCategories) topics.push_back(topic_for_category(category));
    }
    rd_kafka_topic_partition_list_t* list = rd_kafka_topic_partition_list_new(static_cast<int>(topics.size()));
    for (const auto& topic : topics) rd_kafka_topic_partition_list_add(list, topic.c_str(), RD_KAFKA_PARTITION_UA);
    const auto err = rd_kafka_subscribe(consumer_.get(), list);
    rd_kafka_topic_partition_list_destroy(list);
    if (err != RD_KAFKA_RESP_ERR_NO_ERROR) {
      spdlog::warn("kafka projector: cannot subscribe: {}", rd_kafka_err2str(err));
      return make_kafka_error(err);
    }
    spdlog::info("kafka projector: group {} reading {} topic(s) from {}", o.group, topics.size(), o.bootstrap);
    return boost::outcome_v2::success();
  }

  void run() {
    while (!owner_.stopping_.load()) {
      if (stalled_ && !retrying_ && Clock::now() >= retry_at_) {
        retrying_ = true;
        fetch();
      }
      const bool holding = pending_messages_ > 0;
      rd_kafka_message_t* message =
          rd_kafka_consumer_poll(consumer_.get(), holding ? 0 : static_cast<int>(kIdlePoll.count()));
      if (message == nullptr) {
        // Nothing more at hand: what was gathered becomes one write batch.
        if (holding) flush();
        publish_status(false);
        continue;
      }
      take(*message);
      rd_kafka_message_destroy(message);
      if (pending_messages_ >= owner_.options_.max_batch) flush();
    }
    flush();
    // Leaves the group: the revocation comes through on_rebalance first.
    const auto err = rd_kafka_consumer_close(consumer_.get());
    if (err != RD_KAFKA_RESP_ERR_NO_ERROR) {
      spdlog::warn("kafka projector: leaving the group: {}", rd_kafka_err2str(err));
    }
    publish_status(true);
    consumer_.reset();
  }

 private:
  using TopicPartition = std::pair<std::string, std::int32_t>;

  void take(const rd_kafka_message_t& message) {
    if (message.err != RD_KAFKA_RESP_ERR_NO_ERROR) {
      // Errors the consumer reports in band (a topic not there yet, a
      // broker gone): librdkafka retries on its own.
      if (message.err != RD_KAFKA_RESP_ERR__PARTITION_EOF) {
        spdlog::warn("kafka projector: {}", rd_kafka_message_errstr(&message));
      }
      return;
    }
    const TopicPartition where{rd_kafka_topic_name(message.rkt), message.partition};
    if (stalled_ && (!retrying_ || where != TopicPartition{stalled_->topic, stalled_->partition} ||
                     message.offset < stalled_->offset)) {
      return;  // fetched before it stopped: read again, from the stored offsets, once it moves on
    }
    auto event = to_event(message);
    if (auto* why = std::get_if<std::string>(&event)) {
      stop_at(MessageAt{where.first, where.second, message.offset}, std::move(*why));
      return;
    }
    auto& next = pending_offsets_[where];
    next = std::max(next, message.offset + 1);
    ++pending_messages_;
    ++messages_;
    events_.push_back(std::move(std::get<eventstore::RecordedEvent>(event)));
    if (stalled_) {
      // The message it stopped at reads now: fold it, then read everything again.
      stalled_.reset();
      retrying_ = false;
      report_.moved_on();
      flush();
      fetch();
    }
  }

  // Stops at a message it cannot fold (projections/stall.h): applies what
  // was read before it, stores no offset past it, and fetches nothing until
  // the retry.
  void stop_at(MessageAt at, std::string why) {
    flush();
    report_.stalled(at, std::move(why));
    stalled_ = std::move(at);
    retrying_ = false;
    retry_at_ = Clock::now() + owner_.options_.stall_retry;
    fetch();
    publish_status(true);
  }

  // Points the consumer at what it reads now: each assigned partition from
  // the offset stored with the models (from the beginning where none is);
  // while stopped, nothing but, during a retry, the message it stopped at.
  // rd_kafka_assign() drops what was fetched and not yet polled, so nothing
  // read before this call comes after it.
  void fetch() {
    rd_kafka_topic_partition_list_t* list = rd_kafka_topic_partition_list_new(static_cast<int>(assigned_.size()));
    if (!stalled_) {
      for (const auto& where : assigned_) {
        const auto found = stored_.find(where);
        rd_kafka_topic_partition_list_add(list, where.first.c_str(), where.second)->offset =
            found == stored_.end() ? RD_KAFKA_OFFSET_BEGINNING : found->second;
      }
    } else if (retrying_) {
      rd_kafka_topic_partition_list_add(list, stalled_->topic.c_str(), stalled_->partition)->offset = stalled_->offset;
    }
    const auto err = rd_kafka_assign(consumer_.get(), list);
    rd_kafka_topic_partition_list_destroy(list);
    if (err != RD_KAFKA_RESP_ERR_NO_ERROR) {
      spdlog::error("kafka projector: cannot fetch the assigned partitions: {}", rd_kafka_err2str(err));
    }
  }

  // Folds what was gathered, with its offsets, in one write; retries a
  // failed write (the disk, not the events) until it succeeds or the
  // projector stops, in which case what was gathered is read again next time.
  void flush() {
    if (pending_messages_ == 0) return;
    std::vector<projections::PartitionOffset> offsets;
    offsets.reserve(pending_offsets_.size());
    for (const auto& [where, next] : pending_offsets_) {
      const auto stored = stored_.find(where);
      // Never move a stored offset back (a re-read after a rebalance).
      offsets.push_back({where.first, where.second, stored == stored_.end() ? next : std::max(next, stored->second)});
    }
    for (;;) {
      auto applied = owner_.models_.apply_from_kafka(events_, offsets);
      if (applied) {
        applied_ += applied.value();
        duplicates_ += events_.size() - applied.value();
        break;
      }
      spdlog::error("kafka projector: cannot apply {} event(s): {}; retrying", events_.size(),
                    applied.error().message());
      if (owner_.stopping_.load()) return;
      std::this_thread::sleep_for(kRetryWait);
    }
    for (const auto& offset : offsets) stored_[{offset.topic, offset.partition}] = offset.next;
    commit_to_group(offsets);
    events_.clear();
    pending_offsets_.clear();
    pending_messages_ = 0;
    publish_status(true);
  }

  // The group's committed offsets follow the stored ones, for tools that
  // watch a group's lag; nothing reads them back.
  void commit_to_group(const std::vector<projections::PartitionOffset>& offsets) {
    rd_kafka_topic_partition_list_t* list = rd_kafka_topic_partition_list_new(static_cast<int>(offsets.size()));
    for (const auto& offset : offsets) {
      if (!assigned_.contains({offset.topic, offset.partition})) continue;
      rd_kafka_topic_partition_list_add(list, offset.topic.c_str(), offset.partition)->offset = offset.next;
    }
    if (list->cnt > 0) (void)rd_kafka_commit(consumer_.get(), list, /*async=*/1);
    rd_kafka_topic_partition_list_destroy(list);
  }

  void on_assign(rd_kafka_topic_partition_list_t* partitions) {
    flush();
    auto stored = owner_.models_.kafka_offsets();
    if (!stored) {
      // From the start instead: slower, but every event read again is skipped.
      spdlog::error("kafka projector: cannot read the stored offsets: {}; reading from the start",
                    stored.error().message());
    } else {
      for (const auto& offset : stored.value()) stored_[{offset.topic, offset.partition}] = offset.next;
    }
    assigned_.clear();
    for (int i = 0; i < partitions->cnt; ++i) {
      assigned_.insert({partitions->elems[i].topic, partitions->elems[i].partition});
    }
    if (stalled_ && !assigned_.contains({stalled_->topic, stalled_->partition})) {
      // Its partition is another member's now: so is the stop.
      stalled_.reset();
      report_.moved_on();
    }
    retrying_ = false;
    fetch();
    spdlog::info("kafka projector: assigned {} partition(s)", partitions->cnt);
    publish_status(true);
  }

  void on_revoke() {
    flush();
    rd_kafka_assign(consumer_.get(), nullptr);
    assigned_.clear();
    retrying_ = false;  // the next assignment says whether the stop is still this member's
    publish_status(true);
  }

  void publish_status(bool force) {
    const auto now = Clock::now();
    if (!force && now - last_status_ < kStatusInterval) return;
    last_status_ = now;
    ProjectorStatus status;
    status.messages = messages_;
    status.applied = applied_;
    status.duplicates = duplicates_;
    status.stalled = report_.current();
    for (const auto& [topic, partition] : assigned_) {
      PartitionProgress progress{topic, partition, 0, std::nullopt};
      if (const auto it = stored_.find({topic, partition}); it != stored_.end()) progress.next = it->second;
      std::int64_t low = 0;
      std::int64_t high = RD_KAFKA_OFFSET_INVALID;
      if (consumer_ &&
          rd_kafka_get_watermark_offsets(consumer_.get(), topic.c_str(), partition, &low, &high) ==
              RD_KAFKA_RESP_ERR_NO_ERROR &&
          high >= 0) {
        progress.end = high;
        status.lag = status.lag.value_or(0) + std::max<std::int64_t>(0, high - progress.next);
      }
      status.partitions.push_back(std::move(progress));
    }
    std::lock_guard lock(owner_.status_mutex_);
    owner_.status_ = std::move(status);
  }

  static void on_rebalance(rd_kafka_t*, rd_kafka_resp_err_t err, rd_kafka_topic_partition_list_t* partitions,
                           void* opaque) {
    auto& self = *static_cast<Consumer*>(opaque);
    if (err == RD_KAFKA_RESP_ERR__ASSIGN_PARTITIONS) {
      self.on_assign(partitions);
    } else {
      // A revocation, or a failed rebalance: let go of everything.
      self.on_revoke();
    }
  }

  static void on_error(rd_kafka_t*, int err, const char* reason, void*) {
    // librdkafka recovers from these by itself (a broker down, a timeout);
    // a failed connection it has already logged.
    spdlog::log(err == RD_KAFKA_RESP_ERR__TRANSPORT ? spdlog::level::debug : spdlog::level::warn,
                "kafka projector: {} ({})", reason, rd_kafka_err2name(static_cast<rd_kafka_resp_err_t>(err)));
  }

  Projector& owner_;
  detail::HandlePtr consumer_;
  std::vector<eventstore::RecordedEvent> events_;           // read, not yet applied
  std::map<TopicPartition, std::int64_t> pending_offsets_;  // next offsets after them
  std::size_t pending_messages_ = 0;                        // messages they came from
  std::map<TopicPartition, std::int64_t> stored_;           // next offsets stored with the models
  std::set<TopicPartition> assigned_;
  std::uint64_t messages_ = 0;
  std::uint64_t applied_ = 0;
  std::uint64_t duplicates_ = 0;
  // Set while stopped at a message it cannot fold; retrying_ while that
  // message alone is being read again.
  std::optional<MessageAt> stalled_;
  bool retrying_ = false;
  Clock::time_point retry_at_;
  projections::StallReport<MessageAt> report_;
  Clock::time_point last_status_;
};

Projector::Projector(projections::ReadModels& models, ProjectorOptions options)
    : models_(models), options_(std::move(options)) {}

Projector::~Projector() { stop(); }

result<void> Projector::start() {
  if (thread_.joinable()) return boost::outcome_v2::success();
  auto consumer = std::make_unique<Consumer>(*this);
  BOOST_OUTCOME_TRY(consumer->create());
  consumer_ = std::move(consumer);
  stopping_.store(false);
  thread_ = std::thread([this] { consumer_->run(); });
  return boost::outcome_v2::success();
}

void Projector::stop() {
  if (!thread_.joinable()) return;
  stopping_.store(true);
  thread_.join();
  consumer_.reset();
}

ProjectorStatus Projector::status() const {
  std::lock_guard lock(status_mutex_);
  return status_;
}

}  // namespace tessera::kafka
