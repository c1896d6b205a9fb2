// Test support: changes the log behind its back, as an attacker with access
// to the disk would (to show that verification notices), or as a crash at the
// wrong instant would (to show that the server recovers).
#pragma once

#include <cstdint>
#include <filesystem>
#include <string>

namespace tessera::test_support {

// Both open the log's RocksDB in `log_dir` directly (no Log may hold it open)
// and return what went wrong, or an empty string when the log was changed.

// Flips one bit in the middle of `payload` within the record at `position`.
std::string tamper_payload(const std::filesystem::path& log_dir, std::uint64_t position, const std::string& payload);

// Deletes every answer kept for an Idempotency-Key ("idem." keys of the meta
// column family), and nothing else: what a crash between the two writes of a
// keyed request leaves behind (the command's events and key in the log, but
// not the answer kept beside it). That no answer was kept is an error too.
std::string forget_kept_answers(const std::filesystem::path& log_dir);

}  // namespace tessera::test_support
