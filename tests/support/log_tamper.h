// Test support: changes the log behind its back, as an attacker with access
// to the disk would, to show that verification notices.
#pragma once

#include <cstdint>
#include <filesystem>
#include <string>

namespace tessera::test_support {

// Opens the log's RocksDB in `log_dir` directly (no Log may hold it open) and
// flips one bit in the middle of `payload` within the record at `position`.
// Returns what went wrong, or an empty string when the record was changed.
std::string tamper_payload(const std::filesystem::path& log_dir, std::uint64_t position, const std::string& payload);

}  // namespace tessera::test_support
