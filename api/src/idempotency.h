// Internal: the Idempotency-Key header of POSTs: a retry with the same key
// returns the first answer and changes nothing.
//
// Two layers keep that promise:
// - The pipeline records the key in the log, in the same synced write as the
//   command's events, so a command applies at most once, across restarts.
// - Creates answer with what the read models hold after the write, so the
//   first answer cannot always be rebuilt later. After a 2xx answer to a keyed
//   request (but a 202, whose resource was not readable yet), the answer
//   itself (status, headers, body) is kept beside the log by the pipeline's
//   StoredAnswers; a retry finds it there and gets it back verbatim, without
//   submitting anything. If the events are in the log
//   but the answer is not (a crash between the two writes), the pipeline
//   replays the command and the route rebuilds the answer from the events'
//   ids and the current read models, and that answer is kept in turn.
// A replayed answer carries `Idempotent-Replayed: true`.
#pragma once

#include <functional>

#include "call.h"

namespace tessera::api::detail {

// The header's name, and the one that marks a replayed answer.
inline constexpr std::string_view kIdempotencyKeyHeader = "Idempotency-Key";
inline constexpr std::string_view kReplayedHeader = "Idempotent-Replayed";

// Runs `handle` for a POST under its Idempotency-Key, if it has one: answers
// a recorded answer verbatim, refuses a malformed key (validation) or a key
// first used for another request (idempotency_key_reused), and keeps the
// first 2xx answer. Without the header it just runs `handle`.
Routed run_idempotent(Call& call, std::function<Routed(Call&)> handle);

// The key a client's Idempotency-Key is stored under: scoped by its
// organisation (or "claims") and the route, "<org>|<METHOD> <path>|<key>".
std::string scoped_key(const Call& call, std::string_view client_key);

// A hash of what the request asks: method, target and body.
std::string fingerprint(const Request& request);

// A recorded answer as stored in the meta space, and back; nullopt if the
// bytes are not one.
struct RecordedAnswer {
  std::string fingerprint;
  Response response;
};
std::string encode_answer(std::string_view fingerprint, const Response& response);
std::optional<RecordedAnswer> decode_answer(std::string_view bytes);

}  // namespace tessera::api::detail
