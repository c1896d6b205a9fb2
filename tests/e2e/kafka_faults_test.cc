// Kafka fault drills end to end. tessera-devkafka runs the mock cluster in a
// process of its own; tesserad publishes to it as to a real cluster (--kafka
// BROKERS: the relay keeps a checkpoint for that cluster id and resumes from
// it); clients redeem codes over HTTP from several threads; in the middle,
// every broker goes down for seconds, Produce requests fail, or tesserad is
// killed. Afterwards an independent consumer reads every topic from the
// beginning and must find every event of the log, each stream's versions in
// order, and any duplicate an exact copy of its first (same ce_id, same
// payload). Also: the relay's lag in /v1/status and /metrics over HTTP.
#include <gtest/gtest.h>

#include <signal.h>

#include <algorithm>
#include <atomic>
#include <chrono>
#include <cstdio>
#include <functional>
#include <map>
#include <memory>
#include <mutex>
#include <optional>
#include <set>
#include <sstream>
#include <string>
#include <string_view>
#include <thread>
#include <vector>

#include "../support/devkafka_process.h"
#include "../support/http_client.h"
#include "../support/kafka_reader.h"
#include "../support/server_process.h"
#include "../support/temp_dir.h"
#include "../support/text.h"

namespace tessera::test_support {
namespace {

using namespace std::chrono_literals;
using nlohmann::json;
using Clock = std::chrono::steady_clock;

// Every category a redemption workload writes to.
const std::vector<std::string> kTopics = {"tessera.contracts", "tessera.sessions", "tessera.batches", "tessera.codes",
                                          "tessera.registrations"};

double seconds_since(Clock::time_point start) { return std::chrono::duration<double>(Clock::now() - start).count(); }

// Polls `condition` every 50 ms until it holds or `timeout` passes.
bool eventually(const std::function<bool()>& condition, std::chrono::milliseconds timeout) {
  const auto deadline = Clock::now() + timeout;
  while (!condition()) {
    if (Clock::now() >= deadline) return false;
    std::this_thread::sleep_for(50ms);
  }
  return true;
}

// A contract, `sessions` sessions with a batch of `codes_per_session` codes
// each (at most 1,000: a batch's answer lists them all): the codes, in order.
std::vector<std::string> make_codes(const HttpClient& http, int sessions, int codes_per_session) {
  const auto contract = http.post("/v1/orgs/acme/contracts", {{"name", "Acme drills"}});
  EXPECT_EQ(contract.status, 201) << contract.body;
  const std::string contract_id = contract.json().at("id");
  std::vector<std::string> codes;
  for (int s = 0; s < sessions; ++s) {
    const auto session = http.post(
        "/v1/orgs/acme/sessions",
        {{"name", cat("S", std::to_string(s))}, {"capacity", codes_per_session}, {"contract_id", contract_id}});
    EXPECT_EQ(session.status, 201) << session.body;
    const auto batch = http.post("/v1/orgs/acme/contracts/" + contract_id + "/batches",
                                 {{"quantity", codes_per_session}, {"session_id", session.json().at("id")}});
    EXPECT_EQ(batch.status, 201) << batch.body;
    const json answer = batch.json();  // alive while iterated
    for (const auto& code : answer.at("codes")) codes.push_back(code.at("code"));
  }
  return codes;
}

// Redeems codes[i] for i in [first, end), from `clients` threads over HTTP,
// each thread taking the next index, until the range runs out or stop().
// A request that meets no server (it was killed) stops its thread.
class Redeemer {
 public:
  Redeemer(std::uint16_t port, const std::vector<std::string>& codes, std::size_t first, std::size_t end, int clients)
      : codes_(codes), end_(std::min(end, codes.size())), next_(first) {
    for (int c = 0; c < clients; ++c) {
      threads_.emplace_back([this, port] { run(port); });
    }
  }
  ~Redeemer() { join(); }
  Redeemer(const Redeemer&) = delete;
  Redeemer& operator=(const Redeemer&) = delete;

