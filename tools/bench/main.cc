// tessera-bench: the write path's benchmarks (issue 4). Each subcommand
// prints one JSON object of figures on stdout; progress goes to stderr.
//
//   append   --clients N --seconds S   closed-loop clients, one-event commands
//   generate --codes N                 one GenerateBatch of N codes, to ready and durable
//   recover  --events N                restart over a log of N events, to ready
//   project  --events N --seconds S    read-model rebuild and live lag (project.h)
//
// Everything runs in process over a real RocksDB log with synced writes (as
// tesserad runs it), in --data-dir or a fresh temporary directory removed at
// exit.
#include <fcntl.h>
#include <sys/resource.h>
#include <sys/wait.h>
#include <unistd.h>
#include <CLI/CLI.hpp>
#include <nlohmann/json.hpp>

#include <algorithm>
#include <atomic>
#include <chrono>
#include <cmath>
#include <cstdio>
#include <filesystem>
#include <future>
#include <iostream>
#include <latch>
#include <optional>
#include <random>
#include <string>
#include <thread>
#include <unordered_set>
#include <vector>

#include "common.h"
#include "project.h"
#include "tessera/domain/streams.h"
#include "tessera/pipeline/pipeline.h"
#include "tessera/projections/projector.h"
#include "tessera/projections/read_models.h"

namespace {

namespace d = tessera::domain;
namespace es = tessera::eventstore;
namespace pl = tessera::pipeline;
namespace pj = tessera::projections;
using namespace tessera::bench;

// Where a benchmark keeps its data: the directory asked for (kept), or a
// fresh one under the system's temporary directory (removed at exit).
class Workdir {
 public:
  explicit Workdir(const std::string& asked) {
    if (!asked.empty()) {
      path_ = asked;
      std::filesystem::create_directories(path_);
      return;
    }
    std::random_device entropy;
    const auto base = std::filesystem::temp_directory_path();
    for (int attempt = 0; attempt < 100 && path_.empty(); ++attempt) {
      const auto candidate = base / ("tessera-bench-" + std::to_string(::getpid()) + "-" + std::to_string(entropy()));
      if (std::filesystem::create_directory(candidate)) path_ = candidate;
    }
    if (path_.empty()) throw std::runtime_error("cannot create a temporary directory under " + base.string());
    owned_ = true;
  }
  ~Workdir() {
    if (!owned_) return;
    std::error_code ignored;
    std::filesystem::remove_all(path_, ignored);
  }
  Workdir(const Workdir&) = delete;
  Workdir& operator=(const Workdir&) = delete;

  const std::filesystem::path& path() const { return path_; }

 private:
  std::filesystem::path path_;
  bool owned_ = false;
};

// ---------------------------------------------------------------- append

// What the disk under `dir` allows: 4 KiB appends each followed by
// fdatasync, for `span`. Closed-loop clients wait for one synced write per
// command, so N clients can get at most N times this many commands per second.
long probe_fdatasyncs_per_s(const std::filesystem::path& dir, std::chrono::milliseconds span) {
  const auto path = dir / "fdatasync-probe";
  const int fd = ::open(path.c_str(), O_CREAT | O_WRONLY | O_TRUNC | O_CLOEXEC, 0600);
  if (fd < 0) throw std::runtime_error("cannot create " + path.string());
  const std::string block(4096, 'x');
  long syncs = 0;
  const auto start = Clock::now();
  while (Clock::now() - start < span) {
    if (::write(fd, block.data(), block.size()) != static_cast<ssize_t>(block.size()) || ::fdatasync(fd) != 0) break;
    ++syncs;
  }
  const double seconds = seconds_between(start, Clock::now());
  ::close(fd);
  std::filesystem::remove(path);
  return std::lround(static_cast<double>(syncs) / seconds);
}

struct AppendOptions {
  int clients = 64;
  double seconds = 10;
  double warmup_seconds = 1;
  // Each client a thread blocked on its answer's future, instead of a
  // callback chain: how a thread-per-request server would call the pipeline.
  bool thread_clients = false;
  // Off only to find the CPU's ceiling: then nothing is durable.
  bool sync_writes = true;
};

// The measured window, and what one client saw inside it.
struct Window {
  Clock::time_point from;
  Clock::time_point until;
};

struct ClientRecord {
  std::vector<std::uint32_t> latencies_us;  // of the commands answered inside the window
  std::uint64_t refused = 0;

