// The crash test (issue 4): tesserad under concurrent HTTP load is killed with
// SIGKILL at a random instant, trial after trial, on one data directory, so
// that later trials crash a server that itself recovered from crashes.
//
// After each kill, before anything else opens the directory:
//   - the log, opened read-only in this process, holds the stream of every
//     command ever acknowledged (2xx), and its positions run 1..head without
//     a gap;
//   - `tessera-admin verify` finds the hash chain intact up to that head.
// Then tesserad restarts on the directory:
//   - its log position is the head the reader saw;
//   - each command that was in flight at the kill (no answer) is sent again
//     with its Idempotency-Key and answered; from then on every command ever
//     sent is either acknowledged or refused, so the state is exactly the
//     acknowledged commands' effect;
//   - every acknowledged resource reads back as acknowledged; each session's
//     roster holds exactly the acknowledged registrations and pending
//     invitations, its seats count them and never exceed its capacity; each
//     code's uses equal its registrations and never exceed max_uses; each
//     contract's codes number what its acknowledged batches generated.
// TESSERA_CRASH_TRIALS (default 20) and TESSERA_CRASH_SEED replay a run.
#include <gtest/gtest.h>

#include <signal.h>
#include <sys/wait.h>
#include <algorithm>
#include <atomic>
#include <barrier>
#include <cctype>
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <map>
#include <mutex>
#include <optional>
#include <random>
#include <set>
#include <string>
#include <thread>
#include <vector>

#include "../support/http_client.h"
#include "../support/problem.h"
#include "../support/run_command.h"
#include "../support/server_process.h"
#include "../support/temp_dir.h"
#include "../support/text.h"
#include "tessera/domain/code_format.h"
#include "tessera/domain/streams.h"
#include "tessera/eventstore/log.h"

