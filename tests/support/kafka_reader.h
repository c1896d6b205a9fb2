// Test support: reads Kafka topics back from the beginning, the way an
// independent consumer would, to check what the relay published.
#pragma once

#include <chrono>
#include <cstdint>
#include <map>
#include <string>
#include <vector>

namespace tessera::test_support {

struct ConsumedMessage {
  std::string topic;
  int partition = 0;
  std::int64_t offset = 0;
  std::string key;
  std::string value;
  std::map<std::string, std::string> headers;  // a repeated header keeps its last value
};

// Reads every partition of `topics` from its first offset with a fresh
// consumer (partitions assigned explicitly from metadata, no group
// membership, no offset commits). Returns once it holds at least `at_least`
// messages and has read every partition to its end (so duplicates beyond
// `at_least` are included), or when `timeout` passes, with what it has read.
// A topic that does not exist yet counts as empty but is looked for again
// until then. The result is sorted by topic, partition and offset.
// Throws std::runtime_error if the consumer cannot be created.
std::vector<ConsumedMessage> read_messages(const std::string& bootstrap, const std::vector<std::string>& topics,
                                           std::size_t at_least, std::chrono::milliseconds timeout);

}  // namespace tessera::test_support
