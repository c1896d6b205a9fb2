// Internal: what the log recorded under an idempotency key, read back as the
// first command's answer. The sequencer asks before deciding a keyed
// command; Pipeline::recorded() asks for callers that need the first
// answer's events without submitting again (bulk assignment's rows).
//
// Threading: any thread (the log's reads are).
#pragma once

#include <optional>

#include "tessera/eventstore/log.h"
#include "tessera/pipeline/pipeline.h"

namespace tessera::pipeline::detail {

// The first command's answer, marked replayed; nullopt when the key is new;
// errc::idempotency_key_reused when it was recorded with another fingerprint.
result<std::optional<Accepted>> recorded_answer(const eventstore::Log& log, const IdempotencyKey& key);

// The events at the positions of an earlier append, as a replayed answer.
result<Accepted> read_back(const eventstore::Log& log, eventstore::AppendResult positions);

// The refusal of a key first used with another request.
Error key_reused();

// A refusal of the log's as the pipeline reports it: the log's refusal of a
// key recorded with another fingerprint is errc::idempotency_key_reused.
Error from_log(Error error);

}  // namespace tessera::pipeline::detail