namespace tessera::test_support {
namespace {

namespace d = tessera::domain;
namespace es = tessera::eventstore;
using nlohmann::json;
using SteadyClock = std::chrono::steady_clock;

constexpr int kClients = 8;
#if defined(__SANITIZE_ADDRESS__)
// The sanitized server does a fraction of the work in the same time: its
// trials last longer, so that they kill it under a comparable load.
constexpr int kLoadScale = 3;
#else
constexpr int kLoadScale = 1;
#endif
constexpr int kMinLoadMs = 50 * kLoadScale;
constexpr int kMaxLoadMs = 400 * kLoadScale;
const std::string kOrg = "acme";
const std::string kBase = "/v1/orgs/acme";

int env_int(const char* name, int fallback) {
  const char* value = std::getenv(name);
  return value == nullptr || *value == '\0' ? fallback : std::atoi(value);
}

std::string enc(std::string_view text) { return percent_encode(text); }

std::string outcome_of(const HttpResponse& r) { return cat(std::to_string(r.status), " ", problem_slug(r)); }

// ---------------------------------------------------------------------------
// What the clients were told: every acknowledged resource, in the order of
// the acknowledgements. Guarded by World::mutex.

struct Session {
  std::string id;
  std::string contract;
  int capacity = 0;
};
struct Code {
  std::string value;
  std::size_t session = 0;  // index in World::sessions
  int max_uses = 0;
};
struct Registration {
  std::string id;
  std::size_t session = 0;
  std::string email;
  std::optional<std::string> code;  // nullopt: by a claim
};
struct Invitation {
  std::string id;
  std::size_t session = 0;
  std::string email;
  std::string token;
  bool claim_sent = false;
  bool claimed = false;
};

enum class Kind { contract, session, batch, redeem, invite, claim };

// One command as sent: enough to send it again and to record its answer.
struct Command {
  Kind kind = Kind::contract;
  std::string target;
  json body;
  std::string key;  // Idempotency-Key
  std::size_t session = 0;
  std::string contract;
  int capacity = 0;
  int quantity = 0;
  int max_uses = 0;
  std::string code;
  std::string email;
  std::size_t invitation = 0;
};

// Figures of one trial.
struct Tally {
  int sent = 0;
  std::map<Kind, int> acked;
  std::map<std::string, int> refused;  // by "status slug"
  int in_flight = 0;
  int retried_replayed = 0;
  int retried_applied = 0;
  int retried_refused = 0;
  int acked_total() const {
    int n = 0;
    for (const auto& [kind, count] : acked) n += count;
    return n;
  }
};

struct World {
  std::mutex mutex;
  std::vector<std::string> contracts;
  std::vector<Session> sessions;
  std::vector<Code> codes;
  std::vector<Registration> registrations;
  std::vector<Invitation> invitations;
  std::map<std::string, int> generated;     // codes acknowledged per contract
  std::set<std::size_t> touched;            // sessions changed since the last check
  std::set<std::string> touched_contracts;  // contracts given codes since the last check
  std::vector<std::string> problems;        // answers that break the API's promises
};

template <class T>
const T& recent(const std::vector<T>& items, std::size_t window, std::mt19937& rng) {
  const std::size_t from = items.size() > window ? items.size() - window : 0;
  return items[std::uniform_int_distribution<std::size_t>(from, items.size() - 1)(rng)];
}

std::size_t recent_index(std::size_t size, std::size_t window, std::mt19937& rng) {
  const std::size_t from = size > window ? size - window : 0;
  return std::uniform_int_distribution<std::size_t>(from, size - 1)(rng);
}

// The next command of a client: a mix weighted towards redemptions, over the
// most recent resources so that clients compete for codes and seats.
Command next_command(World& w, std::mt19937& rng, const std::string& tag) {
  std::lock_guard lock(w.mutex);
  const int roll = std::uniform_int_distribution<int>(0, 99)(rng);
  Command c;
  c.key = "crash-" + tag;
  const auto pick = [&](int lo, int hi) { return std::uniform_int_distribution<int>(lo, hi)(rng); };
  std::optional<std::size_t> claimable;
  if (roll >= 85 && !w.invitations.empty()) {
    for (int attempt = 0; attempt < 8 && !claimable; ++attempt) {
      const std::size_t i = recent_index(w.invitations.size(), 40, rng);
      if (!w.invitations[i].claim_sent) claimable = i;
    }
  }
  if (w.contracts.empty() || roll < 4) {
    c.kind = Kind::contract;
    c.target = kBase + "/contracts";
    c.body = {{"name", "Crash " + tag}};
  } else if (w.sessions.empty() || roll < 12) {
    c.kind = Kind::session;
    c.contract = recent(w.contracts, 4, rng);
    c.capacity = pick(4, 16);
    c.target = kBase + "/sessions";
    c.body = {{"name", "Session " + tag}, {"capacity", c.capacity}, {"contract_id", c.contract}};
  } else if (w.codes.empty() || roll < 30) {
    c.kind = Kind::batch;
    c.session = recent_index(w.sessions.size(), 6, rng);
    c.quantity = pick(1, 4);
    c.max_uses = pick(1, 3);
    c.contract = w.sessions[c.session].contract;
    c.target = kBase + "/contracts/" + c.contract + "/batches";
    c.body = {{"quantity", c.quantity}, {"max_uses", c.max_uses}, {"session_id", w.sessions[c.session].id}};
  } else if (roll < 70 || (roll >= 85 && !claimable)) {
    c.kind = Kind::redeem;
    const Code& code = recent(w.codes, 40, rng);
    c.code = code.value;
    c.session = code.session;
    c.email = tag + "@example.com";
    c.target = kBase + "/redemptions";
    c.body = {{"code", c.code}, {"participant", {{"email", c.email}}}};
  } else if (roll < 85) {
    c.kind = Kind::invite;
    c.session = recent_index(w.sessions.size(), 6, rng);
    c.email = tag + "@example.com";
    c.target = kBase + "/sessions/" + w.sessions[c.session].id + "/invitations";
    c.body = {{"participant", {{"email", c.email}}}};
  } else {
    c.kind = Kind::claim;
    c.invitation = *claimable;
    w.invitations[c.invitation].claim_sent = true;
    c.session = w.invitations[c.invitation].session;
    c.target = cat("/v1/claims/", enc(w.invitations[c.invitation].token));
  }
  return c;
}

HttpResponse send(const HttpClient& http, const Command& c) {
  std::map<std::string, std::string> headers{{"idempotency-key", c.key}};
  if (c.body.is_null()) return http.send("POST", c.target, "", headers);
  headers["content-type"] = "application/json";
  return http.send("POST", c.target, c.body.dump(), headers);
}

// Records an answer: a 201 is an acknowledgement, anything else a refusal.
void absorb(World& w, const Command& c, const HttpResponse& r, Tally& tally) {
  std::lock_guard lock(w.mutex);
  if (r.status >= 500) w.problems.push_back(cat(c.target, " answered ", std::to_string(r.status), " ", r.body));
  if (r.status != 201) {
    ++tally.refused[outcome_of(r)];
    return;
  }
  const json b = json::parse(r.body, nullptr, /*allow_exceptions=*/false);
  if (!b.is_object() || !b.contains("id") || !b["id"].is_string()) {
    w.problems.push_back(c.target + " answered 201 without an id: " + r.body);
    return;
  }
  const std::string id = b["id"];
  ++tally.acked[c.kind];
  switch (c.kind) {
    case Kind::contract:
      w.contracts.push_back(id);
      w.touched_contracts.insert(id);
      break;
    case Kind::session:
      w.touched.insert(w.sessions.size());
      w.sessions.push_back({id, c.contract, c.capacity});
      break;
    case Kind::batch: {
      const json codes = b.value("codes", json::array());
      if (codes.size() != static_cast<std::size_t>(c.quantity)) {
        w.problems.push_back(cat(c.target, " generated ", std::to_string(codes.size()), " codes of ",
                                 std::to_string(c.quantity), ": ", r.body));
      }
      for (const auto& code : codes) w.codes.push_back({code.at("code"), c.session, c.max_uses});
      w.generated[c.contract] += static_cast<int>(codes.size());
      w.touched_contracts.insert(c.contract);
      w.touched.insert(c.session);
      break;
    }
    case Kind::redeem:
      w.registrations.push_back({id, c.session, c.email, c.code});
      w.touched.insert(c.session);
      break;
    case Kind::invite:
      w.invitations.push_back({id, c.session, c.email, b.value("claim_token", std::string())});
      w.touched.insert(c.session);
      break;
    case Kind::claim: {
      Invitation& invitation = w.invitations[c.invitation];
      invitation.claimed = true;
      w.registrations.push_back({id, invitation.session, invitation.email, std::nullopt});
      w.touched.insert(invitation.session);
      break;
    }
  }
}

// ---------------------------------------------------------------------------
// The test

class CrashTest : public ::testing::Test {
 protected:
  TempDir dir_{"tessera-crash"};
  const std::filesystem::path data_ = dir_.path() / "data";
  World world_;
  std::vector<Command> unanswered_;  // in flight at the last kill

