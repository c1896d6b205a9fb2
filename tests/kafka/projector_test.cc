// tessera-projector end to end: a tesserad publishes its log to a Kafka
// cluster (librdkafka's mock, in this process, over loopback TCP), a
// tessera-projector builds the read models from the topics in a consumer
// group, and both answer the query routes over HTTP. Once the projector has
// applied every event, each query answers byte for byte what the server
// answers. A projector restarted mid-stream applies nothing twice; events
// produced twice (as a relay restart re-sends them) are skipped. A message
// it cannot fold (no Tessera event at all, or an event of a schema it does
// not know) stops it there, across restarts: nothing after it is applied and
// the status says where and why (projections/stall.h).
#include <gtest/gtest.h>
#include <librdkafka/rdkafka.h>
#include <signal.h>

#include <cctype>
#include <chrono>
#include <map>
#include <memory>
#include <stdexcept>
#include <string>
#include <thread>
#include <vector>

#include "http_client.h"
#include "kafka_reader.h"
#include "server_process.h"
#include "temp_dir.h"
#include "tessera/kafka/embedded_cluster.h"

namespace tessera::test_support {
namespace {

using nlohmann::json;
using namespace std::chrono_literals;
using Clock = std::chrono::steady_clock;

const std::vector<std::string> kTopics = {"tessera.contracts", "tessera.sessions",    "tessera.batches",
                                          "tessera.codes",     "tessera.invitations", "tessera.registrations"};
// Both servers see the same Host, so the claim links they build agree.
const std::map<std::string, std::string> kSameHost = {{"host", "tessera.test"}};

std::string enc(std::string_view text) { return percent_encode(text); }

json must(const HttpResponse& r, int status, const std::string& what) {
  if (r.status != status) {
    throw std::runtime_error(what + ": expected " + std::to_string(status) + ", got " + std::to_string(r.status) + " " +
                             r.body);
  }
  return r.body.empty() ? json() : r.json();
}

// Produces messages to chosen partitions, as another producer (a relay in a
// new session) would.
class RawProducer {
 public:
  explicit RawProducer(const std::string& bootstrap) {
    rd_kafka_conf_t* conf = rd_kafka_conf_new();
    char errstr[512];
    if (rd_kafka_conf_set(conf, "bootstrap.servers", bootstrap.c_str(), errstr, sizeof errstr) != RD_KAFKA_CONF_OK) {
      rd_kafka_conf_destroy(conf);
      throw std::runtime_error(errstr);
    }
    producer_ = rd_kafka_new(RD_KAFKA_PRODUCER, conf, errstr, sizeof errstr);
    if (producer_ == nullptr) {
      rd_kafka_conf_destroy(conf);
      throw std::runtime_error(errstr);
    }
  }
  ~RawProducer() { rd_kafka_destroy(producer_); }
  RawProducer(const RawProducer&) = delete;
  RawProducer& operator=(const RawProducer&) = delete;

  void produce(const ConsumedMessage& m) {
    rd_kafka_headers_t* headers = rd_kafka_headers_new(m.headers.size());
    for (const auto& [name, value] : m.headers) {
      rd_kafka_header_add(headers, name.data(), static_cast<ssize_t>(name.size()), value.data(),
                          static_cast<ssize_t>(value.size()));
    }
    const auto err = rd_kafka_producev(
        producer_, RD_KAFKA_V_TOPIC(m.topic.c_str()), RD_KAFKA_V_PARTITION(m.partition),
        RD_KAFKA_V_KEY(m.key.data(), m.key.size()), RD_KAFKA_V_VALUE(const_cast<char*>(m.value.data()), m.value.size()),
        RD_KAFKA_V_MSGFLAGS(RD_KAFKA_MSG_F_COPY), RD_KAFKA_V_HEADERS(headers), RD_KAFKA_V_END);
    if (err != RD_KAFKA_RESP_ERR_NO_ERROR) {
      rd_kafka_headers_destroy(headers);
      throw std::runtime_error(std::string("produce: ") + rd_kafka_err2str(err));
    }
  }