  void answered(const Window& window, Clock::time_point sent, Clock::time_point answered, bool accepted) {
    if (!accepted) {
      ++refused;
      return;
    }
    if (sent >= window.from && answered <= window.until) {
      latencies_us.push_back(
          static_cast<std::uint32_t>(std::chrono::duration_cast<std::chrono::microseconds>(answered - sent).count()));
    }
  }
};

// A fresh contract each time: one event on a new stream, named as the HTTP
// API names a new contract (Pipeline::new_id).
d::CreateContract next_append_command(pl::Pipeline& pipeline) { return contract_command(pipeline.new_id()); }

// A closed-loop client without a thread: its next command goes out from the
// callback that brings the answer to the last one, as an asynchronous server
// session would send it.
class CallbackClient {
 public:
  CallbackClient(pl::Pipeline& pipeline, const Window& window, ClientRecord& record, std::latch& stopped)
      : pipeline_(pipeline), window_(window), record_(record), stopped_(stopped) {}

  void send() {
    const auto sent = Clock::now();
    if (sent >= window_.until) {
      stopped_.count_down();
      return;
    }
    pipeline_.submit(next_append_command(pipeline_), std::nullopt, std::nullopt,
                     [this, sent](tessera::result<pl::Accepted> outcome) {
                       record_.answered(window_, sent, Clock::now(), outcome.has_value());
                       send();
                     });
  }

