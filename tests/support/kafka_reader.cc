#include "kafka_reader.h"

#include <librdkafka/rdkafka.h>

#include <algorithm>
#include <memory>
#include <random>
#include <set>
#include <stdexcept>
#include <tuple>
#include <utility>

namespace tessera::test_support {
namespace {

using Clock = std::chrono::steady_clock;
using TopicPartition = std::pair<std::string, int>;

struct HandleDeleter {
  void operator()(rd_kafka_t* rk) const {
    rd_kafka_consumer_close(rk);
    rd_kafka_destroy(rk);
  }
};
using Consumer = std::unique_ptr<rd_kafka_t, HandleDeleter>;

struct PartitionListDeleter {
  void operator()(rd_kafka_topic_partition_list_t* list) const { rd_kafka_topic_partition_list_destroy(list); }
};

void set(rd_kafka_conf_t* conf, const char* name, const std::string& value) {
  char errstr[512];
  if (rd_kafka_conf_set(conf, name, value.c_str(), errstr, sizeof errstr) != RD_KAFKA_CONF_OK) {
    rd_kafka_conf_destroy(conf);
    throw std::runtime_error(std::string("kafka_reader: ") + name + ": " + errstr);
  }
}

Consumer make_consumer(const std::string& bootstrap) {
  rd_kafka_conf_t* conf = rd_kafka_conf_new();
  std::random_device random;
  set(conf, "bootstrap.servers", bootstrap);
  // A group of its own: it never joins (no subscribe) nor commits; librdkafka
  // only needs the id to route fetched messages to rd_kafka_consumer_poll.
  set(conf, "group.id", "tessera-test-reader-" + std::to_string(random()));
  set(conf, "enable.auto.commit", "false");
  set(conf, "auto.offset.reset", "earliest");
  set(conf, "enable.partition.eof", "true");
  // A broker holds a fetch at a partition's end this long before answering
  // "nothing new": the end-of-partition news the reader waits for.
  set(conf, "fetch.wait.max.ms", "50");
  set(conf, "allow.auto.create.topics", "false");
  set(conf, "topic.metadata.refresh.interval.ms", "1000");
  set(conf, "reconnect.backoff.max.ms", "1000");
  set(conf, "log_level", "3");
  char errstr[512];
  rd_kafka_t* rk = rd_kafka_new(RD_KAFKA_CONSUMER, conf, errstr, sizeof errstr);
  if (rk == nullptr) {
    rd_kafka_conf_destroy(conf);
    throw std::runtime_error(std::string("kafka_reader: cannot create a consumer: ") + errstr);
  }
  return Consumer(rk);
}

// The partition count of `topic`, or 0 if the cluster does not know it (yet).
int partition_count(rd_kafka_t* rk, const std::string& topic, std::chrono::milliseconds timeout) {
  rd_kafka_topic_t* rkt = rd_kafka_topic_new(rk, topic.c_str(), nullptr);
  if (rkt == nullptr) return 0;
  const rd_kafka_metadata_t* metadata = nullptr;
  const auto err = rd_kafka_metadata(rk, 0, rkt, &metadata, static_cast<int>(timeout.count()));
  int count = 0;
  if (err == RD_KAFKA_RESP_ERR_NO_ERROR) {
    for (int i = 0; i < metadata->topic_cnt; ++i) {
      const auto& t = metadata->topics[i];
      if (topic == t.topic && t.err == RD_KAFKA_RESP_ERR_NO_ERROR) count = t.partition_cnt;
    }
    rd_kafka_metadata_destroy(metadata);
  }
  rd_kafka_topic_destroy(rkt);
  return count;
}

std::map<std::string, std::string> headers_of(const rd_kafka_message_t* message) {
  std::map<std::string, std::string> out;
  rd_kafka_headers_t* headers = nullptr;
  if (rd_kafka_message_headers(message, &headers) != RD_KAFKA_RESP_ERR_NO_ERROR) return out;
  const char* name = nullptr;
  const void* value = nullptr;
  std::size_t size = 0;
  for (std::size_t i = 0; rd_kafka_header_get_all(headers, i, &name, &value, &size) == RD_KAFKA_RESP_ERR_NO_ERROR;
       ++i) {
    out[name] = value != nullptr ? std::string(static_cast<const char*>(value), size) : std::string();
  }
  return out;
}

}  // namespace

std::vector<ConsumedMessage> read_messages(const std::string& bootstrap, const std::vector<std::string>& topics,
                                           std::size_t at_least, std::chrono::milliseconds timeout) {
  using namespace std::chrono_literals;
  const auto deadline = Clock::now() + timeout;
  Consumer consumer = make_consumer(bootstrap);
  rd_kafka_t* rk = consumer.get();

  std::set<std::string> unknown(topics.begin(), topics.end());
  std::map<TopicPartition, bool> at_end;  // every assigned partition: read to its end?
  std::vector<ConsumedMessage> messages;
  auto next_lookup = Clock::now();

  const auto done = [&] {
    return messages.size() >= at_least &&
           std::all_of(at_end.begin(), at_end.end(), [](const auto& entry) { return entry.second; });
  };

  while (Clock::now() < deadline) {
    if (!unknown.empty() && Clock::now() >= next_lookup) {
      std::unique_ptr<rd_kafka_topic_partition_list_t, PartitionListDeleter> found(
          rd_kafka_topic_partition_list_new(4));
      for (auto it = unknown.begin(); it != unknown.end();) {
        const int partitions = partition_count(rk, *it, 1s);
        if (partitions == 0) {
          ++it;
          continue;
        }
        for (int p = 0; p < partitions; ++p) {
          rd_kafka_topic_partition_list_add(found.get(), it->c_str(), p)->offset = RD_KAFKA_OFFSET_BEGINNING;
          at_end[{*it, p}] = false;
        }
        it = unknown.erase(it);
      }
      if (found->cnt > 0) {
        if (rd_kafka_error_t* error = rd_kafka_incremental_assign(rk, found.get())) {
          const std::string reason = rd_kafka_error_string(error);
          rd_kafka_error_destroy(error);
          throw std::runtime_error("kafka_reader: cannot assign partitions: " + reason);
        }
      }
      next_lookup = Clock::now() + 200ms;
    }
    if (done()) break;

    rd_kafka_message_t* message = rd_kafka_consumer_poll(rk, 100);
    if (message == nullptr) continue;
    const std::unique_ptr<rd_kafka_message_t, decltype(&rd_kafka_message_destroy)> owned(message,
                                                                                         &rd_kafka_message_destroy);
    if (message->rkt == nullptr) continue;  // a client-level error event: librdkafka retries
    const TopicPartition where{rd_kafka_topic_name(message->rkt), message->partition};
    if (message->err == RD_KAFKA_RESP_ERR__PARTITION_EOF) {
      at_end[where] = true;
      continue;
    }
    if (message->err != RD_KAFKA_RESP_ERR_NO_ERROR) continue;
    at_end[where] = false;
    ConsumedMessage m;
    m.topic = where.first;
    m.partition = where.second;
    m.offset = message->offset;
    if (message->key != nullptr) m.key.assign(static_cast<const char*>(message->key), message->key_len);
    if (message->payload != nullptr) m.value.assign(static_cast<const char*>(message->payload), message->len);
    m.headers = headers_of(message);
    messages.push_back(std::move(m));
  }

  std::sort(messages.begin(), messages.end(), [](const ConsumedMessage& a, const ConsumedMessage& b) {
    return std::tie(a.topic, a.partition, a.offset) < std::tie(b.topic, b.partition, b.offset);
  });
  return messages;
}

}  // namespace tessera::test_support
