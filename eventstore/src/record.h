// Internal: the byte layout of the log's keys and records, and the hash chain.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

#include "tessera/eventstore/types.h"

namespace tessera::eventstore::detail {

// Big-endian, so that RocksDB's bytewise order is numeric order.
std::string encode_u64(std::uint64_t value);
std::uint64_t decode_u64(std::string_view bytes);

// Key of a stream index entry: stream, a NUL, then the version.
std::string stream_key(std::string_view stream, StreamVersion version);
// The same, appended to `out`.
void append_stream_key(std::string& out, std::string_view stream, StreamVersion version);

// The value stored at an event's position.
std::string encode_record(const RecordedEvent& event);
std::optional<RecordedEvent> decode_record(Position position, std::string_view bytes);

// The value stored under an idempotency key: first and last position, then
// the request's fingerprint.
std::string encode_idempotency(const AppendResult& result, std::string_view fingerprint);
std::optional<IdempotencyRecord> decode_idempotency(std::string_view bytes);

// The value stored under a stream in the snapshots family: the version, then
// the caller's encoded state.
std::string encode_snapshot(StreamVersion version, std::string_view state);
std::optional<Snapshot> decode_snapshot(std::string_view stream, std::string_view bytes);

// hash = SHA-256(previous hash || the event's content, position included).
Hash chain_hash(const Hash& previous, const RecordedEvent& event);

// An event about to be appended, its strings borrowed from the request.
struct NewEvent {
  Position position;
  std::string_view stream;
  StreamVersion version;
  std::string_view type;
  std::uint16_t schema = 1;
  std::int64_t recorded_at_micros = 0;
  std::string_view payload;
};

// The record of a new event chained to `previous`, encoding its content once:
// the same bytes as encode_record() of the event with hash = chain_hash(),
// which it stores in `hash`. Written over `out`, whose capacity a caller
// encoding many records reuses.
void encode_chained(const Hash& previous, const NewEvent& event, Hash& hash, std::string& out);

}  // namespace tessera::eventstore::detail