 private:
  pl::Pipeline& pipeline_;
  const Window& window_;
  ClientRecord& record_;
  std::latch& stopped_;
};

// Runs `options.clients` closed-loop clients until `window.until`; returns
// once every client has its last answer.
void run_append_clients(pl::Pipeline& pipeline, const AppendOptions& options, const Window& window,
                        std::vector<ClientRecord>& records) {
  if (options.thread_clients) {
    std::vector<std::jthread> threads;
    for (int c = 0; c < options.clients; ++c) {
      threads.emplace_back([&, c] {
        auto& record = records[static_cast<std::size_t>(c)];
        for (;;) {
          const auto sent = Clock::now();
          if (sent >= window.until) break;
          const auto outcome = pipeline.submit(next_append_command(pipeline)).get();
          record.answered(window, sent, Clock::now(), outcome.has_value());
        }
      });
    }
    return;  // the jthreads join here
  }
  std::latch stopped(options.clients);
  std::vector<std::unique_ptr<CallbackClient>> clients;
  for (int c = 0; c < options.clients; ++c) {
    clients.push_back(
        std::make_unique<CallbackClient>(pipeline, window, records[static_cast<std::size_t>(c)], stopped));
  }
  for (auto& client : clients) client->send();
  stopped.wait();
}

nlohmann::json bench_append(const AppendOptions& options, const Workdir& dir) {
  const long disk_fdatasyncs_per_s = probe_fdatasyncs_per_s(dir.path(), std::chrono::milliseconds(1000));
  auto log = open_log(dir.path() / "log", options.sync_writes);
  pl::Pipeline pipeline(*log, pl::system_sources());

  const auto start = Clock::now();
  Window window;
  window.from =
      start + std::chrono::duration_cast<Clock::duration>(std::chrono::duration<double>(options.warmup_seconds));
  window.until =
      window.from + std::chrono::duration_cast<Clock::duration>(std::chrono::duration<double>(options.seconds));
  std::vector<ClientRecord> records(static_cast<std::size_t>(options.clients));
  for (auto& record : records) record.latencies_us.reserve(1 << 16);
  std::jthread load([&] { run_append_clients(pipeline, options, window, records); });

  std::this_thread::sleep_until(window.from);
  const es::LogStats stats_before = log->stats();
  const es::Position head_before = log->head();
  const double cpu_before = cpu_seconds();
  std::this_thread::sleep_until(window.until);
  const es::LogStats stats_after = log->stats();
  const es::Position head_after = log->head();
  const double cpu_used = cpu_seconds() - cpu_before;
  load.join();

  std::uint64_t refused = 0;
  for (const auto& record : records) refused += record.refused;
  std::vector<std::uint32_t> all;
  for (const auto& record : records) all.insert(all.end(), record.latencies_us.begin(), record.latencies_us.end());
  std::ranges::sort(all);
  auto percentile = [&](double p) -> std::uint32_t {
    if (all.empty()) return 0;
    const auto rank = static_cast<std::size_t>(std::ceil(p * static_cast<double>(all.size()))) - 1;
    return all[std::min(rank, all.size() - 1)];
  };
  const double measured_s = options.seconds;
  const auto syncs = stats_after.synced_writes - stats_before.synced_writes;
  const auto batches = stats_after.batches_written - stats_before.batches_written;
  const double sync_seconds = std::chrono::duration<double>(stats_after.sync_time - stats_before.sync_time).count();
  const auto events = head_after.value - head_before.value;
  auto verified = log->verify();
  return {
      {"bench", "append"},
      {"command", "CreateContract (one event on a new stream named by Pipeline::new_id, no idempotency key)"},
      {"clients", options.clients},
      {"clients_closed_loop", true},
      {"clients_are", options.thread_clients ? "threads, each blocked on its answer's future"
                                             : "callback chains: the answer's callback sends the next command"},
      {"note",
       "each client sends its next command when the last is answered: a batch holds at most one "
       "command "
       "per client"},
      {"sync_writes", options.sync_writes},
      {"seconds", measured_s},
      {"warmup_seconds", options.warmup_seconds},
      {"commands", all.size()},
      {"commands_per_s", std::llround(static_cast<double>(all.size()) / measured_s)},
      {"p50_us", percentile(0.50)},
      {"p99_us", percentile(0.99)},
      {"max_us", all.empty() ? 0 : all.back()},
      {"fsyncs_per_s", std::llround(static_cast<double>(syncs) / measured_s)},
      {"sync_us_mean", round_to(syncs == 0 ? 0.0 : sync_seconds * 1e6 / static_cast<double>(syncs), 1)},
      {"commands_per_sync",
       round_to(syncs == 0 ? 0.0 : static_cast<double>(all.size()) / static_cast<double>(syncs), 2)},
      {"events_per_batch",
       round_to(batches == 0 ? 0.0 : static_cast<double>(events) / static_cast<double>(batches), 2)},
      {"refused", refused},
      {"cpu_seconds", round_to(cpu_used, 2)},
      {"disk_fdatasyncs_per_s", disk_fdatasyncs_per_s},
      {"ceiling_commands_per_s", options.clients * disk_fdatasyncs_per_s},
      {"log_events", log->head().value},
      {"hash_chain_verified", verified && !verified.value().broken && verified.value().checked == log->head()},
  };
}

// -------------------------------------------------------------- generate

nlohmann::json bench_generate(std::uint32_t codes, const Workdir& dir) {
  auto log = open_log(dir.path() / "log", /*sync=*/true);
  pl::Pipeline pipeline(*log, pl::system_sources());
  const d::ContractId contract{"gen"};
  run(pipeline, contract_command(contract.str()), "CreateContract");
  const es::Position before = log->head();
  const es::LogStats stats_before = log->stats();

  const double cpu_before = cpu_seconds();
  const auto start = Clock::now();
  const auto accepted = run(pipeline, generate_command("b1", contract, codes), "GenerateBatch");
  const auto answered = Clock::now();
  // A batch of more than 10,000 codes is a job: answered once its terms are
  // durable, ready once its last chunk is.
  wait_until_ready(*log, kOrg, d::BatchId{"b1"});
  const auto durable = Clock::now();
  const double cpu_used = cpu_seconds() - cpu_before;
  const es::LogStats stats_after = log->stats();

  // After the clock stops: read the log back and count the distinct code
  // streams the batch created.
  std::unordered_set<std::string> streams;
  streams.reserve(codes);
  std::uint64_t events = 0;
  for (es::Position at = before;;) {
    auto page = log->read_all(at, 65536);
    if (!page) throw std::runtime_error("read_all: " + page.error().message());
    if (page.value().empty()) break;
    for (const auto& e : page.value()) {
      ++events;
      if (d::stream_category(e.stream) == "code") streams.insert(e.stream);
    }
    at = page.value().back().position;
  }
  return {
      {"bench", "generate"},
      {"codes", codes},
      {"seconds", round_to(seconds_between(start, durable), 3)},
      {"seconds_to_answer", round_to(seconds_between(start, answered), 3)},
      {"codes_per_s", std::llround(codes / seconds_between(start, durable))},
      {"cpu_seconds", round_to(cpu_used, 3)},
      {"sync_writes", true},
      {"synced_writes", stats_after.synced_writes - stats_before.synced_writes},
      {"events_in_answer", accepted.events.size()},
      {"events_in_log", events},
      {"distinct_code_streams_in_log", streams.size()},
      {"unique", streams.size() == codes},
  };
}

// --------------------------------------------------------------- recover

// Builds, with unsynced writes, a log of at least `events` events (batches
// of up to a million codes) and its read models, as tesserad would have left
// them. Returns the number of events in the log.
std::uint64_t build_recover_data(const std::filesystem::path& root, std::uint64_t events) {
  auto log = open_log(root / "log", /*sync=*/false);
  if (log->head().value >= events) {
    std::cerr << "recover: reusing the log in " << root << " (" << log->head().value << " events)\n";
  }
  auto models = pj::ReadModels::open(root / "readmodels");
  if (!models) throw std::runtime_error("cannot open the read models: " + models.error().message());
  {
    // The projector follows the log while it is written, as in tesserad.
    pj::Projector projector(*log, *models.value());
    const d::ContractId contract{"recover"};
    if (log->head().value == 0) {
      pl::Pipeline pipeline(*log, pl::system_sources());
      run(pipeline, contract_command(contract.str()), "CreateContract");
    }
    constexpr std::uint64_t kCodesPerBatch = 1'000'000;
    while (log->head().value < events) {
      // A pipeline per batch: its aggregate cache would otherwise hold every code.
      pl::Pipeline pipeline(*log, pl::system_sources());
      const auto codes = std::min<std::uint64_t>(kCodesPerBatch, events - log->head().value - 1);
      const d::BatchId batch{"r" + std::to_string(log->head().value)};
      run(pipeline,
          generate_command(batch.str(), contract, static_cast<std::uint32_t>(std::max<std::uint64_t>(codes, 1))),
          "GenerateBatch");
      wait_until_ready(*log, kOrg, batch);
      std::cerr << "recover: built " << log->head().value << " events\n";
    }
    const auto head = log->head();
    while (!models.value()->wait_for(head, std::chrono::seconds(10))) {
      std::cerr << "recover: read models at " << models.value()->checkpoint().value << " of " << head.value << "\n";
    }
  }
  return log->head().value;
}

nlohmann::json bench_recover(std::uint64_t events, const Workdir& dir) {
  // Build in a child process, so that this one's peak RSS is the restart's
  // alone.
  const pid_t child = fork();
  if (child < 0) throw std::runtime_error("fork failed");
  if (child == 0) {
    int status = 0;
    try {
      build_recover_data(dir.path(), events);
    } catch (const std::exception& e) {
      std::cerr << "recover: building failed: " << e.what() << "\n";
      status = 1;
    }
    std::fflush(nullptr);
    _exit(status);
  }
  int status = 0;
  if (waitpid(child, &status, 0) != child || !WIFEXITED(status) || WEXITSTATUS(status) != 0) {
    throw std::runtime_error("building the log failed");
  }
  const long rss_before = peak_rss_mb();

  // What tesserad does before it serves: open the log and the read models,
  // start the projector and the pipeline. Ready = the projector has caught
  // up with the log and the pipeline has answered a first command.
  const auto start = Clock::now();
  auto log = open_log(dir.path() / "log", /*sync=*/true);
  const auto log_opened = Clock::now();
  auto models = pj::ReadModels::open(dir.path() / "readmodels");
  if (!models) throw std::runtime_error("cannot open the read models: " + models.error().message());
  pj::Projector projector(*log, *models.value());
  pl::Pipeline pipeline(*log, pl::system_sources());
  if (!models.value()->wait_for(log->head(), std::chrono::seconds(600))) {
    throw std::runtime_error("the projector did not catch up");
  }
  const auto caught_up = Clock::now();
  auto last = log->read_all(es::Position{log->head().value - 1}, 1);
  if (!last || last.value().size() != 1 || d::stream_category(last.value().front().stream) != "code") {
    throw std::runtime_error("the log does not end with a code");
  }
  const es::Position head = log->head();
  const std::string code_key = last.value().front().stream.substr(std::string_view("code-").size());
  d::EditCode edit;
  edit.org = kOrg;
  edit.code_key = code_key;
  edit.note = "edited by tessera-bench recover";
  run(pipeline, std::move(edit), "EditCode");
  const auto ready = Clock::now();

  return {
      {"bench", "recover"},
      {"events", head.value},
      {"seconds", round_to(seconds_between(start, ready), 3)},
      {"log_open_seconds", round_to(seconds_between(start, log_opened), 3)},
      {"caught_up_seconds", round_to(seconds_between(start, caught_up), 3)},
      {"peak_rss_mb", peak_rss_mb()},
      {"peak_rss_mb_before_start", rss_before},
      {"first_command", "EditCode of the last code in the log (loads it and its batch)"},
      {"page_cache", "warm (the log was just built)"},
  };
}

}  // namespace

