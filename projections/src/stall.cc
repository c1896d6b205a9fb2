#include "tessera/projections/stall.h"

#include <spdlog/spdlog.h>

#include "tessera/codec/json.h"
#include "tessera/eventstore/errc.h"

namespace tessera::projections {

result<domain::Event> decode(const eventstore::RecordedEvent& recorded) {
  auto event = codec::decode_event(recorded.type, recorded.schema, recorded.payload);
  if (!event) {
    return Error(eventstore::errc::corruption,
                 "the event at position " + std::to_string(recorded.position.value) + " (" + recorded.stream + ", " +
                     recorded.type + " schema " + std::to_string(recorded.schema) +
                     ") does not decode: a type or schema this binary does not know, or a payload that does not parse");
  }
  return std::move(*event);
}

namespace detail {

void log_stall(StallLine line, std::string_view projector, std::string_view at, std::string_view reason,
               std::uint64_t attempts) {
  switch (line) {
    case StallLine::stopped:
      spdlog::error(
          "{}: stopped at {}, not skipping it (the read models stay before it; it reads it again "
          "periodically): {}",
          projector, at, reason);
      return;
    case StallLine::still:
      spdlog::warn("{}: still stopped at {} after {} attempts: {}", projector, at, attempts, reason);
      return;
    case StallLine::moved_on:
      spdlog::info("{}: moved on from {} after {} attempt(s)", projector, at, attempts);
      return;
  }
}

}  // namespace detail
}  // namespace tessera::projections
