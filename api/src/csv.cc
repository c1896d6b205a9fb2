#include "csv.h"

namespace tessera::api::detail {

std::string csv_line(const std::vector<std::string>& fields) {
  std::string out;
  for (std::size_t i = 0; i < fields.size(); ++i) {
    if (i > 0) out.push_back(',');
    const std::string& f = fields[i];
    if (f.find_first_of(",\"\r\n") == std::string::npos) {
      out += f;
      continue;
    }
    out.push_back('"');
    for (char c : f) {
      if (c == '"') out.push_back('"');
      out.push_back(c);
    }
    out.push_back('"');
  }
  out += "\r\n";
  return out;
}

std::optional<std::vector<CsvRecord>> parse_csv(std::string_view text) {
  std::vector<CsvRecord> records;
  CsvRecord record{1, {}};
  std::string field;
  std::size_t line = 1;
  bool quoted = false;
  bool any = false;  // the record holds something (a blank line does not)
  auto end_record = [&] {
    if (any) {
      record.fields.push_back(std::move(field));
      records.push_back(std::move(record));
    }
    field.clear();
    record = CsvRecord{line, {}};
    any = false;
  };
  for (std::size_t i = 0; i < text.size(); ++i) {
    const char c = text[i];
    if (quoted) {
      if (c == '"') {
        if (i + 1 < text.size() && text[i + 1] == '"') {
          field.push_back('"');
          ++i;
        } else {
          quoted = false;
        }
      } else {
        if (c == '\n') ++line;
        field.push_back(c);
      }
      continue;
    }
    switch (c) {
      case '"':
        quoted = true;
        any = true;
        break;
      case ',':
        record.fields.push_back(std::move(field));
        field.clear();
        any = true;
        break;
      case '\r':
        break;
      case '\n':
        ++line;
        end_record();
        break;
      default:
        field.push_back(c);
        any = true;
    }
  }
  if (quoted) return std::nullopt;
  end_record();
  return records;
}

}  // namespace tessera::api::detail