  void stop() { stopping_ = true; }
  // join(), then redeemed().
  std::size_t redeemed_after_join() {
    join();
    return redeemed();
  }
  void join() {
    for (auto& t : threads_) {
      if (t.joinable()) t.join();
    }
  }
  // Redemptions answered 201.
  std::size_t redeemed() const { return redeemed_.load(); }
  // Indexes handed out: codes below it were tried (or are being tried).
  std::size_t taken() const { return std::min(next_.load(), end_); }
  // Answers other than 201, by status; 0 for "no answer" (server gone).
  std::map<int, int> refusals() const {
    std::lock_guard lock(mutex_);
    return refusals_;
  }

 private:
  void run(std::uint16_t port) {
    const HttpClient http("127.0.0.1", port);
    while (!stopping_) {
      const std::size_t i = next_.fetch_add(1);
      if (i >= end_) return;
      const json body = {{"code", codes_[i]},
                         {"participant", {{"email", cat("p", std::to_string(i), "@example.com")}}}};
      int status = 0;
      try {
        status = http.post("/v1/orgs/acme/redemptions", body).status;
      } catch (const std::exception&) {
        status = 0;
      }
      if (status == 201) {
        ++redeemed_;
        continue;
      }
      std::lock_guard lock(mutex_);
      ++refusals_[status];
      if (status == 0) return;
    }
  }

