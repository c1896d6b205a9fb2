// The command pipeline over a real RocksDB log in a temporary directory, with
// a fixed clock and a seeded deterministic random source.

#include <gtest/gtest.h>

#include <algorithm>
#include <atomic>
#include <chrono>
#include <condition_variable>
#include <functional>
#include <future>
#include <latch>
#include <map>
#include <memory>
#include <mutex>
#include <optional>
#include <random>
#include <set>
#include <string>
#include <thread>
#include <vector>

#include "temp_dir.h"
#include "tessera/codec/json.h"
#include "tessera/codec/state.h"
#include "tessera/domain/streams.h"
#include "tessera/pipeline/errc.h"
#include "tessera/pipeline/pipeline.h"
#include "text.h"

namespace {

using tessera::test_support::cat;

namespace d = tessera::domain;
namespace es = tessera::eventstore;
using tessera::pipeline::Accepted;
using tessera::pipeline::IdempotencyKey;
using Answer = tessera::result<tessera::pipeline::Accepted>;
using tessera::pipeline::Pipeline;
using tessera::pipeline::Sources;
using tessera::test_support::TempDir;

const d::OrgId kOrg{"acme"};
const d::ContractId kContract{"c1"};
const d::SessionId kSession{"s1"};
const d::Timestamp kNow{1'800'000'000'000'000};

// A fixed clock and a seeded generator, safe to call from any thread.
Sources deterministic_sources(std::uint64_t seed) {
  struct Rng {
    std::mutex mutex;
    std::mt19937_64 engine;
  };
  auto rng = std::make_shared<Rng>();
  rng->engine.seed(seed);
  return Sources{
      .now = [] { return kNow; },
      .random_u64 =
          [rng] {
            std::lock_guard lock(rng->mutex);
            return rng->engine();
          },
  };
}

d::Participant person(const std::string& email) { return d::Participant{email, "", "", "", ""}; }

std::string describe(const Answer& o) {
  if (o) return "accepted";
  return o.error().code.category().name() + std::string(":") + o.error().code.message() + " (" + o.error().message() +
         ")";
}

testing::AssertionResult IsAccepted(const Answer& o) {
  if (o) return testing::AssertionSuccess();
  return testing::AssertionFailure() << describe(o);
}

testing::AssertionResult IsRefused(const Answer& o, std::error_code expected) {
  if (o) return testing::AssertionFailure() << "accepted";
  if (o.error().code != expected)
    return testing::AssertionFailure() << describe(o) << ", expected " << expected.message();
  return testing::AssertionSuccess();
}

std::vector<d::CodeValue> issued_codes(const Accepted& accepted) {
  std::vector<d::CodeValue> out;
  for (const auto& e : accepted.events) {
    if (const auto* issued = std::get_if<d::CodeIssued>(&e.event)) {
      auto parsed = d::parse_code(issued->code);
      EXPECT_TRUE(parsed.has_value()) << issued->code;
      if (parsed) out.push_back(parsed.value());
    }
  }
  return out;
}

class PipelineTest : public ::testing::Test {
 protected:
  std::unique_ptr<es::Log> open_log() {
    auto opened = es::Log::open(dir_.path() / "log");
    if (!opened) throw std::runtime_error("open failed: " + opened.error().message());
    return std::move(opened).value();
  }

  // Destroys the pipeline and the log, then opens both again on the same directory.
  void restart() {
    pipeline_.reset();
    log_.reset();
    log_ = open_log();
    pipeline_ = std::make_unique<Pipeline>(*log_, deterministic_sources(++seed_), cache_);
  }

  Answer run(d::Command c) { return pipeline_->submit(std::move(c)).get(); }

  void create_contract_and_session(std::uint32_t capacity, std::optional<d::Money> default_price = std::nullopt) {
    ASSERT_TRUE(IsAccepted(run(d::CreateContract{kOrg, kContract, "Training", false, default_price})));
    ASSERT_TRUE(IsAccepted(run(d::CreateSession{kOrg, kSession, "Spring", capacity, kContract, std::nullopt})));
  }

  std::vector<d::CodeValue> generate(const std::string& batch, std::uint32_t quantity, std::uint32_t max_uses = 1,
                                     std::optional<d::Money> price = std::nullopt, std::string prefix = "") {
    d::GenerateBatch g;
    g.org = kOrg;
    g.batch = d::BatchId{batch};
    g.contract = kContract;
    g.session = kSession;
    g.quantity = quantity;
    g.max_uses = max_uses;
    g.price = std::move(price);
    g.prefix = std::move(prefix);
    const auto o = run(g);
    EXPECT_TRUE(IsAccepted(o));
    if (!o) return {};
    return issued_codes(o.value());
  }

  d::Redeem redeem(const std::string& code_key, const std::string& email, const std::string& registration) {
    return d::Redeem{kOrg, code_key, person(email), std::nullopt, d::RegistrationId{registration}, d::Timestamp{0}};
  }

  // Submits every command at once from its own thread; the outcomes in order.
  std::vector<Answer> concurrently(const std::vector<d::Command>& commands) {
    std::latch start(static_cast<std::ptrdiff_t>(commands.size()));
    std::vector<std::optional<Answer>> outcomes(commands.size());
    std::vector<std::thread> threads;
    for (std::size_t i = 0; i < commands.size(); ++i) {
      threads.emplace_back([&, i] {
        start.arrive_and_wait();
        outcomes[i] = pipeline_->submit(commands[i]).get();
      });
    }
    for (auto& t : threads) t.join();
    std::vector<Answer> out;
    for (auto& o : outcomes) out.push_back(std::move(*o));
    return out;
  }

  std::vector<d::Event> stream_events(const d::StreamId& stream) {
    std::vector<d::Event> out;
    const auto recorded = log_->read_stream(stream.str(), es::StreamVersion{0}, 1'000'000).value();
    for (const auto& r : recorded) {
      auto e = tessera::codec::decode_event(r.type, r.schema, r.payload);
      EXPECT_TRUE(e.has_value()) << r.type << " " << r.payload;
      if (e) out.push_back(std::move(*e));
    }
    return out;
  }

  template <class E>
  std::size_t count_in_stream(const d::StreamId& stream) {
    std::size_t n = 0;
    for (const auto& e : stream_events(stream)) n += std::holds_alternative<E>(e) ? 1 : 0;
    return n;
  }

  TempDir dir_{"tessera-pipeline-test"};
  std::uint64_t seed_ = 42;
  tessera::pipeline::CacheOptions cache_;  // for restart()
  std::unique_ptr<es::Log> log_ = open_log();
  std::unique_ptr<Pipeline> pipeline_ = std::make_unique<Pipeline>(*log_, deterministic_sources(seed_));
};

const std::error_code kExhausted = d::make_error_code(d::errc::code_exhausted);
const std::error_code kSessionFull = d::make_error_code(d::errc::session_full);

// ---------------------------------------------------------------------------

TEST_F(PipelineTest, CreateContractSessionBatchAndRedeem) {
  create_contract_and_session(10, d::Money{2500, "EUR"});
  const auto codes = generate("b1", 3, 1, d::Money{900, "EUR"});
  ASSERT_EQ(codes.size(), 3U);

  const auto o = run(redeem(codes[1].key, "Alice@Example.com", "r1"));
  ASSERT_TRUE(IsAccepted(o));
  const auto& events = o.value().events;
  ASSERT_EQ(events.size(), 3U);
  const auto& redeemed = std::get<d::CodeRedeemed>(events[0].event);
  EXPECT_EQ(events[0].stream, d::code_stream(codes[1].key));
  EXPECT_EQ(redeemed.participant.email, "alice@example.com");
  EXPECT_EQ(redeemed.session, kSession);  // from the batch
  EXPECT_EQ(redeemed.at, kNow);           // stamped by the pipeline's clock, not the caller's
  const auto& created = std::get<d::RegistrationCreated>(events[2].event);
  EXPECT_EQ(created.price, (d::Money{900, "EUR"}));  // the batch's price over the contract's default

  // The other codes are untouched, the session has one seat taken.
  EXPECT_TRUE(IsAccepted(run(redeem(codes[0].key, "bob@example.com", "r2"))));
  EXPECT_TRUE(IsRefused(run(redeem(codes[1].key, "carol@example.com", "r3")), kExhausted));
  EXPECT_EQ(count_in_stream<d::SeatRegistered>(d::session_stream(kOrg, kSession)), 2U);
}

TEST_F(PipelineTest, AcceptedEventsAreInTheLogAtTheirPositions) {
  create_contract_and_session(10);
  const auto codes = generate("b1", 2);
  const auto o = run(redeem(codes[0].key, "alice@example.com", "r1"));
  ASSERT_TRUE(IsAccepted(o));
  const auto& accepted = o.value();
  const auto first = accepted.positions.first.value;
  const auto last = accepted.positions.last.value;
  ASSERT_EQ(last - first + 1, accepted.events.size());
  EXPECT_EQ(log_->head().value, last);
  const auto recorded = log_->read_all(es::Position{first - 1}, accepted.events.size()).value();
  ASSERT_EQ(recorded.size(), accepted.events.size());
  for (std::size_t i = 0; i < recorded.size(); ++i) {
    EXPECT_EQ(recorded[i].stream, accepted.events[i].stream.str());
    EXPECT_EQ(recorded[i].type, d::event_type(accepted.events[i].event));
    EXPECT_EQ(recorded[i].recorded_at_micros, kNow.micros);
    const auto decoded = tessera::codec::decode_event(recorded[i].type, recorded[i].schema, recorded[i].payload);
    ASSERT_TRUE(decoded.has_value());
    EXPECT_TRUE(*decoded == accepted.events[i].event) << recorded[i].type;
  }
}

TEST_F(PipelineTest, RejectionsCarryTheDomainReason) {
  EXPECT_TRUE(IsRefused(run(d::CreateSession{kOrg, kSession, "S", 3, kContract, std::nullopt}),
                        d::make_error_code(d::errc::contract_unknown)));
  create_contract_and_session(1);
  EXPECT_TRUE(IsRefused(run(d::CreateContract{kOrg, kContract, "Again", false, std::nullopt}),
                        d::make_error_code(d::errc::already_exists)));
  EXPECT_TRUE(IsRefused(run(redeem(d::make_code(7, "").key, "a@example.com", "r1")),
                        d::make_error_code(d::errc::code_unknown)));
  const auto o = run(redeem(d::make_code(7, "").key, "a@example.com", "r1"));
  ASSERT_FALSE(o);
  EXPECT_EQ(tessera::retry_advice(o.error().code), tessera::retry::no);
  EXPECT_FALSE(o.error().detail.empty());
}

TEST_F(PipelineTest, CommandThatChangesNothingIsAcceptedWithoutEvents) {
  create_contract_and_session(10);
  const auto codes = generate("b1", 1);
  ASSERT_TRUE(IsAccepted(run(d::ArchiveCode{kOrg, codes[0].key})));
  const auto head = log_->head();
  const auto again = run(d::ArchiveCode{kOrg, codes[0].key});
  ASSERT_TRUE(IsAccepted(again));
  EXPECT_TRUE(again.value().events.empty());
  EXPECT_EQ(log_->head(), head);
  EXPECT_TRUE(IsRefused(run(redeem(codes[0].key, "a@example.com", "r1")), d::make_error_code(d::errc::code_archived)));
}

TEST_F(PipelineTest, GeneratedCodesAreUniqueAndParseBack) {
  create_contract_and_session(10);
  const auto plain = generate("b1", 1000);
  const auto gold = generate("b2", 300, 1, std::nullopt, "Gold");
  ASSERT_EQ(plain.size(), 1000U);
  ASSERT_EQ(gold.size(), 300U);
  std::set<std::string> keys;
  for (const auto* codes : {&plain, &gold}) {
    for (const auto& code : *codes) {
      EXPECT_TRUE(keys.insert(code.key).second) << "repeated " << code.display;
      // The display parses back to the same code, and its stream holds it.
      const auto parsed = d::parse_code(code.display);
      ASSERT_TRUE(parsed.has_value());
      EXPECT_EQ(parsed.value().key, code.key);
      EXPECT_EQ(log_->stream_version(d::code_stream(code.key).str()).value().value, 1U);
    }
  }
  for (const auto& code : gold) {
    EXPECT_EQ(code.display.substr(0, 5), "Gold-");
    EXPECT_EQ(code.key.substr(0, 4), "GOLD");
  }
  EXPECT_EQ(keys.size(), 1300U);
}

TEST_F(PipelineTest, DrawnCodesSkipValuesAlreadyTakenOrAlreadyDrawn) {
  // A random source that repeats each value twice and can be rewound.
  auto counter = std::make_shared<std::atomic<std::uint64_t>>(0);
  pipeline_.reset();
  pipeline_ = std::make_unique<Pipeline>(
      *log_, Sources{.now = [] { return kNow; }, .random_u64 = [counter] { return 1000 + counter->fetch_add(1) / 2; }});
  create_contract_and_session(10);
  const auto first = generate("b1", 5);
  counter->store(0);  // rewind: the same values come again
  const auto second = generate("b2", 5);
  ASSERT_EQ(first.size(), 5U);
  ASSERT_EQ(second.size(), 5U);
  std::set<std::string> keys;
  for (const auto& c : first) keys.insert(c.key);
  for (const auto& c : second) keys.insert(c.key);
  EXPECT_EQ(keys.size(), 10U) << "code values must be unique across the store (invariant 3)";
  for (const auto& c : second) EXPECT_EQ(log_->stream_version(d::code_stream(c.key).str()).value().value, 1U);
}

TEST_F(PipelineTest, NewIdsAreValidAndDistinct) {
  std::set<std::string> ids;
  for (int i = 0; i < 1000; ++i) {
    const std::string id = pipeline_->new_id();
    EXPECT_EQ(id.size(), 26U);
    EXPECT_EQ(id.find_first_not_of("0123456789abcdefghjkmnpqrstvwxyz"), std::string::npos) << id;
    ids.insert(id);
  }
  EXPECT_EQ(ids.size(), 1000U) << "the same millisecond's ids differ by their random part";
  EXPECT_EQ(pipeline_->now(), kNow);
}

// Ids sort in the order they were made, whatever their random part: by the
// clock's microseconds, across its whole range, and within one microsecond
// (or while the clock stands still or steps back) by a time part made to
// move forward anyway.
TEST_F(PipelineTest, NewIdsSortInTheOrderTheyWereMade) {
  auto micros = std::make_shared<std::atomic<std::int64_t>>(0);
  auto draws = std::make_shared<std::atomic<std::uint64_t>>(0);
  pipeline_.reset();
  pipeline_ = std::make_unique<Pipeline>(
      *log_, Sources{.now = [micros] { return d::Timestamp{micros->load()}; },
                     // Largest then smallest random parts, so that order can only come from the time.
                     .random_u64 = [draws] { return (draws->fetch_add(1) / 2) % 2 == 0 ? ~0ULL : 0ULL; }});
  const std::vector<std::int64_t> clock = {
      0, 5, 31, 32, 1'000, 1'800'000'000'000'000, 1'799'999'999'999'000, (std::int64_t{1} << 55) - 1'000};
  std::vector<std::string> ids;
  for (const auto t : clock) {
    micros->store(t);
    for (int i = 0; i < 3; ++i) ids.push_back(pipeline_->new_id());
  }
  for (std::size_t i = 1; i < ids.size(); ++i) EXPECT_LT(ids[i - 1], ids[i]) << "id " << i;
  EXPECT_EQ(ids.front(), "00000000000zzzzzzzzzzzzzzz");
  EXPECT_EQ(ids[1], "00000000001000000000000000") << "the same microsecond: the next one";
  EXPECT_EQ(ids.back().substr(0, 11), "zzzzzzzzz0t") << "2^55 - 998 microseconds";
}

// Callers without a thread per command: each answer's callback sends that
// chain's next command. Every command is answered exactly once, after its
// events are in the log.
TEST_F(PipelineTest, AnswerCallbacksCanChainTheNextCommandAndComeOnceEachAfterTheWrite) {
  constexpr int kChains = 8;
  constexpr int kCommandsPerChain = 25;
  struct Chain {
    int sent = 0;
    int answered = 0;
    int refused = 0;
    int answered_before_in_log = 0;
  };
  std::vector<Chain> chains(kChains);
  std::latch finished(kChains);
  std::function<void(int)> send = [&](int c) {
    const auto id = cat("chain", std::to_string(c), "n", std::to_string(chains[c].sent++));
    pipeline_->submit(d::CreateContract{kOrg, d::ContractId{id}, "Chained", false, std::nullopt}, std::nullopt,
                      std::nullopt, [&, c](Answer outcome) {
                        Chain& chain = chains[c];
                        ++chain.answered;
                        if (!outcome) {
                          ++chain.refused;
                        } else if (log_->head() < outcome.value().positions.last) {
                          ++chain.answered_before_in_log;
                        }
                        if (chain.sent < kCommandsPerChain) {
                          send(c);
                        } else {
                          finished.count_down();
                        }
                      });
  };
  for (int c = 0; c < kChains; ++c) send(c);
  finished.wait();
  for (const auto& chain : chains) {
    EXPECT_EQ(chain.answered, kCommandsPerChain);
    EXPECT_EQ(chain.refused, 0);
    EXPECT_EQ(chain.answered_before_in_log, 0);
  }
  EXPECT_EQ(log_->head().value, static_cast<std::uint64_t>(kChains * kCommandsPerChain));
}

// ---------------------------------------------------------------------------
// Batches generated in chunks

class BatchJobTest : public PipelineTest {
 protected:
  static constexpr std::uint32_t kQuantity = d::kLargestBatchAtOnce + 4 * d::kCodesPerChunk + 3;
  const d::BatchId kJob{"big"};

  d::GenerateBatch job() {
    d::GenerateBatch g;
    g.org = kOrg;
    g.batch = kJob;
    g.contract = kContract;
    g.session = kSession;
    g.quantity = kQuantity;
    return g;
  }

  d::BatchState batch_state() {
    d::BatchState state;
    for (const auto& e : stream_events(d::batch_stream(kOrg, kJob))) state = d::evolve(std::move(state), e);
    return state;
  }

  // Waits, at most 60 s, for the batch to be ready in the log.
  bool ready() {
    const auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(60);
    while (!batch_state().ready()) {
      if (std::chrono::steady_clock::now() > deadline) return false;
      std::this_thread::sleep_for(std::chrono::milliseconds(5));
    }
    return true;
  }

  // Every code the log issued in the batch, and how many times each.
  std::map<std::string, int> issued_in_log() {
    std::map<std::string, int> issued;
    for (es::Position at{0};;) {
      const auto page = log_->read_all(at, 65'536).value();
      if (page.empty()) break;
      for (const auto& r : page) {
        if (r.type != "CodeIssued") continue;
        const auto e = tessera::codec::decode_event(r.type, r.schema, r.payload);
        if (e && std::get<d::CodeIssued>(*e).batch == kJob) ++issued[std::get<d::CodeIssued>(*e).code];
      }
      at = page.back().position;
    }
    return issued;
  }
};

TEST_F(BatchJobTest, ALargeBatchIsAnsweredWithItsTermsThenIssuedInChunksBetweenOtherCommands) {
  create_contract_and_session(10);
  const auto answer = run(job());
  ASSERT_TRUE(IsAccepted(answer));
  ASSERT_EQ(answer.value().events.size(), 1U);
  EXPECT_TRUE(std::get<d::BatchGenerated>(answer.value().events.front().event).in_chunks);

  // Other commands keep coming while the chunks are issued.
  std::atomic<bool> done{false};
  std::vector<es::Position> others;
  std::thread other([&] {
    for (int i = 0; !done; ++i) {
      auto o = run(d::CreateContract{kOrg, d::ContractId{cat("other", std::to_string(i))}, "Other", false, {}});
      if (o) others.push_back(o.value().positions.first);
    }
  });
  const bool became_ready = ready();
  done = true;
  other.join();
  ASSERT_TRUE(became_ready);

  const auto chunks = log_->read_stream(d::batch_stream(kOrg, kJob).str(), es::StreamVersion{1}, 1000).value();
  ASSERT_GE(chunks.size(), 2U);
  std::uint32_t next = 0;
  for (const auto& r : chunks) {
    const auto chunk = std::get<d::BatchChunkIssued>(*tessera::codec::decode_event(r.type, r.schema, r.payload));
    EXPECT_EQ(chunk.from, next);
    EXPECT_LE(chunk.count, d::kCodesPerChunk);
    next += chunk.count;
  }
  EXPECT_EQ(next, kQuantity);
  const auto between = std::ranges::count_if(
      others, [&](es::Position p) { return p > chunks.front().position && p < chunks.back().position; });
  EXPECT_GT(between, 0) << "no other command was decided between the first chunk and the last";

  const auto issued = issued_in_log();
  EXPECT_EQ(issued.size(), kQuantity);
  EXPECT_TRUE(std::ranges::all_of(issued, [](const auto& kv) { return kv.second == 1; }));
}

TEST_F(BatchJobTest, ABatchWhoseChunksStoppedIsResumedAndNeverIssuesACodeTooMany) {
  create_contract_and_session(10);
  ASSERT_TRUE(IsAccepted(run(job())));
  restart();  // stops the chunks mid-way
  ASSERT_FALSE(batch_state().ready());
  // Its codes cannot be used before the last chunk.
  if (const auto issued = issued_in_log(); !issued.empty()) {
    EXPECT_TRUE(IsRefused(run(redeem(d::code_key_of(issued.begin()->first), "a@example.com", "r1")),
                          d::make_error_code(d::errc::batch_not_ready)));
  }
  // Resumed twice over, and a chunk sent by hand beside: each chunk issues
  // the next codes, and the batch stops at its quantity.
  pipeline_->continue_batch(kOrg, kJob);
  pipeline_->continue_batch(kOrg, kJob);
  ASSERT_TRUE(IsAccepted(run(d::IssueBatchChunk{kOrg, kJob, {}})));
  ASSERT_TRUE(ready());
  ASSERT_TRUE(IsAccepted(run(d::IssueBatchChunk{kOrg, kJob, {}})));
  const auto issued = issued_in_log();
  EXPECT_EQ(issued.size(), kQuantity);
  EXPECT_TRUE(std::ranges::all_of(issued, [](const auto& kv) { return kv.second == 1; }));
  EXPECT_EQ(batch_state().generated, kQuantity);
  EXPECT_TRUE(IsAccepted(run(redeem(d::code_key_of(issued.begin()->first), "a@example.com", "r1"))));
}

TEST_F(PipelineTest, IfMatchPreconditionAppliesOnlyAtTheNamedVersion) {
  using tessera::pipeline::Precondition;
  const auto failed = tessera::pipeline::make_error_code(tessera::pipeline::errc::precondition_failed);
  create_contract_and_session(10);
  const auto stream = d::session_stream(kOrg, kSession);
  ASSERT_EQ(log_->stream_version(stream.str()).value().value, 1U);

  const auto stale = pipeline_->submit(d::ChangeCapacity{kOrg, kSession, 12}, Precondition{stream, 0}).get();
  ASSERT_TRUE(IsRefused(stale, failed));
  EXPECT_EQ(tessera::retry_advice(stale.error().code), tessera::retry::command);
  EXPECT_EQ(log_->stream_version(stream.str()).value().value, 1U);

  EXPECT_TRUE(IsAccepted(pipeline_->submit(d::ChangeCapacity{kOrg, kSession, 12}, Precondition{stream, 1}).get()));
  // The stream moved on: the same If-Match is stale now.
  EXPECT_TRUE(
      IsRefused(pipeline_->submit(d::ChangeCapacity{kOrg, kSession, 14}, Precondition{stream, 1}).get(), failed));
  EXPECT_TRUE(IsAccepted(pipeline_->submit(d::ChangeCapacity{kOrg, kSession, 14}, Precondition{stream, 2}).get()));
  EXPECT_EQ(log_->stream_version(stream.str()).value().value, 3U);
}

// ---------------------------------------------------------------------------
// Concurrency: invariants 1 and 2 under contention.

TEST_F(PipelineTest, FiftyConcurrentRedemptionsOfASingleUseCodeHaveOneWinner) {
  create_contract_and_session(100);
  const auto codes = generate("b1", 1);
  ASSERT_EQ(codes.size(), 1U);
  std::vector<d::Command> commands;
  for (int i = 0; i < 50; ++i) {
    commands.emplace_back(
        redeem(codes[0].key, cat("p", std::to_string(i), "@example.com"), cat("r", std::to_string(i))));
  }
  const auto outcomes = concurrently(commands);
  int accepted = 0, exhausted = 0;
  for (const auto& o : outcomes) {
    if (o) {
      ++accepted;
    } else if (o.error().code == kExhausted) {
      ++exhausted;
    } else {
      ADD_FAILURE() << describe(o);
    }
  }
  EXPECT_EQ(accepted, 1);
  EXPECT_EQ(exhausted, 49);
  EXPECT_EQ(count_in_stream<d::CodeRedeemed>(d::code_stream(codes[0].key)), 1U);
  EXPECT_EQ(count_in_stream<d::SeatRegistered>(d::session_stream(kOrg, kSession)), 1U);
}

TEST_F(PipelineTest, ThirtyConcurrentRedemptionsOfAThreeUseCodeHaveThreeWinners) {
  constexpr int k = 3;
  create_contract_and_session(100);
  const auto codes = generate("b1", 1, k);
  ASSERT_EQ(codes.size(), 1U);
  std::vector<d::Command> commands;
  for (int i = 0; i < 10 * k; ++i) {
    commands.emplace_back(
        redeem(codes[0].key, cat("p", std::to_string(i), "@example.com"), cat("r", std::to_string(i))));
  }
  const auto outcomes = concurrently(commands);
  int accepted = 0, exhausted = 0;
  std::set<std::string> winners;
  for (std::size_t i = 0; i < outcomes.size(); ++i) {
    if (outcomes[i]) {
      ++accepted;
      winners.insert(cat("r", std::to_string(i)));
    } else if (outcomes[i].error().code == kExhausted) {
      ++exhausted;
    } else {
      ADD_FAILURE() << describe(outcomes[i]);
    }
  }
  EXPECT_EQ(accepted, k);
  EXPECT_EQ(exhausted, 9 * k);
  EXPECT_EQ(count_in_stream<d::CodeRedeemed>(d::code_stream(codes[0].key)), static_cast<std::size_t>(k));
  // The registrations in the log are exactly the winners'.
  for (const auto& id : winners) {
    EXPECT_EQ(log_->stream_version(d::registration_stream(kOrg, d::RegistrationId{id}).str()).value().value, 1U);
  }
}

TEST_F(PipelineTest, TwentyConcurrentRedeemersOfAFiveSeatSessionFillItExactly) {
  create_contract_and_session(5);
  const auto codes = generate("b1", 20);
  ASSERT_EQ(codes.size(), 20U);
  std::vector<d::Command> commands;
  for (int i = 0; i < 20; ++i) {
    commands.emplace_back(redeem(codes[static_cast<std::size_t>(i)].key, cat("p", std::to_string(i), "@example.com"),
                                 cat("r", std::to_string(i))));
  }
  const auto outcomes = concurrently(commands);
  int accepted = 0, full = 0;
  for (const auto& o : outcomes) {
    if (o) {
      ++accepted;
    } else if (o.error().code == kSessionFull) {
      ++full;
    } else {
      ADD_FAILURE() << describe(o);
    }
  }
  EXPECT_EQ(accepted, 5);
  EXPECT_EQ(full, 15);
  EXPECT_EQ(count_in_stream<d::SeatRegistered>(d::session_stream(kOrg, kSession)), 5U);
  // Refused redeemers did not use their codes.
  std::size_t used = 0;
  for (const auto& c : codes) used += count_in_stream<d::CodeRedeemed>(d::code_stream(c.key));
  EXPECT_EQ(used, 5U);
}

// ---------------------------------------------------------------------------
// Restart

TEST_F(PipelineTest, RestartRebuildsStateFromTheLog) {
  create_contract_and_session(2);
  const auto codes = generate("b1", 3);
  ASSERT_EQ(codes.size(), 3U);
  ASSERT_TRUE(IsAccepted(run(redeem(codes[0].key, "alice@example.com", "r1"))));
  const auto head = log_->head();

  restart();
  EXPECT_EQ(log_->head(), head);
  // A used code stays exhausted.
  EXPECT_TRUE(IsRefused(run(redeem(codes[0].key, "bob@example.com", "r2")), kExhausted));
  // Ids stay taken.
  EXPECT_TRUE(IsRefused(run(d::CreateContract{kOrg, kContract, "Again", false, std::nullopt}),
                        d::make_error_code(d::errc::already_exists)));
  EXPECT_TRUE(
      IsRefused(run(redeem(codes[1].key, "bob@example.com", "r1")), d::make_error_code(d::errc::already_exists)));
  // The session remembers its one taken seat: one left.
  const auto o = run(redeem(codes[1].key, "bob@example.com", "r2"));
  ASSERT_TRUE(IsAccepted(o));
  EXPECT_EQ(o.value().positions.first.value, head.value + 1);
  EXPECT_TRUE(IsRefused(run(redeem(codes[2].key, "carol@example.com", "r3")), kSessionFull));

  restart();
  EXPECT_TRUE(IsRefused(run(redeem(codes[1].key, "dave@example.com", "r4")), kExhausted));
  EXPECT_TRUE(IsRefused(run(redeem(codes[2].key, "carol@example.com", "r3")), kSessionFull));
  EXPECT_FALSE(log_->verify().value().broken.has_value());
}

// ---------------------------------------------------------------------------
// Another writer: the pipeline's cache goes stale, the log refuses the write.

TEST_F(PipelineTest, StaleDecisionIsRefusedByTheLogAndTheNextOneSeesTheTruth) {
  create_contract_and_session(10);
  const auto codes = generate("b1", 1);
  ASSERT_EQ(codes.size(), 1U);
  const auto stream = d::code_stream(codes[0].key).str();
  const auto version = log_->stream_version(stream).value();
  // Archive the code behind the pipeline's back.
  ASSERT_TRUE(log_->append(es::AppendRequest{
      {es::StreamWrite{
          stream, version, {es::ProposedEvent{"CodeArchived", 1, tessera::codec::encode_event(d::CodeArchived{})}}}},
      kNow.micros}));
  const auto stale = run(redeem(codes[0].key, "alice@example.com", "r1"));
  ASSERT_TRUE(IsRefused(stale, es::make_error_code(es::errc::version_conflict)));
  EXPECT_EQ(tessera::retry_advice(stale.error().code), tessera::retry::command);
  // Decided again, on fresh state.
  EXPECT_TRUE(
      IsRefused(run(redeem(codes[0].key, "alice@example.com", "r1")), d::make_error_code(d::errc::code_archived)));
  EXPECT_EQ(count_in_stream<d::CodeRedeemed>(d::code_stream(codes[0].key)), 0U);
}

// ---------------------------------------------------------------------------
// Idempotency keys

const std::error_code kKeyReused = tessera::pipeline::make_error_code(tessera::pipeline::errc::idempotency_key_reused);

IdempotencyKey key(std::string k, std::string fingerprint = "print") {
  return IdempotencyKey{std::move(k), std::move(fingerprint)};
}

TEST_F(PipelineTest, ARetryAfterARestartAppendsNothingAndAnswersTheFirstPositionsAndEvents) {
  create_contract_and_session(10);
  const auto codes = generate("b1", 2);
  ASSERT_EQ(codes.size(), 2U);
  const auto first = pipeline_->submit(redeem(codes[0].key, "alice@example.com", "r1"), std::nullopt, key("k1")).get();
  ASSERT_TRUE(IsAccepted(first));
  EXPECT_FALSE(first.value().replayed);
  const auto head = log_->head();

  restart();
  // The retry comes with a fresh registration id, as a retried HTTP request
  // would: the answer names the first one.
  const auto retry =
      pipeline_->submit(redeem(codes[0].key, "alice@example.com", "r-retry"), std::nullopt, key("k1")).get();
  ASSERT_TRUE(IsAccepted(retry));
  EXPECT_TRUE(retry.value().replayed);
  EXPECT_TRUE(retry.value().positions.replayed);
  EXPECT_EQ(retry.value().positions.first, first.value().positions.first);
  EXPECT_EQ(retry.value().positions.last, first.value().positions.last);
  EXPECT_TRUE(retry.value().events == first.value().events);
  EXPECT_EQ(std::get<d::RegistrationCreated>(retry.value().events.back().event).registration, d::RegistrationId{"r1"});
  EXPECT_EQ(log_->head(), head);
  EXPECT_EQ(count_in_stream<d::CodeRedeemed>(d::code_stream(codes[0].key)), 1U);
  EXPECT_TRUE(stream_events(d::registration_stream(kOrg, d::RegistrationId{"r-retry"})).empty());

  // Without the key, the same command is a new one, refused on the state.
  EXPECT_TRUE(IsRefused(run(redeem(codes[0].key, "alice@example.com", "r-retry")), kExhausted));
  // The key is not the command: any command under it replays the first.
  const auto other_command =
      pipeline_->submit(redeem(codes[1].key, "bob@example.com", "r2"), std::nullopt, key("k1")).get();
  ASSERT_TRUE(IsAccepted(other_command));
  EXPECT_TRUE(other_command.value().replayed);
  EXPECT_EQ(count_in_stream<d::CodeRedeemed>(d::code_stream(codes[1].key)), 0U);
  EXPECT_EQ(log_->head(), head);
}

TEST_F(PipelineTest, AKeyReusedWithAnotherFingerprintIsRefused) {
  create_contract_and_session(10);
  const auto codes = generate("b1", 2);
  ASSERT_TRUE(IsAccepted(
      pipeline_->submit(redeem(codes[0].key, "alice@example.com", "r1"), std::nullopt, key("k1", "print-a")).get()));
  const auto head = log_->head();
  for (int round = 0; round < 2; ++round) {
    const auto reused =
        pipeline_->submit(redeem(codes[1].key, "bob@example.com", "r2"), std::nullopt, key("k1", "print-b")).get();
    ASSERT_TRUE(IsRefused(reused, kKeyReused));
    EXPECT_EQ(tessera::retry_advice(reused.error().code), tessera::retry::no);
    EXPECT_FALSE(reused.error().detail.empty());
    EXPECT_EQ(log_->head(), head);
    restart();
  }
  EXPECT_EQ(count_in_stream<d::CodeRedeemed>(d::code_stream(codes[1].key)), 0U);
}

TEST_F(PipelineTest, ARefusedKeyedCommandRecordsNothingSoItsRetryIsDecidedAgain) {
  create_contract_and_session(1);
  const auto codes = generate("b1", 2);
  ASSERT_TRUE(IsAccepted(run(redeem(codes[0].key, "alice@example.com", "r1"))));
  const auto full = pipeline_->submit(redeem(codes[1].key, "bob@example.com", "r2"), std::nullopt, key("k-bob")).get();
  ASSERT_TRUE(IsRefused(full, kSessionFull));
  EXPECT_EQ(log_->find_idempotency_key("k-bob").value(), std::nullopt);
  ASSERT_TRUE(IsAccepted(run(d::ChangeCapacity{kOrg, kSession, 2})));
  const auto retry = pipeline_->submit(redeem(codes[1].key, "bob@example.com", "r3"), std::nullopt, key("k-bob")).get();
  ASSERT_TRUE(IsAccepted(retry));
  EXPECT_FALSE(retry.value().replayed);
  EXPECT_EQ(std::get<d::RegistrationCreated>(retry.value().events.back().event).registration, d::RegistrationId{"r3"});
}

TEST_F(PipelineTest, TwentyConcurrentSubmitsUnderOneKeyApplyOnce) {
  create_contract_and_session(50);
  const auto codes = generate("b1", 1, 50);  // a code with uses to spare: only the key stops a second use
  ASSERT_EQ(codes.size(), 1U);
  constexpr std::size_t kCallers = 20;
  std::latch start(kCallers);
  std::vector<std::optional<Answer>> outcomes(kCallers);
  std::vector<std::thread> threads;
  for (std::size_t i = 0; i < kCallers; ++i) {
    threads.emplace_back([&, i] {
      start.arrive_and_wait();
      outcomes[i] = pipeline_
                        ->submit(redeem(codes[0].key, "alice@example.com", cat("r", std::to_string(i))), std::nullopt,
                                 key("once"))
                        .get();
    });
  }
  for (auto& t : threads) t.join();
  std::size_t fresh = 0;
  for (const auto& o : outcomes) {
    ASSERT_TRUE(IsAccepted(*o));
    if (!o->value().replayed) ++fresh;
    EXPECT_EQ(o->value().positions.first, outcomes[0]->value().positions.first);
    EXPECT_TRUE(o->value().events == outcomes[0]->value().events);
  }
  EXPECT_EQ(fresh, 1U);
  EXPECT_EQ(count_in_stream<d::CodeRedeemed>(d::code_stream(codes[0].key)), 1U);
  EXPECT_EQ(count_in_stream<d::SeatRegistered>(d::session_stream(kOrg, kSession)), 1U);
}

TEST_F(PipelineTest, ACacheOfOneAggregateDecidesAsTheLogSays) {
  cache_ = {.capacity = 1, .snapshot_every = 4};
  restart();
  create_contract_and_session(5);
  const auto codes = generate("b1", 8);
  ASSERT_EQ(codes.size(), 8U);

  std::vector<d::Command> commands;
  for (std::size_t i = 0; i < codes.size(); ++i) {
    commands.push_back(redeem(codes[i].key, cat("p", std::to_string(i), "@example.com"), cat("r", std::to_string(i))));
  }
  std::size_t accepted = 0;
  for (const auto& o : concurrently(commands)) {
    if (o) {
      ++accepted;
    } else {
      EXPECT_TRUE(IsRefused(o, kSessionFull));
    }
  }
  EXPECT_EQ(accepted, 5U);
  EXPECT_EQ(count_in_stream<d::SeatRegistered>(d::session_stream(kOrg, kSession)), 5U);

  // Each code was evicted after its batch; a second redemption still sees its use.
  std::size_t exhausted = 0;
  for (const auto& code : codes) {
    const auto o = run(redeem(code.key, "late@example.com", cat("late-", code.key)));
    ASSERT_FALSE(o);
    exhausted += o.error().code == kExhausted ? 1 : 0;
  }
  EXPECT_EQ(exhausted, 5U);
}

// A store of new aggregates, as the HTTP API names them: each command makes
// a cache entry and evicts one (aggregate_cache_test.cc holds the cache's
// own bookkeeping to account). Through the pipeline, every aggregate must
// then be decided on as the log has it: a second create refused, a
// configure accepted on top of the first event.
TEST_F(PipelineTest, ACacheChurnedByThousandsOfNewAggregatesFindsEachAgain) {
  cache_ = {.capacity = 4, .snapshot_every = 256};
  restart();
  constexpr int kContracts = 1500;
  std::vector<d::Command> creates;
  for (int i = 0; i < kContracts; ++i) {
    creates.push_back(d::CreateContract{kOrg, d::ContractId{pipeline_->new_id()}, "Churned", false, std::nullopt});
  }
  for (const auto& o : concurrently(creates)) ASSERT_TRUE(IsAccepted(o));

  std::vector<d::Command> again;
  std::vector<d::Command> configures;
  for (const auto& command : creates) {
    const auto& created = std::get<d::CreateContract>(command);
    again.push_back(d::CreateContract{kOrg, created.contract, "Again", false, std::nullopt});
    configures.push_back(d::ConfigureContract{kOrg, created.contract, "Renamed", std::nullopt, std::nullopt});
  }
  for (const auto& o : concurrently(again)) {
    EXPECT_TRUE(IsRefused(o, d::make_error_code(d::errc::already_exists)));
  }
  for (const auto& o : concurrently(configures)) {
    ASSERT_TRUE(IsAccepted(o));
    ASSERT_EQ(o.value().events.size(), 1U);
  }
  for (const auto& command : creates) {
    const auto stream = d::contract_stream(kOrg, std::get<d::CreateContract>(command).contract);
    ASSERT_EQ(log_->stream_version(stream.str()).value().value, 2U);
  }
}

TEST_F(PipelineTest, ALongStreamIsLoadedFromItsSnapshotAndOnlyTheEventsAfterIt) {
  cache_ = {.capacity = 1, .snapshot_every = 4};
  restart();
  create_contract_and_session(100);
  const auto codes = generate("b1", 12);
  for (std::size_t i = 0; i < 10; ++i) {
    ASSERT_TRUE(IsAccepted(
        run(redeem(codes[i].key, cat("p", std::to_string(i), "@example.com"), cat("r", std::to_string(i))))));
  }
  // Created, then ten seats: version 11; snapshots were kept every 4 events.
  const auto session = d::session_stream(kOrg, kSession);
  const auto kept = log_->get_snapshot(session.str()).value();
  ASSERT_TRUE(kept.has_value());
  EXPECT_EQ(kept->version, es::StreamVersion{8});
  const auto state = tessera::codec::decode_state(kept->state);
  ASSERT_TRUE(state.has_value());
  ASSERT_TRUE(std::holds_alternative<d::SessionState>(*state));
  EXPECT_EQ(std::get<d::SessionState>(*state).registered, 7U);
  EXPECT_EQ(std::get<d::SessionState>(*state).capacity, 100U);

  // Proof that a load starts from the snapshot: one that claims the session
  // was full at version 8 makes the next redemption find it full.
  auto full = std::get<d::SessionState>(*state);
  full.registered = 100;
  const es::Snapshot forged{session.str(), es::StreamVersion{8}, tessera::codec::encode_state(full)};
  ASSERT_TRUE(log_->put_snapshots(std::span(&forged, 1)));
  restart();
  EXPECT_TRUE(IsRefused(run(redeem(codes[10].key, "x@example.com", "r10")), kSessionFull));

  // A snapshot it cannot read is no worse than none: the whole stream is folded.
  const es::Snapshot unreadable{session.str(), es::StreamVersion{8}, "{\"format\": 999}"};
  ASSERT_TRUE(log_->put_snapshots(std::span(&unreadable, 1)));
  restart();
  ASSERT_TRUE(IsAccepted(run(redeem(codes[10].key, "x@example.com", "r10"))));
  EXPECT_EQ(count_in_stream<d::SeatRegistered>(session), 11U);
}

TEST_F(PipelineTest, SnapshotsAreKeptOnlyForVersionsTheLogHas) {
  cache_ = {.capacity = 1, .snapshot_every = 1};
  restart();
  create_contract_and_session(3);
  const auto codes = generate("b1", 5);
  for (std::size_t i = 0; i < 5; ++i) {
    (void)run(redeem(codes[i].key, cat("p", std::to_string(i), "@example.com"), cat("r", std::to_string(i))));
  }
  for (const auto& stream : {d::session_stream(kOrg, kSession), d::contract_stream(kOrg, kContract),
                             d::batch_stream(kOrg, d::BatchId{"b1"}), d::code_stream(codes[0].key)}) {
    const auto kept = log_->get_snapshot(stream.str()).value();
    ASSERT_TRUE(kept.has_value()) << stream.str();
    EXPECT_EQ(kept->version, log_->stream_version(stream.str()).value()) << stream.str();
  }
}

// ---------------------------------------------------------------------------
// A log that can hold a group commit's write (write_batch or append_batch) or
// its sync, and fail one, and park the sequencer in its read of one stream's
// head. A failed sync leaves it refusing every later write, sync and
// stream_version(), as the Log contract says a real log does.

class ControlledLog final : public es::Log {
 public:
  explicit ControlledLog(es::Log& inner) : inner_(inner) {}

  // Group commits written so far (write_batch and append_batch calls).
  int calls() const { return count(writes_); }
  void hold(int call) { add(writes_.hold, call); }
  void fail(int call) { add(writes_.fail, call); }
  bool wait_until_held(int call) { return wait_until_held(writes_, call); }
  void release(int call) { remove(writes_.hold, call); }
  bool wait_until_called(int call) {
    std::unique_lock lock(mutex_);
    return changed_.wait_for(lock, std::chrono::seconds(60), [&] { return writes_.calls >= call; });
  }

  // sync() calls so far.
  int syncs() const { return count(syncs_); }
  void hold_sync(int call) { add(syncs_.hold, call); }
  void fail_sync(int call) { add(syncs_.fail, call); }
  bool wait_until_sync_held(int call) { return wait_until_held(syncs_, call); }
  void release_sync(int call) { remove(syncs_.hold, call); }

  // The next reader of `stream`'s version waits there until unpark().
  void park_reads_of(std::string stream) {
    std::lock_guard lock(mutex_);
    park_stream_ = std::move(stream);
  }
  bool wait_until_parked() {
    std::unique_lock lock(mutex_);
    return changed_.wait_for(lock, std::chrono::seconds(60), [&] { return parked_; });
  }
  void unpark() {
    std::lock_guard lock(mutex_);
    park_stream_.reset();
    changed_.notify_all();
  }

  // The streams whose versions were asked one at a time (stream_version()),
  // not as part of a list (stream_versions()), since the last clear.
  std::vector<std::string> asked_alone() const {
    std::lock_guard lock(mutex_);
    return asked_alone_;
  }
  void clear_asked_alone() {
    std::lock_guard lock(mutex_);
    asked_alone_.clear();
  }

  void release_all() {
    std::lock_guard lock(mutex_);
    writes_.hold.clear();
    syncs_.hold.clear();
    park_stream_.reset();
    changed_.notify_all();
  }

  tessera::result<es::AppendResult> append(const es::AppendRequest& request) override { return inner_.append(request); }

  std::vector<tessera::result<es::AppendResult>> append_batch(std::span<const es::AppendRequest> requests) override {
    if (!pass(writes_)) return failed(requests);
    return inner_.append_batch(requests);
  }
  std::vector<tessera::result<es::AppendResult>> write_batch(std::span<const es::AppendRequest> requests) override {
    if (!pass(writes_)) return failed(requests);
    return inner_.write_batch(requests);
  }
  tessera::result<es::Position> sync() override {
    if (!pass(syncs_)) {
      std::lock_guard lock(mutex_);
      dead_ = true;
      return es::make_error_code(es::errc::io_error);
    }
    return inner_.sync();
  }

  tessera::result<std::vector<es::RecordedEvent>> read_all(es::Position after, std::size_t max) const override {
    return inner_.read_all(after, max);
  }
  tessera::result<std::vector<es::RecordedEvent>> read_stream(std::string_view stream, es::StreamVersion after,
                                                              std::size_t max) const override {
    return inner_.read_stream(stream, after, max);
  }
  tessera::result<es::StreamVersion> stream_version(std::string_view stream) const override {
    {
      std::unique_lock lock(mutex_);
      if (!in_list_) asked_alone_.emplace_back(stream);
      if (park_stream_ == stream) {
        parked_ = true;
        changed_.notify_all();
        changed_.wait(lock, [&] { return park_stream_ != stream; });
        parked_ = false;
      }
      if (dead_) return es::make_error_code(es::errc::io_error);
    }
    return inner_.stream_version(stream);
  }
  // The base's one stream_version() call per stream, so that parked reads
  // park here too.
  tessera::result<std::vector<es::StreamVersion>> stream_versions(
      std::span<const std::string_view> streams) const override {
    in_list_ = true;
    auto versions = es::Log::stream_versions(streams);
    in_list_ = false;
    return versions;
  }
  tessera::result<std::optional<es::IdempotencyRecord>> find_idempotency_key(std::string_view key) const override {
    return inner_.find_idempotency_key(key);
  }
  es::Position head() const override { return inner_.head(); }
  es::Position wait_beyond(es::Position position, std::chrono::milliseconds timeout) const override {
    return inner_.wait_beyond(position, timeout);
  }
  tessera::result<es::VerifyReport> verify() const override { return inner_.verify(); }
  tessera::result<std::optional<std::string>> get_meta(std::string_view key) const override {
    return inner_.get_meta(key);
  }
  tessera::result<void> put_meta(std::string_view key, std::string_view value, es::Log::MetaWrite write) override {
    return inner_.put_meta(key, value, write);
  }
  tessera::result<void> put_snapshots(std::span<const es::Snapshot> snapshots) override {
    return inner_.put_snapshots(snapshots);
  }
  tessera::result<std::optional<es::Snapshot>> get_snapshot(std::string_view stream) const override {
    return inner_.get_snapshot(stream);
  }

 private:
  // Numbered calls of one method, some to hold and some to fail.
  struct Gate {
    int calls = 0;
    int held = 0;
    std::set<int> hold;
    std::set<int> fail;
  };

  int count(const Gate& gate) const {
    std::lock_guard lock(mutex_);
    return gate.calls;
  }
  void add(std::set<int>& calls, int call) {
    std::lock_guard lock(mutex_);
    calls.insert(call);
  }
  void remove(std::set<int>& calls, int call) {
    std::lock_guard lock(mutex_);
    calls.erase(call);
    changed_.notify_all();
  }
  bool wait_until_held(const Gate& gate, int call) {
    std::unique_lock lock(mutex_);
    // A deadlock guard, not a timing assertion.
    return changed_.wait_for(lock, std::chrono::seconds(60), [&] { return gate.held == call; });
  }
  // Counts the call, waits while it is held; false when it is to fail (or
  // the log is dead after a failed sync).
  bool pass(Gate& gate) {
    std::unique_lock lock(mutex_);
    const int call = ++gate.calls;
    changed_.notify_all();
    if (gate.hold.contains(call)) {
      gate.held = call;
      changed_.notify_all();
      changed_.wait(lock, [&] { return !gate.hold.contains(call); });
      gate.held = 0;
    }
    return !dead_ && !gate.fail.contains(call);
  }
  static std::vector<tessera::result<es::AppendResult>> failed(std::span<const es::AppendRequest> requests) {
    return std::vector<tessera::result<es::AppendResult>>(requests.size(), es::make_error_code(es::errc::io_error));
  }

  es::Log& inner_;
  mutable std::mutex mutex_;
  mutable std::condition_variable changed_;
  mutable bool parked_ = false;
  std::optional<std::string> park_stream_;
  mutable std::vector<std::string> asked_alone_;
  // Whether the calling thread is inside stream_versions().
  static thread_local bool in_list_;
  Gate writes_;
  Gate syncs_;
  bool dead_ = false;
};

thread_local bool ControlledLog::in_list_ = false;

class ControlledPipelineTest : public PipelineTest {
 protected:
  void SetUp() override {
    pipeline_.reset();
    controlled_ = std::make_unique<ControlledLog>(*log_);
    pipeline_ = std::make_unique<Pipeline>(*controlled_, deterministic_sources(seed_));
  }
  void TearDown() override {
    controlled_->release_all();  // never leave the pipeline parked in the log
    pipeline_.reset();
  }

  struct Queued {
    std::future<Answer> a;
    std::future<Answer> b;
    int blocker = 0;  // the held sync of the group commit they wait behind
    int next = 0;     // the group commit that will carry them both
  };

  // What the write call that carries `a` and `b` does.
  enum class NextWrite { passes, is_held, fails };

  // Queues `a` and `b` behind a group commit whose sync is held (the
  // blocker's), so that they are decided on it before it is durable, and
  // while the sequencer is parked deciding a gate command, so that it takes
  // them together into one batch. The gate is refused and writes nothing:
  // `a` and `b` go to the log in write call `next`, which is made to hold or
  // fail before the sequencer is let go (it writes them at once, without
  // waiting for the blocker's sync).
  Queued queue_together(d::Command a, d::Command b, NextWrite next = NextWrite::passes,
                        std::optional<IdempotencyKey> a_key = std::nullopt,
                        std::optional<IdempotencyKey> b_key = std::nullopt) {
    Queued q;
    q.blocker = controlled_->syncs() + 1;
    q.next = controlled_->calls() + 2;  // after the blocker's write
    controlled_->hold_sync(q.blocker);
    blocker_ = pipeline_->submit(d::CreateContract{kOrg, d::ContractId{"blocker"}, "Blocker", false, std::nullopt});
    EXPECT_TRUE(controlled_->wait_until_sync_held(q.blocker));
    const d::SessionId gate{"gate"};
    controlled_->park_reads_of(d::session_stream(kOrg, gate).str());
    gate_ = pipeline_->submit(d::CreateSession{kOrg, gate, "Gate", 1, d::ContractId{"nowhere"}, std::nullopt});
    EXPECT_TRUE(controlled_->wait_until_parked());
    q.a = pipeline_->submit(std::move(a), std::nullopt, std::move(a_key));
    q.b = pipeline_->submit(std::move(b), std::nullopt, std::move(b_key));
    if (next == NextWrite::is_held) controlled_->hold(q.next);
    if (next == NextWrite::fails) controlled_->fail(q.next);
    controlled_->unpark();
    return q;
  }

  std::future<Answer> blocker_;
  std::future<Answer> gate_;
  std::unique_ptr<ControlledLog> controlled_;
};

// A command that makes a new aggregate has its stream claimed with the
// rest of its group commit's (one lookup of the log for all), not looked up
// alone when it is decided: the sequencer's largest single cost otherwise.
TEST_F(ControlledPipelineTest, ANewAggregatesStreamIsLookedUpWithItsGroupCommitsNotAlone) {
  create_contract_and_session(10);
  const auto codes = generate("b1", 1);
  ASSERT_EQ(codes.size(), 1U);
  const d::ContractId contract{pipeline_->new_id()};
  const d::SessionId session{pipeline_->new_id()};
  const d::BatchId batch{pipeline_->new_id()};
  const d::InvitationId invitation{pipeline_->new_id()};
  d::GenerateBatch generate_batch;
  generate_batch.org = kOrg;
  generate_batch.batch = batch;
  generate_batch.contract = kContract;
  generate_batch.quantity = 2;
  d::Invite invite;
  invite.org = kOrg;
  invite.invitation = invitation;
  invite.session = kSession;
  invite.participant = person("i@example.com");
  const std::vector<std::pair<d::Command, d::StreamId>> commands = {
      {d::CreateContract{kOrg, contract, "New", false, std::nullopt}, d::contract_stream(kOrg, contract)},
      {d::CreateSession{kOrg, session, "New", 5, kContract, std::nullopt}, d::session_stream(kOrg, session)},
      {generate_batch, d::batch_stream(kOrg, batch)},
      {invite, d::invitation_stream(invitation)},
  };
  for (const auto& [command, stream] : commands) {
    controlled_->clear_asked_alone();
    ASSERT_TRUE(IsAccepted(run(command))) << stream.str();
    EXPECT_EQ(std::ranges::count(controlled_->asked_alone(), stream.str()), 0) << stream.str();
  }
}

TEST_F(ControlledPipelineTest, CommandsQueuedTogetherAreDecidedInOneGroupCommit) {
  create_contract_and_session(10);
  const auto codes = generate("b1", 2);
  ASSERT_EQ(codes.size(), 2U);
  auto q =
      queue_together(redeem(codes[0].key, "alice@example.com", "r1"), redeem(codes[1].key, "bob@example.com", "r2"));
  controlled_->release_sync(q.blocker);
  const auto a = q.a.get();
  const auto b = q.b.get();
  ASSERT_TRUE(IsAccepted(a));
  ASSERT_TRUE(IsAccepted(b));
  EXPECT_EQ(controlled_->calls(), q.next);  // one append_batch for both
  EXPECT_EQ(b.value().positions.first.value, a.value().positions.last.value + 1);
}

// Regression (found as a bug by this test: Sequencer::process answered a
// refusal at once, before the group commit holding the batch's earlier
// commands was written). A refusal may rest on those commands: B's
// "code-exhausted" rests on A's use, so B may not hear it before A's use is
// durable.
TEST_F(ControlledPipelineTest, RefusalIsNotAnsweredBeforeTheWriteItRestsOnIsDurable) {
  create_contract_and_session(10);
  const auto codes = generate("b1", 1);
  ASSERT_EQ(codes.size(), 1U);
  // The group commit that carries A's use is held, too.
  auto q = queue_together(redeem(codes[0].key, "alice@example.com", "r1"),
                          redeem(codes[0].key, "bob@example.com", "r2"), NextWrite::is_held);
  controlled_->release_sync(q.blocker);
  ASSERT_TRUE(controlled_->wait_until_held(q.next));
  // A's use is decided but not written: nobody may have been told anything about the code yet.
  EXPECT_EQ(q.b.wait_for(std::chrono::seconds(0)), std::future_status::timeout)
      << "B was answered before A's use of the code was durable";
  EXPECT_EQ(q.a.wait_for(std::chrono::seconds(0)), std::future_status::timeout);
  controlled_->release(q.next);
  EXPECT_TRUE(IsAccepted(q.a.get()));
  EXPECT_TRUE(IsRefused(q.b.get(), kExhausted));
}

// Regression (found as a bug by this test, same place): when the group
// commit failed, B had already been told "code-exhausted" (retry: no) although
// the code was never used, and a third redeemer then got it.
TEST_F(ControlledPipelineTest, RefusalDecidedOnAFailedWriteIsNotReportedAsFinal) {
  create_contract_and_session(10);
  const auto codes = generate("b1", 1);
  ASSERT_EQ(codes.size(), 1U);
  auto q = queue_together(redeem(codes[0].key, "alice@example.com", "r1"),
                          redeem(codes[0].key, "bob@example.com", "r2"), NextWrite::fails);
  controlled_->release_sync(q.blocker);
  const auto a = q.a.get();
  const auto b = q.b.get();
  EXPECT_TRUE(IsRefused(a, es::make_error_code(es::errc::io_error)));
  EXPECT_EQ(tessera::retry_advice(a.error().code), tessera::retry::call);
  // Nothing was written: the code is unused.
  EXPECT_EQ(count_in_stream<d::CodeRedeemed>(d::code_stream(codes[0].key)), 0U);
  // So B's answer must not be the final "code-exhausted": either B was decided
  // again (and accepted), or it was told to retry.
  EXPECT_TRUE(b || tessera::retry_advice(b.error().code) != tessera::retry::no)
      << "B was refused with " << describe(b) << " although the code is unused";
  // The pipeline recovered: the code is usable by the next redeemer.
  EXPECT_TRUE(IsAccepted(run(redeem(codes[0].key, "carol@example.com", "r3"))));
}

// B retries A's key while A is being written, so B waits for A's write. A's
// write fails: B is then decided as the key's first command, and written; the
// failure does not spill over onto it.
TEST_F(ControlledPipelineTest, ARetryThatWaitedForAFailedWriteIsDecidedAndWritten) {
  create_contract_and_session(10);
  const auto codes = generate("b1", 1, 5);
  const int first = controlled_->calls() + 1;
  controlled_->hold(first);
  controlled_->fail(first);
  auto a = pipeline_->submit(redeem(codes[0].key, "alice@example.com", "r1"), std::nullopt, key("k"));
  ASSERT_TRUE(controlled_->wait_until_held(first));
  auto b = pipeline_->submit(redeem(codes[0].key, "alice@example.com", "r1"), std::nullopt, key("k"));
  controlled_->release(first);
  EXPECT_TRUE(IsRefused(a.get(), es::make_error_code(es::errc::io_error)));
  const auto retried = b.get();
  ASSERT_TRUE(IsAccepted(retried));
  EXPECT_FALSE(retried.value().replayed);
  EXPECT_EQ(controlled_->calls(), first + 1);
  EXPECT_EQ(count_in_stream<d::CodeRedeemed>(d::code_stream(codes[0].key)), 1U);
}

TEST_F(ControlledPipelineTest, TheSameKeyTwiceInOneGroupCommitAppliesOnce) {
  create_contract_and_session(10);
  const auto codes = generate("b1", 1, 5);
  ASSERT_EQ(codes.size(), 1U);
  auto q = queue_together(redeem(codes[0].key, "alice@example.com", "r1"),
                          redeem(codes[0].key, "alice@example.com", "r2"), NextWrite::passes, key("k"), key("k"));
  controlled_->release_sync(q.blocker);
  const auto a = q.a.get();
  const auto b = q.b.get();
  ASSERT_TRUE(IsAccepted(a));
  ASSERT_TRUE(IsAccepted(b));
  EXPECT_EQ(controlled_->calls(), q.next);  // decided together
  EXPECT_FALSE(a.value().replayed);
  EXPECT_TRUE(b.value().replayed);
  EXPECT_EQ(b.value().positions.first, a.value().positions.first);
  EXPECT_EQ(b.value().positions.last, a.value().positions.last);
  EXPECT_TRUE(b.value().events == a.value().events);
  EXPECT_EQ(count_in_stream<d::CodeRedeemed>(d::code_stream(codes[0].key)), 1U);
}

TEST_F(ControlledPipelineTest, AKeyReusedWithinOneGroupCommitIsRefused) {
  create_contract_and_session(10);
  const auto codes = generate("b1", 2);
  auto q =
      queue_together(redeem(codes[0].key, "alice@example.com", "r1"), redeem(codes[1].key, "bob@example.com", "r2"),
                     NextWrite::passes, key("k", "print-a"), key("k", "print-b"));
  controlled_->release_sync(q.blocker);
  EXPECT_TRUE(IsAccepted(q.a.get()));
  EXPECT_TRUE(IsRefused(q.b.get(), kKeyReused));
  EXPECT_EQ(count_in_stream<d::CodeRedeemed>(d::code_stream(codes[1].key)), 0U);
}

TEST_F(ControlledPipelineTest, AFailedWriteRecordsNoKeyAndItsSharersAreToldToRetry) {
  create_contract_and_session(10);
  const auto codes = generate("b1", 1, 5);
  auto q = queue_together(redeem(codes[0].key, "alice@example.com", "r1"),
                          redeem(codes[0].key, "alice@example.com", "r2"), NextWrite::fails, key("k"), key("k"));
  controlled_->release_sync(q.blocker);
  const auto a = q.a.get();
  const auto b = q.b.get();
  EXPECT_TRUE(IsRefused(a, es::make_error_code(es::errc::io_error)));
  EXPECT_TRUE(IsRefused(b, es::make_error_code(es::errc::io_error)));
  EXPECT_EQ(log_->find_idempotency_key("k").value(), std::nullopt);
  // The retry is decided again, and applies.
  const auto retry = pipeline_->submit(redeem(codes[0].key, "alice@example.com", "r3"), std::nullopt, key("k")).get();
  ASSERT_TRUE(IsAccepted(retry));
  EXPECT_FALSE(retry.value().replayed);
  EXPECT_EQ(count_in_stream<d::CodeRedeemed>(d::code_stream(codes[0].key)), 1U);
}

// The writer writes the next group commit while the last one's sync is still
// under way, and neither's commands hear anything before the sync that covers
// their write; readers see neither until then.
TEST_F(ControlledPipelineTest, AnswersWaitForTheSyncThatCoversTheirWriteWhileTheNextIsWritten) {
  create_contract_and_session(10);
  const auto codes = generate("b1", 2);
  ASSERT_EQ(codes.size(), 2U);
  const int sync = controlled_->syncs() + 1;
  const int write = controlled_->calls() + 1;
  controlled_->hold_sync(sync);
  auto a = pipeline_->submit(redeem(codes[0].key, "alice@example.com", "r1"));
  ASSERT_TRUE(controlled_->wait_until_sync_held(sync));
  auto b = pipeline_->submit(redeem(codes[1].key, "bob@example.com", "r2"));
  ASSERT_TRUE(controlled_->wait_until_called(write + 1));  // B's write, while A's sync is held
  EXPECT_EQ(a.wait_for(std::chrono::milliseconds(50)), std::future_status::timeout)
      << "A was answered before its write was synced";
  EXPECT_EQ(b.wait_for(std::chrono::seconds(0)), std::future_status::timeout);
  EXPECT_EQ(count_in_stream<d::CodeRedeemed>(d::code_stream(codes[0].key)), 0U)
      << "a reader saw an event that is not yet durable";
  controlled_->release_sync(sync);
  const auto accepted_a = a.get();
  const auto accepted_b = b.get();
  ASSERT_TRUE(IsAccepted(accepted_a));
  ASSERT_TRUE(IsAccepted(accepted_b));
  EXPECT_EQ(accepted_b.value().positions.first.value, accepted_a.value().positions.last.value + 1);
  EXPECT_EQ(count_in_stream<d::CodeRedeemed>(d::code_stream(codes[0].key)), 1U);
  EXPECT_EQ(count_in_stream<d::CodeRedeemed>(d::code_stream(codes[1].key)), 1U);
}

// A failed sync: the disk may or may not have the write, so its command is
// told to retry the call, never "accepted"; and the log, unable to tell what
// is durable, takes nothing more (the next command is refused the same way,
// not decided on the unsure state: not "code-exhausted").
TEST_F(ControlledPipelineTest, ACommandWhoseSyncFailedIsNotAcceptedAndNothingIsDecidedOnIt) {
  create_contract_and_session(10);
  const auto codes = generate("b1", 1);
  ASSERT_EQ(codes.size(), 1U);
  controlled_->fail_sync(controlled_->syncs() + 1);
  const auto a = run(redeem(codes[0].key, "alice@example.com", "r1"));
  ASSERT_TRUE(IsRefused(a, es::make_error_code(es::errc::io_error))) << describe(a);
  EXPECT_EQ(tessera::retry_advice(a.error().code), tessera::retry::call);
  const auto b = run(redeem(codes[0].key, "bob@example.com", "r2"));
  ASSERT_TRUE(IsRefused(b, es::make_error_code(es::errc::io_error))) << describe(b);
  EXPECT_EQ(tessera::retry_advice(b.error().code), tessera::retry::call);
}

// B is refused on A's use of the code ("code-exhausted", nothing to write)
// while A's write waits for its sync, which then fails: the code may be
// unused after all, so B must not hear the final refusal, though its group
// commit, in a later round than A's, needed no sync of its own.
TEST_F(ControlledPipelineTest, ARefusalDecidedOnAWriteWhoseSyncFailedIsNotFinal) {
  create_contract_and_session(10);
  const auto codes = generate("b1", 1);
  ASSERT_EQ(codes.size(), 1U);
  const int sync = controlled_->syncs() + 1;
  controlled_->hold_sync(sync);
  controlled_->fail_sync(sync);
  auto a = pipeline_->submit(redeem(codes[0].key, "alice@example.com", "r1"));
  ASSERT_TRUE(controlled_->wait_until_sync_held(sync));
  auto b = pipeline_->submit(redeem(codes[0].key, "bob@example.com", "r2"));
  // Time for B to be decided and to pass the writer before the sync fails
  // (nothing observable marks it; if B is slower, the writer refuses it for
  // the failure instead, and the test passes without testing this path).
  EXPECT_EQ(b.wait_for(std::chrono::milliseconds(200)), std::future_status::timeout)
      << "B was answered before the sync A's use rests on";
  controlled_->release_sync(sync);
  EXPECT_TRUE(IsRefused(a.get(), es::make_error_code(es::errc::io_error)));
  const auto refused = b.get();
  ASSERT_FALSE(refused);
  EXPECT_NE(tessera::retry_advice(refused.error().code), tessera::retry::no)
      << "B was told " << describe(refused) << " although A's use of the code may not be durable";
}

}  // namespace