  // K clients send commands until the server dies under them; the server
  // gets SIGKILL after `load`. Commands without an answer go to unanswered_.
  void load_and_kill(ServerProcess& server, int trial, std::chrono::milliseconds load, std::uint32_t seed,
                     Tally& tally) {
    std::atomic<bool> stop{false};
    std::barrier start(kClients + 1);
    std::mutex unanswered_mutex;
    std::vector<Tally> tallies(kClients);
    std::vector<std::thread> clients;
    for (int k = 0; k < kClients; ++k) {
      clients.emplace_back([&, k] {
        std::mt19937 rng(seed + static_cast<std::uint32_t>(k));
        const HttpClient http("127.0.0.1", server.port());
        Tally& mine = tallies[static_cast<std::size_t>(k)];
        start.arrive_and_wait();
        // Bounded by the kill: once the server is gone every send fails.
        for (int seq = 0; !stop.load(); ++seq) {
          const Command command = next_command(
              world_, rng, cat("t", std::to_string(trial), "-c", std::to_string(k), "-", std::to_string(seq)));
          ++mine.sent;
          HttpResponse answer;
          try {
            answer = send(http, command);
          } catch (const std::exception&) {
            std::lock_guard lock(unanswered_mutex);
            unanswered_.push_back(command);
            break;
          }
          absorb(world_, command, answer, mine);
        }
      });
    }
    start.arrive_and_wait();
    std::this_thread::sleep_for(load);
    stop = true;
    const int status = server.stop(SIGKILL);
    for (auto& t : clients) t.join();
    EXPECT_TRUE(WIFSIGNALED(status) && WTERMSIG(status) == SIGKILL)
        << "tesserad was not killed but ended with " << status;
    for (const auto& t : tallies) {
      tally.sent += t.sent;
      for (const auto& [kind, n] : t.acked) tally.acked[kind] += n;
      for (const auto& [outcome, n] : t.refused) tally.refused[outcome] += n;
    }
    tally.in_flight = static_cast<int>(unanswered_.size());
  }

