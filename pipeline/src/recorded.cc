#include "recorded.h"

#include "tessera/codec/json.h"
#include "tessera/eventstore/errc.h"

namespace tessera::pipeline::detail {

Error key_reused() {
  return Error{errc::idempotency_key_reused, "this idempotency key was first used with another request"};
}

Error from_log(Error error) {
  if (error == eventstore::errc::idempotency_key_reused) error.code = make_error_code(errc::idempotency_key_reused);
  return error;
}

result<std::optional<Accepted>> recorded_answer(const eventstore::Log& log, const IdempotencyKey& key) {
  auto found = log.find_idempotency_key(key.key);
  if (!found) return found.error();
  if (!found.value()) return std::optional<Accepted>();
  if (found.value()->fingerprint != key.fingerprint) return key_reused();
  auto first = read_back(log, found.value()->result);
  if (!first) return first.error();
  return std::optional<Accepted>(std::move(first).value());
}

result<Accepted> read_back(const eventstore::Log& log, eventstore::AppendResult positions) {
  positions.replayed = true;
  const std::uint64_t count = positions.last.value - positions.first.value + 1;
  auto recorded = log.read_all(eventstore::Position{positions.first.value - 1}, count);
  if (!recorded) return recorded.error();
  if (recorded.value().size() != count) {
    return Error{eventstore::errc::corruption, "the events of a recorded answer are missing"};
  }
  Accepted accepted{positions, {}, true};
  accepted.events.reserve(count);
  for (const auto& e : recorded.value()) {
    auto event = codec::decode_event(e.type, e.schema, e.payload);
    if (!event) return Error{eventstore::errc::corruption, "a recorded event does not decode"};
    accepted.events.push_back(domain::StreamEvent{domain::StreamId{e.stream}, std::move(*event)});
  }
  return accepted;
}

}  // namespace tessera::pipeline::detail
