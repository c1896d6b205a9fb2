// Internal: RFC 4180 CSV, written and read.
#pragma once

#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace tessera::api::detail {

// One CSV line (CRLF-terminated) of the given fields, quoting where needed.
std::string csv_line(const std::vector<std::string>& fields);

struct CsvRecord {
  std::size_t line = 0;  // 1-based line where the record starts
  std::vector<std::string> fields;
};

// Parses a whole document; nullopt when a quoted field is never closed.
// Blank lines are skipped.
std::optional<std::vector<CsvRecord>> parse_csv(std::string_view text);

}  // namespace tessera::api::detail
