// The vocabulary of the log: positions, versions, events going in and coming out.
#pragma once

#include <array>
#include <compare>
#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include "tessera/base/error.h"

namespace tessera::eventstore {

// A global position: 1 for the first event ever appended, gap-free after it.
// Position{0} means "before the first event".
struct Position {
  std::uint64_t value = 0;
  auto operator<=>(const Position&) const = default;
};

// How many events a stream holds; the version of its latest event. 0: none.
struct StreamVersion {
  std::uint64_t value = 0;
  auto operator<=>(const StreamVersion&) const = default;
};

using Hash = std::array<unsigned char, 32>;

struct ProposedEvent {
  std::string type;
  std::uint16_t schema = 1;
  std::string payload;  // JSON
};

// Events for one stream, appended only if the stream is at `expected`
// (nullopt: at any version).
struct StreamWrite {
  std::string stream;
  std::optional<StreamVersion> expected;
  std::vector<ProposedEvent> events;
};

// One atomic append, to one or several streams: all of it or none of it.
struct AppendRequest {
  std::vector<StreamWrite> writes;
  std::int64_t recorded_at_micros = 0;
  // With a key, the request is appended at most once. The key is recorded in
  // the same write as the events; a request whose key is already recorded (by
  // an earlier append, or an earlier request of the same batch) appends
  // nothing and answers the recorded positions, marked `replayed`. Keys are
  // opaque, non-empty bytes, scoped by the caller (the API prefixes its
  // clients' keys with the organisation and the route).
  std::optional<std::string> idempotency_key = std::nullopt;
  // What the keyed request asks, as the caller identifies it (a hash of it).
  // A recorded key is replayed only for the same fingerprint; another one is
  // refused with errc::idempotency_key_reused. Ignored without a key.
  std::string fingerprint = {};
};

struct AppendResult {
  Position first;  // position of the request's first event
  Position last;   // and of its last
  // The request's idempotency key was already recorded: nothing was appended,
  // and first/last are the positions of the append that recorded it.
  bool replayed = false;
};

// What the log recorded under an idempotency key: the positions of the events
// appended with it (replayed = true) and the request's fingerprint.
struct IdempotencyRecord {
  AppendResult result;
  std::string fingerprint = {};
};

// A stream's aggregate state at `version`, encoded by the caller (opaque here).
struct Snapshot {
  std::string stream;
  StreamVersion version;
  std::string state;
};

struct RecordedEvent {
  Position position;
  std::string stream;
  StreamVersion version;
  std::string type;
  std::uint16_t schema = 1;
  std::int64_t recorded_at_micros = 0;
  std::string payload;
  Hash hash{};  // covers this event's content and the previous event's hash

  // A stable, unique id: the stream and the version, e.g. "code-7K4Q...@1".
  std::string id() const { return stream + "@" + std::to_string(version.value); }
};

}  // namespace tessera::eventstore