int main(int argc, char** argv) {
  CLI::App app{"tessera-bench: write-path benchmarks; each prints one JSON object"};
  app.require_subcommand(1);
  std::string data_dir;
  app.add_option("--data-dir", data_dir,
                 "where to keep the data (default: a fresh temporary directory, removed after)");

  AppendOptions append;
  auto* append_cmd = app.add_subcommand("append", "closed-loop clients appending one-event commands");
  append_cmd->add_option("--clients", append.clients, "closed-loop clients")
      ->capture_default_str()
      ->check(CLI::Range(1, 4096));
  append_cmd->add_option("--seconds", append.seconds, "measured seconds")
      ->capture_default_str()
      ->check(CLI::Range(0.1, 3600.0));
  append_cmd->add_option("--warmup-seconds", append.warmup_seconds, "unmeasured seconds before")
      ->capture_default_str()
      ->check(CLI::Range(0.0, 600.0));
  append_cmd->add_flag("--thread-clients", append.thread_clients,
                       "a thread per client, blocked on its answer's future (default: callback chains)");
  append_cmd->add_flag("!--no-sync", append.sync_writes,
                       "unsynced writes, nothing durable: only to find the CPU's ceiling");
  append_cmd->add_option("--data-dir", data_dir, "where to keep the data");

  std::uint32_t codes = 1'000'000;
  auto* generate_cmd = app.add_subcommand("generate", "one batch of N codes, until durable");
  generate_cmd->add_option("--codes", codes, "codes in the batch")
      ->capture_default_str()
      ->check(CLI::Range(1U, d::kMaxBatchQuantity));
  generate_cmd->add_option("--data-dir", data_dir, "where to keep the data");

  std::uint64_t events = 10'000'000;
  auto* recover_cmd = app.add_subcommand("recover", "restart over a log of N events, until ready");
  recover_cmd->add_option("--events", events, "events in the log (built first)")
      ->capture_default_str()
      ->check(CLI::Range(std::uint64_t{2}, std::uint64_t{1'000'000'000}));
  recover_cmd->add_option("--data-dir", data_dir, "where to keep the data (an existing bench log is reused)");

  ProjectOptions project;
  auto* project_cmd = app.add_subcommand("project", "rebuild of the read models, and the live projector's lag");
  project_cmd->add_option("--events", project.events, "events in the log the rebuild folds (built first)")
      ->capture_default_str()
      ->check(CLI::Range(std::uint64_t{1'000}, std::uint64_t{1'000'000'000}));
  project_cmd->add_option("--seconds", project.seconds, "seconds of open-loop appends with the live projector")
      ->capture_default_str()
      ->check(CLI::Range(0.5, 3600.0));
  project_cmd
      ->add_option("--measure-seconds", project.measure_seconds,
                   "seconds of closed-loop appends without a projector: the log's own rate")
      ->capture_default_str()
      ->check(CLI::Range(0.5, 600.0));
  project_cmd->add_option("--clients", project.clients, "closed-loop clients building the log and measuring its rate")
      ->capture_default_str()
      ->check(CLI::Range(1, 4096));
  project_cmd->add_option("--load", project.load, "the live appends' rate, as a share of the log's own")
      ->capture_default_str()
      ->check(CLI::Range(0.05, 2.0));
  project_cmd->add_option("--data-dir", data_dir, "where to keep the data");

  CLI11_PARSE(app, argc, argv);

  try {
    Workdir dir(data_dir);
    nlohmann::json figures;
    if (*append_cmd) figures = bench_append(append, dir);
    if (*generate_cmd) figures = bench_generate(codes, dir);
    if (*recover_cmd) figures = bench_recover(events, dir);
    if (*project_cmd) figures = bench_project(project, dir.path());
    figures["cores"] = std::thread::hardware_concurrency();
    std::cout << figures.dump() << std::endl;
  } catch (const std::exception& e) {
    std::cerr << "tessera-bench: " << e.what() << "\n";
    return 1;
  }
  return 0;
}
