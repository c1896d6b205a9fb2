// tessera-admin: the operator's tools over a data directory.
//
//   verify  --data-dir D                  walk the hash chain; JSON {checked, broken, head}
//   dump    --data-dir D [--from P] [--limit N] [--stream S]
//                                         one JSON line per event
//   rebuild --data-dir D                  delete the read models; tesserad rebuilds them
//
// verify and dump open the log read-only (a RocksDB secondary instance), so
// they run beside a live tesserad and after a crashed one, and change nothing.
// rebuild needs tesserad stopped: it holds the log's write lock while it
// deletes, and refuses when it cannot take it.
//
// Exit status: 0 done (verify: the chain is intact), 1 verify found a broken
// link or a corrupt record, 2 usage errors and logs that cannot be opened.
#include <CLI/CLI.hpp>
#include <nlohmann/json.hpp>

#include <cstdint>
#include <filesystem>
#include <iostream>
#include <optional>
#include <string>

#include "tessera/codec/time.h"
#include "tessera/eventstore/log.h"

namespace {

namespace es = tessera::eventstore;
// Keys in the order the README lists them, for people reading the output.
using json = nlohmann::ordered_json;

constexpr int kOk = 0;
constexpr int kBroken = 1;
constexpr int kCannot = 2;

// Events read per call while walking the log, to keep memory flat.
constexpr std::size_t kPage = 1024;

std::filesystem::path log_dir(const std::string& data_dir) { return std::filesystem::path(data_dir) / "log"; }

int fail(const std::string& what) {
  std::cerr << json{{"error", what}}.dump() << '\n';
  return kCannot;
}

std::optional<std::unique_ptr<es::Log>> open_read_only(const std::string& data_dir) {
  auto opened = es::Log::open(log_dir(data_dir), es::LogOptions{.read_only = true});
  if (!opened) {
    fail("cannot open the log in " + log_dir(data_dir).string() + ": " + opened.error().message());
    return std::nullopt;
  }
  return std::move(opened).value();
}

std::string hex(const es::Hash& hash) {
  static constexpr char kDigits[] = "0123456789abcdef";
  std::string out;
  out.reserve(hash.size() * 2);
  for (const unsigned char b : hash) {
    out.push_back(kDigits[b >> 4U]);
    out.push_back(kDigits[b & 15U]);
  }
  return out;
}

json event_line(const es::RecordedEvent& event) {
  // Payloads are JSON; one that is not is shown as a string rather than lost.
  json payload = json::parse(event.payload, nullptr, /*allow_exceptions=*/false);
  if (payload.is_discarded()) payload = event.payload;
  return {{"position", event.position.value},
          {"stream", event.stream},
          {"version", event.version.value},
          {"type", event.type},
          {"schema", event.schema},
          {"recorded_at", tessera::codec::format_rfc3339(tessera::domain::Timestamp{event.recorded_at_micros})},
          {"payload", std::move(payload)},
          {"hash", hex(event.hash)}};
}

int verify(const std::string& data_dir) {
  auto log = open_read_only(data_dir);
  if (!log) return kCannot;
  const auto head = (*log)->head();
  const auto report = (*log)->verify();
  if (!report) {
    const bool corrupt = report.error() == es::make_error_code(es::errc::corruption);
    std::cout << json{{"checked", nullptr},
                      {"broken", nullptr},
                      {"head", head.value},
                      {"error", report.error().message()}}
                     .dump()
              << '\n';
    return corrupt ? kBroken : kCannot;
  }
  const auto& r = report.value();
  std::cout << json{{"checked", r.checked.value},
                    {"broken", r.broken ? json(r.broken->value) : json(nullptr)},
                    {"head", head.value}}
                   .dump()
            << '\n';
  return r.broken ? kBroken : kOk;
}

struct DumpRange {
  std::uint64_t from = 1;  // first position printed
  std::optional<std::uint64_t> limit;
  std::optional<std::string> stream;
};

int dump(const std::string& data_dir, const DumpRange& range) {
  auto log = open_read_only(data_dir);
  if (!log) return kCannot;
  std::uint64_t printed = 0;
  const auto room = [&] { return !range.limit || printed < *range.limit; };
  // A stream is read by version, so a --from position filters rather than seeks.
  es::Position after{range.from == 0 ? 0 : range.from - 1};
  es::StreamVersion stream_after{0};
  while (room()) {
    auto page = range.stream ? (*log)->read_stream(*range.stream, stream_after, kPage) : (*log)->read_all(after, kPage);
    if (!page) return fail("cannot read the log: " + page.error().message());
    if (page.value().empty()) break;
    for (const auto& event : page.value()) {
      if (!room()) break;
      if (event.position.value < range.from) continue;
      std::cout << event_line(event).dump() << '\n';
      ++printed;
    }
    after = page.value().back().position;
    stream_after = page.value().back().version;
  }
  std::cout.flush();
  return std::cout ? kOk : kCannot;
}

int rebuild(const std::string& data_dir) {
  const auto models = std::filesystem::path(data_dir) / "readmodels";
  std::error_code ec;
  if (!std::filesystem::is_directory(log_dir(data_dir), ec)) {
    return fail("no log in " + log_dir(data_dir).string());
  }
  // Holding the log open for writing proves that no tesserad runs on this
  // directory, and keeps one from starting halfway through the deletion.
  auto log = es::Log::open(log_dir(data_dir));
  if (!log) {
    return fail("cannot take the log in " + log_dir(data_dir).string() +
                " (is tesserad running on it?): " + log.error().message());
  }
  const bool existed = std::filesystem::exists(models, ec);
  std::filesystem::remove_all(models, ec);
  if (ec) return fail("cannot delete " + models.string() + ": " + ec.message());
  std::cout << json{{"removed", existed ? json(models.string()) : json(nullptr)},
                    {"log_head", log.value()->head().value}}
                   .dump()
            << '\n';
  return kOk;
}

}  // namespace

int main(int argc, char** argv) {
  CLI::App app{"tessera-admin: verify, dump and rebuild a Tessera data directory"};
  app.require_subcommand(1);
  std::string data_dir;

  auto* verify_cmd = app.add_subcommand("verify", "walk the log's hash chain and name the first broken link");
  verify_cmd->add_option("--data-dir", data_dir, "tesserad's data directory")->required();

  DumpRange range;
  auto* dump_cmd = app.add_subcommand("dump", "print the log's events as JSON lines");
  dump_cmd->add_option("--data-dir", data_dir, "tesserad's data directory")->required();
  dump_cmd->add_option("--from", range.from, "first position to print")->capture_default_str();
  dump_cmd->add_option("--limit", range.limit, "print at most this many events");
  dump_cmd->add_option("--stream", range.stream, "only this stream's events");

  auto* rebuild_cmd =
      app.add_subcommand("rebuild", "delete the read models; tesserad rebuilds them from the log when it starts");
  rebuild_cmd->add_option("--data-dir", data_dir, "tesserad's data directory (tesserad stopped)")->required();

  try {
    app.parse(argc, argv);
  } catch (const CLI::ParseError& e) {
    return app.exit(e) == 0 ? kOk : kCannot;
  }
  if (verify_cmd->parsed()) return verify(data_dir);
  if (dump_cmd->parsed()) return dump(data_dir, range);
  return rebuild(data_dir);
}