  void flush() {
    if (rd_kafka_flush(producer_, 10'000) != RD_KAFKA_RESP_ERR_NO_ERROR) throw std::runtime_error("flush timed out");
  }

 private:
  rd_kafka_t* producer_ = nullptr;
};

class ProjectorTest : public ::testing::Test {
 protected:
  void SetUp() override {
    auto started = kafka::EmbeddedCluster::start();
    ASSERT_TRUE(started) << started.error().message();
    cluster_ = std::move(started).value();
    server_ = std::make_unique<ServerProcess>(TESSERAD_PATH, server_dir_.path() / "data",
                                              std::vector<std::string>{"--kafka", cluster_->bootstrap()});
    http_ = std::make_unique<HttpClient>("127.0.0.1", server_->port());
    start_projector();
  }

  void start_projector() {
    projector_ = std::make_unique<ServerProcess>(
        TESSERA_PROJECTOR_PATH, projector_dir_.path() / "data",
        std::vector<std::string>{"--kafka", cluster_->bootstrap(), "--claim-key",
                                 (server_dir_.path() / "data" / "claim.key").string(), "--session-timeout-ms", "3000"});
    replica_ = std::make_unique<HttpClient>("127.0.0.1", projector_->port());
  }

  json status(const HttpClient& client) { return must(client.get("/v1/status"), 200, "GET /v1/status"); }

  // Waits until the projector says it is stopped at a message; its status then.
  json wait_stalled() {
    const auto deadline = Clock::now() + 60s;
    json st;
    while (Clock::now() < deadline) {
      st = status(*replica_);
      if (!st["consumer"]["stalled_at"].is_null()) return st;
      std::this_thread::sleep_for(50ms);
    }
    ADD_FAILURE() << "the projector did not stop in 60 s: " << st.dump();
    return st;
  }

  // The stopped partition's stored offset is the offset of the message it
  // stopped at: the models stay at the message before.
  void expect_stored_at_the_stop(const json& stopped) {
    const json& at = stopped["consumer"]["stalled_at"];
    bool found = false;
    for (const auto& p : stopped["consumer"]["partitions"]) {
      if (p["topic"] != at["topic"] || p["partition"] != at["partition"]) continue;
      EXPECT_EQ(p["offset"], at["offset"]) << stopped;
      found = true;
    }
    EXPECT_TRUE(found) << stopped;
  }

  // Stopped at `stopped`'s message with the server written to since: the
  // models stay at the message before, miss the events written since, and
  // stay so over several retries.
  void expect_stays_stopped(const json& stopped) {
    const json& at = stopped["consumer"]["stalled_at"];
    expect_stored_at_the_stop(stopped);
    std::this_thread::sleep_for(3s);  // a retry each second
    const json later = status(*replica_);
    EXPECT_EQ(later["consumer"]["stalled_at"], at) << later;
    EXPECT_GE(later["consumer"]["stall_attempts"].get<std::uint64_t>(), 2U) << later;
    EXPECT_EQ(later["events_applied"], stopped["events_applied"]) << later;
    EXPECT_LT(later["events_applied"].get<std::uint64_t>(), status(*http_)["log_position"].get<std::uint64_t>())
        << later;
  }

  // Waits until the projector has applied as many events as the server's
  // log holds (each event counts once), and the relay has published them all.
  void wait_caught_up() {
    const auto deadline = Clock::now() + 60s;
    json server_status, projector_status;
    while (Clock::now() < deadline) {
      server_status = status(*http_);
      projector_status = status(*replica_);
      const auto head = server_status.at("log_position").get<std::uint64_t>();
      if (server_status.at("relay_position") == head && projector_status.at("events_applied") == head) return;
      std::this_thread::sleep_for(50ms);
    }
    FAIL() << "the projector did not catch up in 60 s\nserver: " << server_status.dump()
           << "\nprojector: " << projector_status.dump();
  }

  // --- the scenario, through tesserad's HTTP API -------------------------

  json create(const std::string& target, const json& body) {
    return must(http_->post(target, body), 201, "POST " + target + " " + body.dump());
  }
  json post(const std::string& target, const json& body = json::object()) {
    return must(http_->post(target, body), 200, "POST " + target);
  }

  // One round of a busy day: a contract, a session, batches; redemptions
  // (some cancelled, some revoked), invitations (claimed, cancelled,
  // superseded), assignment, archive, an edit, a capacity change.
  void busy_round(int round) {
    const std::string r = std::to_string(round);
    const std::string c =
        create(org_ + "/contracts", {{"name", "Contract " + r},
                                     {"reuse_cancelled_codes", round % 2 == 0},
                                     {"default_price", {{"amount", 4900}, {"currency", "EUR"}}}})["id"];
    contracts_.push_back(c);
    const std::string s =
        create(org_ + "/sessions", {{"name", "Session " + r}, {"capacity", 6}, {"contract_id", c}})["id"];
    sessions_.push_back(s);
    const json batch =
        create(org_ + "/contracts/" + c + "/batches", {{"quantity", 8}, {"session_id", s}, {"note", "round " + r}});
    std::vector<std::string> codes;
    for (const auto& code : batch.at("codes")) codes.push_back(code.at("code"));
    const json assigned =
        create(org_ + "/contracts/" + c + "/batches",
               {{"participants",
                 {{{"email", "ann" + r + "@example.com"}, {"name", "Ann"}}, {{"email", "bob" + r + "@example.com"}}}},
                {"session_id", s},
                {"price", {{"amount", 1500}, {"currency", "EUR"}}}});
    const std::string ann_code = assigned["codes"][0]["code"];

    const auto redeem = [&](const std::string& code, const std::string& email) -> std::string {
      return create(org_ + "/redemptions", {{"code", code}, {"participant", {{"email", email}}}})["id"];
    };
    const std::string r1 = redeem(codes[0], "p1-" + r + "@example.com");
    const std::string r2 = redeem(codes[1], "p2-" + r + "@example.com");
    const std::string r3 = redeem(ann_code, "ann" + r + "@example.com");
    registrations_.insert(registrations_.end(), {r1, r2, r3});
    post(org_ + "/registrations/" + r1 + "/cancel");
    post(org_ + "/registrations/" + r2 + "/revoke");

    post(org_ + "/codes/" + enc(codes[2]) + "/assign", {{"participant", {{"email", "cy" + r + "@example.com"}}}});
    post(org_ + "/codes/" + enc(codes[3]) + "/archive");
    must(http_->send("PATCH", org_ + "/codes/" + enc(codes[4]), json{{"note", "edited"}}.dump(),
                     {{"content-type", "application/json"}}),
         200, "PATCH code");

    // Two invitations on one code: the first claim supersedes the other.
    const json first = create(org_ + "/sessions/" + s + "/invitations",
                              {{"participant", {{"email", "inv1-" + r + "@example.com"}}}, {"code", codes[5]}});
    const json second = create(org_ + "/sessions/" + s + "/invitations",
                               {{"participant", {{"email", "inv2-" + r + "@example.com"}}}, {"code", codes[5]}});
    const json third =
        create(org_ + "/sessions/" + s + "/invitations", {{"participant", {{"email", "inv3-" + r + "@example.com"}}}});
    const json fourth =
        create(org_ + "/sessions/" + s + "/invitations", {{"participant", {{"email", "inv4-" + r + "@example.com"}}}});
    invitations_.insert(invitations_.end(), {first["id"], second["id"], third["id"], fourth["id"]});
    const std::string claimed = must(
        http_->send("POST", "/v1/claims/" + enc(first["claim_token"].get<std::string>()), "", {}), 201, "claim")["id"];
    registrations_.push_back(claimed);
    post(org_ + "/invitations/" + third["id"].get<std::string>() + "/cancel");

    must(http_->send("PATCH", org_ + "/sessions/" + s, json{{"capacity", 9}}.dump(),
                     {{"content-type", "application/json"}}),
         200, "PATCH session");
    must(http_->send("PATCH", org_ + "/contracts/" + c,
                     json{{"name", "Contract " + r + " (renamed)"}, {"reuse_cancelled_codes", true}}.dump(),
                     {{"content-type", "application/json"}}),
         200, "PATCH contract");
  }

  // --- the comparison --------------------------------------------------

  // Every query of the scenario's resources, with the accept header to send.
  std::vector<std::pair<std::string, std::string>> queries() const {
    std::vector<std::pair<std::string, std::string>> out;
    for (const auto& s : sessions_) {
      for (const char* tail : {"/seats", "/roster", ""}) out.emplace_back(org_ + "/sessions/" + s + tail, "");
    }
    for (const auto& c : contracts_) {
      out.emplace_back(org_ + "/contracts/" + c + "/summary", "");
      out.emplace_back(org_ + "/contracts/" + c, "");
      out.emplace_back(org_ + "/codes?contract=" + c, "");
      out.emplace_back(org_ + "/codes?contract=" + c, "text/csv");
      out.emplace_back(org_ + "/contracts/" + c + "/participants", "text/csv");
    }
    out.emplace_back(org_ + "/codes?status=used&limit=3", "");
    out.emplace_back(org_ + "/codes?limit=1000", "");
    for (const auto& id : registrations_) out.emplace_back(org_ + "/registrations/" + id, "");
    for (const auto& id : invitations_) out.emplace_back(org_ + "/invitations/" + id, "");
    out.emplace_back(org_ + "/sessions/nope/seats", "");
    return out;
  }

  // Asks both; expects the same status, type, ETag and body, byte for byte.
  void expect_same_answers() {
    for (const auto& [target, accept] : queries()) {
      auto headers = kSameHost;
      if (!accept.empty()) headers["accept"] = accept;
      const auto expected = http_->send("GET", target, "", headers);
      const auto actual = replica_->send("GET", target, "", headers);
      EXPECT_EQ(actual.status, expected.status) << target;
      EXPECT_EQ(actual.body, expected.body) << target;
      for (const char* name : {"content-type", "etag"}) {
        const auto header = [&](const HttpResponse& r) {
          const auto it = r.headers.find(name);
          return it == r.headers.end() ? std::string("<none>") : it->second;
        };
        EXPECT_EQ(header(actual), header(expected)) << name << " of " << target;
      }
    }
  }

  const std::string org_ = "/v1/orgs/acme";
  std::unique_ptr<kafka::EmbeddedCluster> cluster_;
  TempDir server_dir_{"tessera-projector-server"};
  TempDir projector_dir_{"tessera-projector"};
  std::unique_ptr<ServerProcess> server_;
  std::unique_ptr<HttpClient> http_;
  std::unique_ptr<ServerProcess> projector_;
  std::unique_ptr<HttpClient> replica_;
  std::vector<std::string> contracts_, sessions_, registrations_, invitations_;
};

TEST_F(ProjectorTest, AnswersTheQueriesExactlyAsTheServer) {
  for (int round = 0; round < 3; ++round) busy_round(round);
  wait_caught_up();
  expect_same_answers();

  // The scenario's seats and roster really are there (not two empty answers).
  const json seats = must(replica_->get(org_ + "/sessions/" + sessions_[0] + "/seats"), 200, "seats");
  EXPECT_EQ(seats, json({{"capacity", 9}, {"reserved", 1}, {"registered", 2}, {"available", 6}}));
  const json roster =
      must(replica_->send("GET", org_ + "/sessions/" + sessions_[0] + "/roster", "", kSameHost), 200, "roster");
  EXPECT_EQ(roster["invitations"].size(), 1U);
  EXPECT_EQ(roster["registrations"].size(), 2U);
  EXPECT_TRUE(roster["invitations"][0]["claim_token"].is_string()) << roster;

  // A read-only replica: writes are refused, queries and health answered.
  const auto write = replica_->post(org_ + "/contracts", {{"name", "nope"}});
  EXPECT_EQ(write.status, 405) << write.body;
  EXPECT_NE(write.body.find("method-not-allowed"), std::string::npos) << write.body;
  EXPECT_EQ(replica_->post(org_ + "/redemptions", json::object()).status, 405);
  EXPECT_EQ(replica_->post(org_ + "/sessions/" + sessions_[0] + "/invitations", json::object()).status, 405);
  EXPECT_EQ(replica_->get("/healthz").status, 200);
  const json st = status(*replica_);
  EXPECT_EQ(st["kafka_bootstrap"], cluster_->bootstrap());
  EXPECT_EQ(st["kafka_group"], "tessera-projector");
  EXPECT_FALSE(st.contains("log_position")) << st;
  EXPECT_EQ(st["consumer"]["duplicates"], 0) << st;
  EXPECT_TRUE(st["consumer"]["stalled_at"].is_null()) << st;
  EXPECT_TRUE(st["consumer"]["stall_reason"].is_null()) << st;
}

TEST_F(ProjectorTest, ARestartMidStreamAppliesNothingTwice) {
  busy_round(0);
  // Killed once it is applying, while the server writes on, as a crash would stop it.
  const auto deadline = Clock::now() + 30s;
  while (status(*replica_)["events_applied"] == 0 && Clock::now() < deadline) std::this_thread::sleep_for(20ms);
  ASSERT_GT(status(*replica_)["events_applied"].get<std::uint64_t>(), 0U);
  std::thread crash_writer([&] { busy_round(1); });
  std::this_thread::sleep_for(50ms);
  projector_->stop(SIGKILL);
  crash_writer.join();
  start_projector();
  busy_round(2);
  wait_caught_up();
  expect_same_answers();
  // It resumed exactly where its models stood: nothing read again.
  EXPECT_EQ(status(*replica_)["consumer"]["duplicates"], 0);

  // And once more with a clean stop, the server still writing meanwhile.
  std::thread writer([&] { busy_round(3); });
  projector_->stop(SIGTERM);
  start_projector();
  writer.join();
  wait_caught_up();
  expect_same_answers();
  const json st = status(*replica_);
  EXPECT_EQ(st["events_applied"], status(*http_)["log_position"]) << st;
  EXPECT_EQ(st["consumer"]["duplicates"], 0) << st;
}

TEST_F(ProjectorTest, EventsProducedTwiceAreSkipped) {
  busy_round(0);
  busy_round(1);
  wait_caught_up();
  const auto before = status(*replica_)["consumer"];

  // A relay restart re-sends what it had in flight: the same messages again,
  // to the same partitions, after the ones the projector has applied.
  const auto published = read_messages(cluster_->bootstrap(), kTopics, 1, 20s);
  ASSERT_GT(published.size(), 60U);
  RawProducer producer(cluster_->bootstrap());
  std::size_t resent = 0;
  for (std::size_t i = 0; i < published.size(); i += 3, ++resent) producer.produce(published[i]);
  producer.flush();

  // Then more work, so the copies sit between new events.
  busy_round(2);
  wait_caught_up();
  const auto deadline = Clock::now() + 30s;
  json after;
  while (Clock::now() < deadline) {
    after = status(*replica_)["consumer"];
    if (after["messages"].get<std::uint64_t>() >= before["messages"].get<std::uint64_t>() + resent &&
        after["lag"] == 0) {
      break;
    }
    std::this_thread::sleep_for(50ms);
  }
  EXPECT_EQ(after["lag"], 0) << after;
  EXPECT_EQ(after["duplicates"].get<std::uint64_t>() - before["duplicates"].get<std::uint64_t>(), resent) << after;
  EXPECT_TRUE(after["stalled_at"].is_null()) << after;
  EXPECT_EQ(status(*replica_)["events_applied"], status(*http_)["log_position"]);
  expect_same_answers();
}

TEST_F(ProjectorTest, AMessageThatIsNoTesseraEventStopsItThereAcrossRestarts) {
  busy_round(0);
  wait_caught_up();
  // A message with none of a Tessera event's headers, on a Tessera topic.
  RawProducer producer(cluster_->bootstrap());
  producer.produce(ConsumedMessage{"tessera.codes", 0, 0, "code-STRAY", "not an event", {}});
  producer.flush();

  const json stopped = wait_stalled();
  // More work after it: none of it is applied.
  busy_round(1);
  EXPECT_EQ(stopped["consumer"]["stalled_at"]["topic"], "tessera.codes") << stopped;
  EXPECT_EQ(stopped["consumer"]["stalled_at"]["partition"], 0) << stopped;
  EXPECT_NE(stopped["consumer"]["stall_reason"].get<std::string>().find("ce_type"), std::string::npos) << stopped;
  expect_stays_stopped(stopped);

  // A restart reads the same message again and stops there again (having
  // read the other partitions, in whatever order they came, up to then).
  projector_->stop(SIGTERM);
  start_projector();
  const json restarted = wait_stalled();
  EXPECT_EQ(restarted["consumer"]["stalled_at"], stopped["consumer"]["stalled_at"]) << restarted;
  expect_stored_at_the_stop(restarted);
}

TEST_F(ProjectorTest, AnEventOfASchemaItDoesNotKnowStopsItThere) {
  busy_round(0);
  wait_caught_up();
  // An event as a newer relay would publish it: another schema of its type.
  auto published = read_messages(cluster_->bootstrap(), {"tessera.sessions"}, 1, 20s);
  ASSERT_FALSE(published.empty());
  ConsumedMessage newer = published.back();
  newer.headers["tessera_schema"] = "99";
  RawProducer producer(cluster_->bootstrap());
  producer.produce(newer);
  producer.flush();

  const json stopped = wait_stalled();
  busy_round(1);
  EXPECT_EQ(stopped["consumer"]["stalled_at"]["topic"], "tessera.sessions") << stopped;
  EXPECT_EQ(stopped["consumer"]["stalled_at"]["partition"], newer.partition) << stopped;
  EXPECT_NE(stopped["consumer"]["stall_reason"].get<std::string>().find("schema 99"), std::string::npos) << stopped;
  expect_stays_stopped(stopped);
}

}  // namespace
}  // namespace tessera::test_support