  const std::vector<std::string>& codes_;
  const std::size_t end_;
  std::atomic<std::size_t> next_;
  std::atomic<std::size_t> redeemed_{0};
  std::atomic<bool> stopping_{false};
  mutable std::mutex mutex_;
  std::map<int, int> refusals_;
  std::vector<std::thread> threads_;
};

json status_of(const HttpClient& http) {
  const auto r = http.get("/v1/status");
  EXPECT_EQ(r.status, 200) << r.body;
  return r.json();
}

// Waits (up to `timeout`) until Kafka has acknowledged the whole log;
// returns the seconds it took, or nullopt.
std::optional<double> wait_until_published(const HttpClient& http, std::chrono::milliseconds timeout) {
  const auto start = Clock::now();
  const bool caught_up = eventually(
      [&] {
        const json s = status_of(http);
        return s.at("relay_position") == s.at("log_position") && s.at("relay_lag_events") == 0;
      },
      timeout);
  if (!caught_up) return std::nullopt;
  return seconds_since(start);
}

std::string header(const ConsumedMessage& m, const std::string& name) {
  const auto it = m.headers.find(name);
  return it == m.headers.end() ? std::string() : it->second;
}

struct Published {
  std::size_t messages = 0;               // read from Kafka
  std::size_t events = 0;                 // distinct events among them
  std::size_t duplicates = 0;             // messages - events
  std::map<std::uint64_t, int> arrivals;  // per log position: copies read
};

// Checks what Kafka holds against a log of `log_position` events: every
// position 1..log_position arrives; a position always carries the same event
// (ce_id, key, payload, type, time) and a ce_id always the same position;
// ce_id is "<key>@<tessera_version>"; each
// stream lives in one partition and its versions come as 1, 2, 3, ... where
// only an event already seen may come again (a re-sent copy, which a
// consumer skips by its version).
Published check_published(const std::vector<ConsumedMessage>& messages, std::uint64_t log_position) {
  Published out;
  out.messages = messages.size();
  std::map<std::uint64_t, const ConsumedMessage*> first_copy;
  std::map<std::string, std::uint64_t> position_of_id;  // ce_id -> tessera_position
  std::map<std::string, std::uint64_t> last_version;    // per stream, in offset order
  std::map<std::string, std::pair<std::string, int>> home;
  int reported = 0;
  const auto report = [&](const std::string& what) {
    if (++reported <= 20) ADD_FAILURE() << what;
  };
  for (const ConsumedMessage& m : messages) {
    const std::string version_text = header(m, "tessera_version");
    const std::string position_text = header(m, "tessera_position");
    if (version_text.empty() || position_text.empty()) {
      report("a message without tessera_version or tessera_position at " + m.topic + "/" + std::to_string(m.partition) +
             "@" + std::to_string(m.offset));
      continue;
    }
    const std::uint64_t position = std::stoull(position_text);
    const std::uint64_t version = std::stoull(version_text);
    const std::string ce_id = header(m, "ce_id");
    ++out.arrivals[position];
    if (ce_id != m.key + "@" + version_text || header(m, "ce_subject") != m.key ||
        header(m, "ce_specversion") != "1.0" || header(m, "ce_source").empty() || header(m, "ce_time").empty() ||
        !header(m, "ce_type").starts_with("tessera.")) {
      report("CloudEvents headers wrong on " + ce_id + " (key " + m.key + ")");
    }
    const auto [id_home, new_id] = position_of_id.try_emplace(ce_id, position);
    if (id_home->second != position) {
      report(ce_id + " at positions " + std::to_string(id_home->second) + " and " + position_text);
    }
    const auto [first, is_first] = first_copy.try_emplace(position, &m);
    if (!is_first) {
      const ConsumedMessage& earlier = *first->second;
      if (header(earlier, "ce_id") != ce_id || earlier.key != m.key || earlier.value != m.value ||
          header(earlier, "ce_type") != header(m, "ce_type") || header(earlier, "ce_time") != header(m, "ce_time")) {
        report("position " + position_text + " carries two different events: " + header(earlier, "ce_id") + " and " +
               ce_id);
      }
    }
    const auto [where, new_stream] = home.try_emplace(m.key, m.topic, m.partition);
    if (where->second != std::make_pair(m.topic, m.partition)) {
      report(m.key + " spans two partitions");
    }
    std::uint64_t& last = last_version[m.key];
    if (version == last + 1) {
      last = version;
    } else if (version > last + 1) {
      report(m.key + ": version " + version_text + " after " + std::to_string(last) + " at " + m.topic + "/" +
             std::to_string(m.partition) + "@" + std::to_string(m.offset) + " (a gap, or reordered)");
      last = version;
    }
    // version <= last: a copy of an event already delivered in order.
  }
  std::string missing;
  int missing_count = 0;
  for (std::uint64_t p = 1; p <= log_position; ++p) {
    if (first_copy.contains(p)) continue;
    if (++missing_count <= 20) missing += cat(" ", std::to_string(p));
  }
  // Tells a message the reader missed from one the broker never stored: the
  // mock numbers a partition's messages 0, 1, 2, ... without holes.
  std::string holes;
  std::map<std::pair<std::string, int>, std::int64_t> next_offset;
  for (const ConsumedMessage& m : messages) {
    std::int64_t& next = next_offset[{m.topic, m.partition}];
    if (m.offset != next) holes += cat(" ", m.topic, "/", std::to_string(m.partition), "@", std::to_string(next));
    next = m.offset + 1;
  }
  EXPECT_EQ(missing_count, 0) << "positions never published:" << missing << "; holes in what was read:" << holes;
  out.events = first_copy.size();
  out.duplicates = out.messages - out.events;
  EXPECT_EQ(out.events, log_position) << "distinct events in Kafka against the log's";
  if (!first_copy.empty()) {
    EXPECT_EQ(first_copy.begin()->first, 1U);
    EXPECT_EQ(first_copy.rbegin()->first, log_position);
  }
  std::uint64_t versions = 0;
  for (const auto& [stream, last] : last_version) versions += last;
  EXPECT_EQ(versions, log_position) << "every stream's versions 1..N, summed over streams";
  return out;
}

std::vector<ConsumedMessage> read_everything(const std::string& bootstrap, std::uint64_t log_position) {
  return read_messages(bootstrap, kTopics, log_position, 90s);
}

class KafkaFaults : public ::testing::Test {
 protected:
  // 8 partitions a topic: the mock keeps about 5 MiB a partition, and the
  // code topic of 10,000 redemptions holds about 10 MB.
  DevKafkaProcess kafka_{TESSERA_DEVKAFKA_PATH, {"--brokers", "3", "--partitions", "8"}};
  TempDir dir_{"tessera-kafka-faults"};
  std::unique_ptr<ServerProcess> server_ = start_server();
  std::unique_ptr<HttpClient> http_ = client();