  // The crashed directory, read before any restart: every acknowledged
  // command's stream is in the log, positions have no gap, the chain holds.
  // Returns the log's head.
  std::uint64_t check_log_after_kill() {
    std::uint64_t head = 0;
    {
      auto opened = es::Log::open(data_ / "log", es::LogOptions{.read_only = true});
      EXPECT_TRUE(opened) << "cannot open the crashed log: " << opened.error().message();
      if (!opened) return 0;
      const auto& log = *opened.value();
      head = log.head().value;
      std::uint64_t expected = 1;
      for (es::Position after{0}; after.value < head;) {
        const auto page = log.read_all(after, 4096);
        EXPECT_TRUE(page && !page.value().empty()) << "the log ends before its head " << head;
        if (!page || page.value().empty()) break;
        for (const auto& event : page.value()) {
          EXPECT_EQ(event.position.value, expected) << "a gap in the log";
          expected = event.position.value + 1;
        }
        after = page.value().back().position;
      }
      EXPECT_EQ(expected, head + 1) << "positions 1.." << head << " are not all there";

      const d::OrgId org{kOrg};
      const auto in_log = [&](const d::StreamId& stream, const std::string& what) {
        const auto version = log.stream_version(stream.str());
        EXPECT_TRUE(version && version.value().value >= 1) << "acknowledged " << what << " is not in the log";
      };
      for (const auto& id : world_.contracts) in_log(d::contract_stream(org, d::ContractId{id}), "contract " + id);
      for (const auto& s : world_.sessions) in_log(d::session_stream(org, d::SessionId{s.id}), "session " + s.id);
      for (const auto& c : world_.codes) {
        const auto parsed = d::parse_code(c.value);
        EXPECT_TRUE(parsed) << "acknowledged code " << c.value << " does not parse";
        if (parsed) in_log(d::code_stream(parsed.value().key), "code " + c.value);
      }
      for (const auto& r : world_.registrations) {
        in_log(d::registration_stream(org, d::RegistrationId{r.id}), "registration " + r.id);
      }
      for (const auto& i : world_.invitations) {
        in_log(d::invitation_stream(d::InvitationId{i.id}), "invitation " + i.id);
      }
    }
    const auto verified = run_command({TESSERA_ADMIN_PATH, "verify", "--data-dir", data_.string()});
    EXPECT_EQ(verified.exit_code, 0) << verified.out << verified.err;
    const json report = json::parse(verified.out, nullptr, /*allow_exceptions=*/false);
    EXPECT_EQ(report, (json{{"checked", head}, {"broken", nullptr}, {"head", head}})) << verified.out;
    return head;
  }

