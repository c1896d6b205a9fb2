// Answers kept under idempotency keys, beside the log (in its meta space,
// under "idem.<key>"), for callers whose first answer cannot always be
// rebuilt from the events alone (an HTTP create answers with what the read
// models held after the write). The bytes are the caller's own encoding.
//
// The pipeline records a key in the same synced write as its command's
// events; an answer is kept after that, in an unsynced write of its own (its
// caller must not wait for a disk), made durable by the next group commit. A
// crash before then leaves the events without the answer: a retry is then
// replayed by the pipeline, and its rebuilt answer is kept in turn.
//
// Lifetime: borrows the log, which must outlive it. Threading: any thread;
// keep_first() serialises the callers of one key.
#pragma once

#include <array>
#include <mutex>
#include <optional>
#include <string>
#include <string_view>

#include "tessera/base/error.h"
#include "tessera/eventstore/log.h"

namespace tessera::pipeline {

class StoredAnswers {
 public:
  explicit StoredAnswers(eventstore::Log& log) : log_(log) {}

  // The bytes kept under `key`; nullopt when none.
  result<std::optional<std::string>> find(std::string_view key) const;

  // Keeps `bytes` under `key` unless an answer is kept there already, and
  // answers what is kept: `bytes`, or the first answer when a concurrent
  // caller kept one first, so that every retry hears the same.
  result<std::string> keep_first(std::string_view key, std::string bytes);

 private:
  eventstore::Log& log_;
  // Keeping is check-then-put: concurrent callers of one key take the same
  // stripe.
  std::array<std::mutex, 64> stripes_;
};

}  // namespace tessera::pipeline