  std::unique_ptr<ServerProcess> start_server() {
    return std::make_unique<ServerProcess>(TESSERAD_PATH, dir_.path() / "data",
                                           std::vector<std::string>{"--kafka", kafka_.bootstrap()});
  }
  std::unique_ptr<HttpClient> client() const { return std::make_unique<HttpClient>("127.0.0.1", server_->port()); }
  void restart_after_kill() {
    server_->stop(SIGKILL);
    server_ = start_server();
    http_ = client();
  }
  void command(const std::string& line) {
    const std::string answer = kafka_.command(line);
    ASSERT_EQ(answer.rfind("ok ", 0), 0U) << line << ": " << answer;
  }
};

// The figures each drill prints (ctest shows them with --verbose).
void print_figures(const std::string& drill, const std::vector<std::pair<std::string, double>>& figures) {
  std::ostringstream line;
  line << "[figures] " << drill << ":";
  for (const auto& [name, value] : figures) line << " " << name << "=" << value;
  std::printf("%s\n", line.str().c_str());
  std::fflush(stdout);
  for (const auto& [name, value] : figures) {
    ::testing::Test::RecordProperty(name, std::to_string(value));
  }
}

TEST_F(KafkaFaults, TenThousandCommandsWhileEveryBrokerIsDownForSecondsReachKafkaInOrder) {
  constexpr int kSessions = 16;
  constexpr int kCodesPerSession = 625;  // 10,000 redemptions
  const auto codes = make_codes(*http_, kSessions, kCodesPerSession);
  ASSERT_EQ(codes.size(), static_cast<std::size_t>(kSessions * kCodesPerSession));

  // Three stretches of load: before the outage, during it (the outage
  // lasts 5 s however fast its share goes), and after it.
  constexpr int kClients = 16;
  const std::size_t before_end = 3 * codes.size() / 10;
  const std::size_t during_end = 7 * codes.size() / 10;
  const auto load_start = Clock::now();
  std::size_t redeemed = Redeemer(server_->port(), codes, 0, before_end, kClients).redeemed_after_join();
  command("down");
  const auto outage_start = Clock::now();
  Redeemer during_outage(server_->port(), codes, before_end, during_end, kClients);
  std::this_thread::sleep_for(2500ms);
  const json during = status_of(*http_);
  during_outage.join();
  redeemed += during_outage.redeemed();
  std::this_thread::sleep_until(outage_start + 5s);
  const json before_up = status_of(*http_);
  command("up");
  const double outage_seconds = seconds_since(outage_start);
  const auto up_at = Clock::now();
  Redeemer after_outage(server_->port(), codes, during_end, codes.size(), kClients);
  // The backlog (every event written before `up`) goes out while the last
  // stretch of load comes in.
  const std::uint64_t backlog_end = before_up.at("log_position");
  EXPECT_TRUE(
      eventually([&] { return status_of(*http_).at("relay_position").get<std::uint64_t>() >= backlog_end; }, 120s));
  const double backlog_published_after_up = seconds_since(up_at);
  redeemed += after_outage.redeemed_after_join();
  const double load_seconds = seconds_since(load_start);
  EXPECT_EQ(redeemed, codes.size());

  // Halfway through the outage the relay had waited a while with events
  // the brokers could not take; nothing was acknowledged while they were down.
  EXPECT_GT(during.at("relay_lag_events").get<std::uint64_t>(), 0U) << during.dump();
  EXPECT_GE(during.at("relay_lag_seconds").get<double>(), 1.0) << during.dump();
  EXPECT_EQ(before_up.at("relay_position"), during.at("relay_position")) << before_up.dump();
  EXPECT_EQ(before_up.at("relay_lag_events").get<std::uint64_t>(),
            before_up.at("log_position").get<std::uint64_t>() - before_up.at("relay_position").get<std::uint64_t>())
      << before_up.dump();
  EXPECT_GE(before_up.at("relay_lag_seconds").get<double>(), 4.0) << before_up.dump();

  const auto caught_up = wait_until_published(*http_, 120s);
  ASSERT_TRUE(caught_up) << status_of(*http_).dump();
  const double catch_up_after_up = seconds_since(up_at);
  const json status = status_of(*http_);
  const std::uint64_t log_position = status.at("log_position");
  EXPECT_EQ(status.at("relay_lag_seconds"), 0.0);

  const auto read_start = Clock::now();
  const auto messages = read_everything(kafka_.bootstrap(), log_position);
  const double read_seconds = seconds_since(read_start);
  const Published published = check_published(messages, log_position);
  print_figures("brokers-down", {{"commands", static_cast<double>(codes.size() + 1 + 2 * kSessions)},
                                 {"events", static_cast<double>(log_position)},
                                 {"messages", static_cast<double>(published.messages)},
                                 {"duplicates", static_cast<double>(published.duplicates)},
                                 {"outage_s", outage_seconds},
                                 {"redeemed_during_outage", static_cast<double>(during_end - before_end)},
                                 {"lag_events_at_up", before_up.at("relay_lag_events").get<double>()},
                                 {"lag_seconds_at_up", before_up.at("relay_lag_seconds").get<double>()},
                                 {"backlog_published_after_up_s", backlog_published_after_up},
                                 {"all_published_after_up_s", catch_up_after_up},
                                 {"producer_restarts", status.at("relay_producer_restarts").get<double>()},
                                 {"load_s", load_seconds},
                                 {"read_back_s", read_seconds}});
}

TEST_F(KafkaFaults, InjectedProduceErrorsCostDuplicatesNeverEventsNorOrder) {
  constexpr int kSessions = 4;
  constexpr int kCodesPerSession = 500;
  const auto codes = make_codes(*http_, kSessions, kCodesPerSession);
  ASSERT_EQ(codes.size(), static_cast<std::size_t>(kSessions * kCodesPerSession));

  Redeemer load(server_->port(), codes, 0, codes.size(), 8);
  // Errors no client retries (10, MESSAGE_TOO_LARGE: the relay replaces its
  // producer and re-sends from its checkpoint), errors librdkafka retries
  // itself (6, NOT_LEADER_OR_FOLLOWER; 7, REQUEST_TIMED_OUT), and one that is
  // fatal to an idempotent producer (45, OUT_OF_ORDER_SEQUENCE_NUMBER: the
  // relay replaces its producer).
  const std::vector<std::pair<std::size_t, std::string>> faults = {{codes.size() / 5, "fail 3 10"},
                                                                   {2 * codes.size() / 5, "fail 10 6"},
                                                                   {codes.size() / 2, "fail 1 45"},
                                                                   {3 * codes.size() / 5, "fail 10 7"},
                                                                   {4 * codes.size() / 5, "fail 3 10"}};
  for (const auto& [at, line] : faults) {
    ASSERT_TRUE(eventually([&, at = at] { return load.redeemed() >= at; }, 120s));
    command(line);
  }
  load.join();
  EXPECT_EQ(load.redeemed(), codes.size());
  EXPECT_TRUE(load.refusals().empty());

  const auto caught_up = wait_until_published(*http_, 120s);
  ASSERT_TRUE(caught_up) << status_of(*http_).dump();
  const json status = status_of(*http_);
  const std::uint64_t log_position = status.at("log_position");
  EXPECT_GE(status.at("relay_producer_restarts").get<int>(), 3)
      << "each Produce error no client retries, and the fatal one, replaces the producer";
  const Published published = check_published(read_everything(kafka_.bootstrap(), log_position), log_position);
  print_figures("produce-errors", {{"events", static_cast<double>(log_position)},
                                   {"messages", static_cast<double>(published.messages)},
                                   {"duplicates", static_cast<double>(published.duplicates)},
                                   {"producer_restarts", status.at("relay_producer_restarts").get<double>()},
                                   {"catch_up_after_load_s", *caught_up}});
}

TEST_F(KafkaFaults, ARelayKilledMidStreamResumesFromItsCheckpointForThatCluster) {
  constexpr int kSessions = 4;
  constexpr int kCodesPerSession = 750;
  const auto codes = make_codes(*http_, kSessions, kCodesPerSession);
  ASSERT_EQ(codes.size(), static_cast<std::size_t>(kSessions * kCodesPerSession));

  std::size_t resume_from = 0;
  std::uint64_t acknowledged = 0;  // relay_position a while before the kill
  json at_kill;
  {
    Redeemer load(server_->port(), codes, 0, codes.size(), 8);
    ASSERT_TRUE(eventually([&] { return load.redeemed() >= codes.size() / 5; }, 120s));
    acknowledged = status_of(*http_).at("relay_position");
    // The relay stores its checkpoint every 100 ms: by the kill, it has
    // stored at least `acknowledged`.
    std::this_thread::sleep_for(300ms);
    at_kill = status_of(*http_);
    restart_after_kill();  // SIGKILL while redemptions and publication go on
    load.join();
    // Codes tried when the server died may or may not be redeemed: skip them.
    resume_from = load.taken();
  }
  EXPECT_LT(resume_from, codes.size()) << "the load ended before the kill";
  ASSERT_GT(acknowledged, 0U);
  Redeemer rest(server_->port(), codes, resume_from, codes.size(), 8);
  rest.join();
  EXPECT_EQ(rest.redeemed(), codes.size() - resume_from);
  EXPECT_TRUE(rest.refusals().empty());

  const auto caught_up = wait_until_published(*http_, 120s);
  ASSERT_TRUE(caught_up) << status_of(*http_).dump();
  const json status = status_of(*http_);
  const std::uint64_t log_position = status.at("log_position");
  const Published published = check_published(read_everything(kafka_.bootstrap(), log_position), log_position);
  // Resumed from the checkpoint stored for this cluster, not from the start:
  // what was acknowledged before the kill went out once.
  std::uint64_t sent_twice_below = 0;
  for (const auto& [position, copies] : published.arrivals) {
    if (position <= acknowledged && copies != 1) ++sent_twice_below;
  }
  EXPECT_EQ(sent_twice_below, 0U) << "positions at or below " << acknowledged
                                  << " (acknowledged before the kill) published again";
  print_figures("relay-killed", {{"events", static_cast<double>(log_position)},
                                 {"acknowledged_before_kill", static_cast<double>(acknowledged)},
                                 {"log_at_kill", at_kill.at("log_position").get<double>()},
                                 {"relay_at_kill", at_kill.at("relay_position").get<double>()},
                                 {"messages", static_cast<double>(published.messages)},
                                 {"duplicates", static_cast<double>(published.duplicates)},
                                 {"catch_up_after_load_s", *caught_up}});
}

// The relay's lag over HTTP: /v1/status fields and /metrics in Prometheus'
// text format, during an outage and after it.
TEST_F(KafkaFaults, StatusAndMetricsShowTheRelayLag) {
  ASSERT_EQ(http_->post("/v1/orgs/acme/contracts", {{"name", "A"}}).status, 201);
  ASSERT_TRUE(wait_until_published(*http_, 30s));
  json status = status_of(*http_);
  EXPECT_EQ(status.at("relay_lag_events"), 0);
  EXPECT_EQ(status.at("relay_lag_seconds"), 0.0);
  EXPECT_EQ(status.at("kafka_bootstrap"), kafka_.bootstrap());

  command("down");
  for (int i = 0; i < 3; ++i) {
    ASSERT_EQ(http_->post("/v1/orgs/acme/contracts", {{"name", cat("B", std::to_string(i))}}).status, 201);
  }
  std::this_thread::sleep_for(1200ms);
  status = status_of(*http_);
  const auto metrics = http_->get("/metrics");
  command("up");

  EXPECT_EQ(status.at("relay_lag_events"), 3) << status.dump();
  EXPECT_GE(status.at("relay_lag_seconds").get<double>(), 1.0) << status.dump();
  EXPECT_EQ(status.at("log_position").get<std::uint64_t>() - status.at("relay_position").get<std::uint64_t>(), 3U);

  ASSERT_EQ(metrics.status, 200);
  EXPECT_EQ(metrics.headers.at("content-type").rfind("text/plain; version=0.0.4", 0), 0U)
      << metrics.headers.at("content-type");
  // name -> (TYPE, value); every sample has its HELP and TYPE lines first.
  std::map<std::string, std::pair<std::string, double>> samples;
  std::set<std::string> helped;
  std::map<std::string, std::string> types;
  std::istringstream lines(metrics.body);
  for (std::string line; std::getline(lines, line);) {
    std::istringstream words(line);
    std::string first, name, rest;
    words >> first;
    if (first == "#") {
      words >> rest >> name;
      if (rest == "HELP") helped.insert(name);
      if (rest == "TYPE") words >> types[name];
      continue;
    }
    double value = 0;
    ASSERT_TRUE(words >> value) << line;
    EXPECT_TRUE(helped.contains(first) && types.contains(first)) << first << " without HELP/TYPE";
    samples[first] = {types[first], value};
  }
  const auto expect_metric = [&](const std::string& name, const std::string& type) {
    ASSERT_TRUE(samples.contains(name)) << name << " missing from\n" << metrics.body;
    EXPECT_EQ(samples[name].first, type) << name;
  };
  expect_metric("tessera_log_position", "gauge");
  expect_metric("tessera_relay_position", "gauge");
  expect_metric("tessera_relay_lag_events", "gauge");
  expect_metric("tessera_relay_lag_seconds", "gauge");
  expect_metric("tessera_relay_producer_restarts_total", "counter");
  expect_metric("tessera_projection_position", "gauge");
  EXPECT_EQ(samples["tessera_relay_lag_events"].second, 3);
  EXPECT_GE(samples["tessera_relay_lag_seconds"].second, 1.0);
  EXPECT_EQ(samples["tessera_log_position"].second - samples["tessera_relay_position"].second, 3);

  ASSERT_TRUE(wait_until_published(*http_, 30s)) << status_of(*http_).dump();
  const auto after = http_->get("/metrics").body;
  EXPECT_NE(after.find("\ntessera_relay_lag_events 0\n"), std::string::npos) << after;
  EXPECT_NE(after.find("\ntessera_relay_lag_seconds 0\n"), std::string::npos) << after;
}

TEST(KafkaStatus, WithoutKafkaTheRelayFiguresAreNullAndAbsentFromMetrics) {
  TempDir dir("tessera-kafka-status");
  ServerProcess server(TESSERAD_PATH, dir.path() / "data", {"--kafka", "none"});
  const HttpClient http("127.0.0.1", server.port());
  const json status = status_of(http);
  EXPECT_TRUE(status.at("relay_lag_events").is_null()) << status.dump();
  EXPECT_TRUE(status.at("relay_lag_seconds").is_null()) << status.dump();
  EXPECT_TRUE(status.at("relay_position").is_null()) << status.dump();
  const auto metrics = http.get("/metrics");
  ASSERT_EQ(metrics.status, 200);
  EXPECT_NE(metrics.body.find("\ntessera_log_position 0\n"), std::string::npos) << metrics.body;
  EXPECT_EQ(metrics.body.find("tessera_relay"), std::string::npos) << metrics.body;
}

}  // namespace
}  // namespace tessera::test_support