  static json status_of(const HttpClient& http) { return http.get("/v1/status").json(); }

  // Waits (bounded) until the read models have caught up with the log.
  static json caught_up(const HttpClient& http) {
    const auto deadline = SteadyClock::now() + std::chrono::seconds(60);
    json status = status_of(http);
    while (status.at("projection_position") != status.at("log_position") && SteadyClock::now() < deadline) {
      std::this_thread::sleep_for(std::chrono::milliseconds(10));
      status = status_of(http);
    }
    EXPECT_EQ(status.at("projection_position"), status.at("log_position")) << "the read models did not catch up";
    return status;
  }

  // Sends every command left without an answer again, under its key: each
  // gets an answer now, the first one's if it had been applied.
  void retry_unanswered(const HttpClient& http, Tally& tally) {
    for (const auto& command : unanswered_) {
      const HttpResponse answer = send(http, command);
      if (answer.status == 201) {
        ++(answer.headers.count("idempotent-replayed") != 0 ? tally.retried_replayed : tally.retried_applied);
      } else {
        ++tally.retried_refused;
      }
      Tally ignored;
      absorb(world_, command, answer, ignored);
    }
    unanswered_.clear();
  }

  json read(const HttpClient& http, const std::string& target) {
    const auto r = http.get(target);
    EXPECT_EQ(r.status, 200) << "GET " << target << ": " << r.body;
    if (r.status != 200) return json::object();
    return r.json();
  }

