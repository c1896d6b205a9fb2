// Where each stream's events go in Kafka: one topic per aggregate category,
// "tessera.<category in the plural>", keyed by stream id so that a stream's
// events share a partition and keep their order.
#pragma once

#include <string>
#include <string_view>

namespace tessera::kafka {

// "code" -> "tessera.codes", "batch" -> "tessera.batches",
// "registration" -> "tessera.registrations".
std::string topic_for_category(std::string_view category);

// The topic of a stream id: "session-acme-s1" -> "tessera.sessions".
std::string topic_for_stream(std::string_view stream);

}  // namespace tessera::kafka
