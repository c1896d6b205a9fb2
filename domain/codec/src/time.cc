#include "tessera/codec/time.h"

#include <fmt/format.h>
#include <charconv>
#include <chrono>

namespace tessera::codec {
namespace {

using namespace std::chrono;

// Exactly `len` decimal digits (no sign) at `pos`.
bool read_int(std::string_view text, std::size_t pos, std::size_t len, int& out) {
  if (pos + len > text.size()) return false;
  for (std::size_t i = pos; i < pos + len; ++i) {
    if (text[i] < '0' || text[i] > '9') return false;
  }
  const char* first = text.data() + pos;
  const auto [ptr, ec] = std::from_chars(first, first + len, out);
  return ec == std::errc() && ptr == first + len;
}

}  // namespace

std::string format_rfc3339(domain::Timestamp t) {
  const sys_time<microseconds> tp{microseconds{t.micros}};
  const auto day = floor<days>(tp);
  const year_month_day ymd{day};
  const hh_mm_ss hms{tp - day};
  const auto fraction = hms.subseconds().count();
  std::string out = fmt::format("{:04}-{:02}-{:02}T{:02}:{:02}:{:02}", static_cast<int>(ymd.year()),
                                static_cast<unsigned>(ymd.month()), static_cast<unsigned>(ymd.day()),
                                hms.hours().count(), hms.minutes().count(), hms.seconds().count());
  if (fraction != 0) out += fmt::format(".{:06}", fraction);
  out += 'Z';
  return out;
}

std::optional<domain::Timestamp> parse_rfc3339(std::string_view text) {
  int y = 0, mo = 0, d = 0, h = 0, mi = 0, s = 0;
  if (text.size() < 20 || text[4] != '-' || text[7] != '-' || (text[10] != 'T' && text[10] != 't') || text[13] != ':' ||
      text[16] != ':') {
    return std::nullopt;
  }
  if (!read_int(text, 0, 4, y) || !read_int(text, 5, 2, mo) || !read_int(text, 8, 2, d) || !read_int(text, 11, 2, h) ||
      !read_int(text, 14, 2, mi) || !read_int(text, 17, 2, s)) {
    return std::nullopt;
  }
  const year_month_day ymd{year{y}, month{static_cast<unsigned>(mo)}, day{static_cast<unsigned>(d)}};
  if (!ymd.ok() || h > 23 || mi > 59 || s > 60) return std::nullopt;
  std::size_t pos = 19;
  std::int64_t micros = 0;
  if (pos < text.size() && text[pos] == '.') {
    ++pos;
    int digits = 0;
    while (pos < text.size() && text[pos] >= '0' && text[pos] <= '9') {
      if (digits < 6) micros = micros * 10 + (text[pos] - '0');
      ++digits;
      ++pos;
    }
    if (digits == 0) return std::nullopt;
    for (int i = digits; i < 6; ++i) micros *= 10;
  }
  std::int64_t offset_seconds = 0;
  if (pos < text.size() && (text[pos] == 'Z' || text[pos] == 'z')) {
    ++pos;
  } else if (pos + 6 == text.size() && (text[pos] == '+' || text[pos] == '-') && text[pos + 3] == ':') {
    int oh = 0, om = 0;
    if (!read_int(text, pos + 1, 2, oh) || !read_int(text, pos + 4, 2, om) || oh > 23 || om > 59) {
      return std::nullopt;
    }
    offset_seconds = (oh * 3600 + om * 60) * (text[pos] == '+' ? 1 : -1);
    pos += 6;
  } else {
    return std::nullopt;
  }
  if (pos != text.size()) return std::nullopt;
  const auto since_epoch =
      sys_days{ymd}.time_since_epoch() + hours{h} + minutes{mi} + seconds{s} - seconds{offset_seconds};
  return domain::Timestamp{duration_cast<microseconds>(since_epoch).count() + micros};
}

}  // namespace tessera::codec