  // The restarted server's state is exactly what was acknowledged: per-resource
  // reads for the acknowledgements from `from` on, and per session (the
  // touched ones, or all with `everything`) its roster, seats and codes.
  struct Marks {
    std::size_t sessions = 0, registrations = 0, invitations = 0;
  };
  void check_state(const HttpClient& http, Marks& from, bool everything) {
    std::lock_guard lock(world_.mutex);
    World& w = world_;
    if (everything) from = Marks{};
    std::set<std::string> contracts = w.touched_contracts;
    if (everything) contracts.insert(w.contracts.begin(), w.contracts.end());
    w.touched_contracts.clear();
    for (const auto& contract : contracts) {
      const json summary = read(http, kBase + "/contracts/" + contract + "/summary");
      const auto generated = w.generated.find(contract);
      EXPECT_EQ(summary.value("total", -1), generated == w.generated.end() ? 0 : generated->second)
          << "contract " << contract << " holds other codes than its acknowledged batches generated";
    }
    for (std::size_t i = from.sessions; i < w.sessions.size(); ++i) {
      const json session = read(http, kBase + "/sessions/" + w.sessions[i].id);
      EXPECT_EQ(session.value("capacity", -1), w.sessions[i].capacity) << w.sessions[i].id;
    }
    for (std::size_t i = from.registrations; i < w.registrations.size(); ++i) {
      const auto& r = w.registrations[i];
      const json registration = read(http, kBase + "/registrations/" + r.id);
      EXPECT_EQ(registration.value("status", ""), "active") << r.id;
      EXPECT_EQ(registration.value("session_id", ""), w.sessions[r.session].id) << r.id;
      EXPECT_EQ(registration.value("participant", json::object()).value("email", ""), r.email) << r.id;
    }
    for (std::size_t i = from.invitations; i < w.invitations.size(); ++i) {
      const auto& inv = w.invitations[i];
      const json invitation = read(http, kBase + "/invitations/" + inv.id);
      EXPECT_EQ(invitation.value("status", ""), inv.claimed ? "accepted" : "pending") << inv.id;
    }
    from = Marks{w.sessions.size(), w.registrations.size(), w.invitations.size()};

    std::set<std::size_t> sessions = w.touched;
    if (everything) {
      for (std::size_t i = 0; i < w.sessions.size(); ++i) sessions.insert(i);
    }
    w.touched.clear();
    std::map<std::size_t, std::vector<const Registration*>> registrations;
    for (const auto& r : w.registrations) registrations[r.session].push_back(&r);
    std::map<std::size_t, std::set<std::string>> pending;
    for (const auto& inv : w.invitations) {
      if (!inv.claimed) pending[inv.session].insert(inv.id);
    }
    std::map<std::size_t, std::vector<const Code*>> codes;
    for (const auto& c : w.codes) codes[c.session].push_back(&c);

    for (const std::size_t s : sessions) {
      const Session& session = w.sessions[s];
      const json roster = read(http, kBase + "/sessions/" + session.id + "/roster");
      const json seats = read(http, kBase + "/sessions/" + session.id + "/seats");
      std::set<std::string> registered, invited, emails;
      std::map<std::string, int> uses;  // registrations per code
      for (const auto& r : roster.value("registrations", json::array())) {
        registered.insert(r.value("id", ""));
        const std::string email = r.value("participant", json::object()).value("email", "");
        EXPECT_TRUE(emails.insert(email).second) << email << " is registered or invited twice in " << session.id;
        if (r.contains("code") && r["code"].is_string()) ++uses[r["code"]];
      }
      for (const auto& inv : roster.value("invitations", json::array())) {
        invited.insert(inv.value("id", ""));
        const std::string email = inv.value("participant", json::object()).value("email", "");
        EXPECT_TRUE(emails.insert(email).second) << email << " is registered or invited twice in " << session.id;
      }
      std::set<std::string> acked_registrations;
      for (const auto* r : registrations[s]) acked_registrations.insert(r->id);
      EXPECT_EQ(registered, acked_registrations)
          << "session " << session.id << ": the roster's registrations are not the acknowledged ones";
      EXPECT_EQ(invited, pending[s]) << "session " << session.id
                                     << ": the roster's pending invitations are not the acknowledged ones";
      EXPECT_EQ(seats.value("registered", -1), static_cast<int>(registered.size())) << session.id;
      EXPECT_EQ(seats.value("reserved", -1), static_cast<int>(invited.size())) << session.id;
      EXPECT_EQ(seats.value("capacity", -1), session.capacity) << session.id;
      EXPECT_LE(registered.size() + invited.size(), static_cast<std::size_t>(session.capacity))
          << "session " << session.id << " is over capacity";

      int code_registrations = 0;
      for (const auto* c : codes[s]) {
        const json code = read(http, cat(kBase, "/codes/", enc(c->value)));
        const int used = code.value("uses", -1);
        EXPECT_LE(used, c->max_uses) << "code " << c->value << " redeemed beyond its max_uses";
        EXPECT_EQ(code.value("max_uses", -1), c->max_uses) << c->value;
        EXPECT_EQ(used, uses[code.value("code", c->value)])
            << "code " << c->value << ": its uses are not its registrations";
        EXPECT_EQ(code.value("status", ""), used == c->max_uses ? "used" : "available") << c->value;
        code_registrations += used;
      }
      int redeemed = 0;
      for (const auto& [code, n] : uses) redeemed += n;
      EXPECT_EQ(code_registrations, redeemed)
          << "session " << session.id << " has registrations on codes it was not acknowledged";
    }
  }
};

TEST_F(CrashTest, KillNineUnderLoadLosesNothingAcknowledged) {
  const int trials = env_int("TESSERA_CRASH_TRIALS", 20);
  const char* seed_text = std::getenv("TESSERA_CRASH_SEED");
  const auto seed = seed_text != nullptr && *seed_text != '\0'
                        ? static_cast<std::uint32_t>(std::strtoul(seed_text, nullptr, 10))
                        : static_cast<std::uint32_t>(std::random_device{}());
  std::printf("crash test: %d trials, %d clients, seed %u (TESSERA_CRASH_SEED replays it)\n", trials, kClients, seed);
  std::mt19937 rng(seed);
  const std::vector<std::string> args{"--kafka", "none"};
  const auto started = SteadyClock::now();

  Marks checked;
  std::uint64_t head = 0;
  Tally totals;
  int total_acked = 0;
  for (int trial = 1; trial <= trials + 1; ++trial) {
    ServerProcess server(TESSERAD_PATH, data_, args);
    const HttpClient http("127.0.0.1", server.port());
    const json restarted = caught_up(http);
    EXPECT_EQ(restarted.at("log_position"), head) << "tesserad restarted at another head than the log's";
    Tally tally;
    retry_unanswered(http, tally);
    const bool last = trial == trials + 1;
    check_state(http, checked, /*everything=*/last);
    if (trial > 1) {
      std::printf(
          "  ... restart: log position %llu, in flight at the kill retried: %d replayed, %d "
          "applied, %d refused\n",
          static_cast<unsigned long long>(head), tally.retried_replayed, tally.retried_applied, tally.retried_refused);
      totals.retried_replayed += tally.retried_replayed;
      totals.retried_applied += tally.retried_applied;
      totals.retried_refused += tally.retried_refused;
    }
    {
      std::lock_guard lock(world_.mutex);
      for (const auto& problem : world_.problems) ADD_FAILURE() << problem;
      world_.problems.clear();
    }
    if (HasFailure()) break;
    if (last) {
      // A clean stop after the last check; the log must verify as a whole.
      const int status = server.stop(SIGTERM);
      EXPECT_TRUE(WIFEXITED(status) && WEXITSTATUS(status) == 0) << "tesserad stopped with " << status;
      const auto verified = run_command({TESSERA_ADMIN_PATH, "verify", "--data-dir", data_.string()});
      EXPECT_EQ(verified.exit_code, 0) << verified.out << verified.err;
      std::printf("final: %s", verified.out.c_str());
      break;
    }

    const std::chrono::milliseconds load(std::uniform_int_distribution<int>(kMinLoadMs, kMaxLoadMs)(rng));
    load_and_kill(server, trial, load, static_cast<std::uint32_t>(rng()), tally);
    head = check_log_after_kill();
    total_acked += tally.acked_total();
    totals.sent += tally.sent;
    totals.in_flight += tally.in_flight;
    for (const auto& [outcome, n] : tally.refused) totals.refused[outcome] += n;
    std::string refused;
    for (const auto& [outcome, n] : tally.refused)
      refused += cat(refused.empty() ? "" : ", ", outcome, ": ", std::to_string(n));
    std::printf(
        "trial %2d: SIGKILL after %3lld ms: sent %d, acked %d (contracts %d, sessions %d, batches "
        "%d, redemptions %d, "
        "invitations %d, claims %d), refused {%s}, in flight %d; log head %llu, verified\n",
        trial, static_cast<long long>(load.count()), tally.sent, tally.acked_total(), tally.acked[Kind::contract],
        tally.acked[Kind::session], tally.acked[Kind::batch], tally.acked[Kind::redeem], tally.acked[Kind::invite],
        tally.acked[Kind::claim], refused.c_str(), tally.in_flight, static_cast<unsigned long long>(head));
    std::fflush(stdout);
    if (HasFailure()) break;
  }
  const auto seconds = std::chrono::duration<double>(SteadyClock::now() - started).count();
  std::printf(
      "crash test: %d trials in %.1f s; %d commands sent under load, %d acknowledged, %d in flight "
      "at a kill "
      "(retried: %d replayed, %d applied, %d refused); %zu registrations, %zu codes, %zu sessions; "
      "nothing acknowledged missing: %s\n",
      trials, seconds, totals.sent, total_acked, totals.in_flight, totals.retried_replayed, totals.retried_applied,
      totals.retried_refused, world_.registrations.size(), world_.codes.size(), world_.sessions.size(),
      HasFailure() ? "NO" : "yes");
}

}  // namespace
}  // namespace tessera::test_support
