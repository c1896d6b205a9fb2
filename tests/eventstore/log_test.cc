// The RocksDB event log, on a real database in a temporary directory.

#include <gtest/gtest.h>

#include <algorithm>
#include <atomic>
#include <chrono>
#include <future>
#include <latch>
#include <memory>
#include <numeric>
#include <optional>
#include <set>
#include <string>
#include <thread>
#include <vector>

#include <signal.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cstdio>
#include <cstdlib>

#include "log_tamper.h"
#include "temp_dir.h"
#include "tessera/eventstore/log.h"
#include "tessera/eventstore/subscription.h"
#include "text.h"

namespace {

using tessera::test_support::cat;

using namespace tessera::eventstore;
using tessera::result;
using tessera::test_support::TempDir;

ProposedEvent ev(std::string payload, std::string type = "TestEvent", std::uint16_t schema = 1) {
  return ProposedEvent{std::move(type), schema, std::move(payload)};
}

StreamWrite to(std::string stream, std::optional<StreamVersion> expected, std::vector<ProposedEvent> events) {
  return StreamWrite{std::move(stream), expected, std::move(events)};
}

AppendRequest req(std::vector<StreamWrite> writes, std::int64_t at = 1'700'000'000'000'000) {
  return AppendRequest{std::move(writes), at};
}

std::optional<StreamVersion> v(std::uint64_t n) { return StreamVersion{n}; }
constexpr std::optional<StreamVersion> kAny = std::nullopt;

std::vector<std::uint64_t> positions(const std::vector<RecordedEvent>& events) {
  std::vector<std::uint64_t> out;
  for (const auto& e : events) out.push_back(e.position.value);
  return out;
}

std::vector<std::uint64_t> versions(const std::vector<RecordedEvent>& events) {
  std::vector<std::uint64_t> out;
  for (const auto& e : events) out.push_back(e.version.value);
  return out;
}

std::vector<std::uint64_t> range(std::uint64_t first, std::uint64_t last) {
  std::vector<std::uint64_t> out;
  for (std::uint64_t i = first; i <= last; ++i) out.push_back(i);
  return out;
}

bool same_event(const RecordedEvent& a, const RecordedEvent& b) {
  return a.position == b.position && a.stream == b.stream && a.version == b.version && a.type == b.type &&
         a.schema == b.schema && a.recorded_at_micros == b.recorded_at_micros && a.payload == b.payload &&
         a.hash == b.hash;
}

class LogTest : public ::testing::Test {
 protected:
  std::unique_ptr<Log> open() {
    auto opened = Log::open(dir_.path() / "log");
    if (!opened) throw std::runtime_error("open failed: " + opened.error().message());
    return std::move(opened).value();
  }

  // Close (destroy) and open again.
  void reopen() {
    log_.reset();
    log_ = open();
  }

  AppendResult ok(const AppendRequest& r) {
    auto appended = log_->append(r);
    if (!appended) throw std::runtime_error("append failed: " + appended.error().message());
    return appended.value();
  }

  std::vector<RecordedEvent> all() { return log_->read_all(Position{0}, 1'000'000).value(); }
  std::vector<RecordedEvent> stream(const std::string& s) {
    return log_->read_stream(s, StreamVersion{0}, 1'000'000).value();
  }
  std::uint64_t version(const std::string& s) { return log_->stream_version(s).value().value; }

  TempDir dir_{"tessera-log-test"};
  std::unique_ptr<Log> log_ = open();
};

testing::AssertionResult Fails(const result<AppendResult>& r, errc expected) {
  if (r) return testing::AssertionFailure() << "accepted at " << r.value().first.value << ".." << r.value().last.value;
  if (r.error() != make_error_code(expected)) {
    return testing::AssertionFailure() << "failed with " << r.error().message() << ", expected "
                                       << make_error_code(expected).message();
  }
  return testing::AssertionSuccess();
}

// ---------------------------------------------------------------------------

TEST_F(LogTest, EmptyLogHasNothing) {
  EXPECT_EQ(log_->head().value, 0U);
  EXPECT_TRUE(all().empty());
  EXPECT_TRUE(stream("anything").empty());
  EXPECT_EQ(version("anything"), 0U);
  const auto report = log_->verify().value();
  EXPECT_EQ(report.checked.value, 0U);
  EXPECT_FALSE(report.broken.has_value());
}

TEST_F(LogTest, PositionsStartAtOneAndHaveNoGaps) {
  const auto a = ok(req({to("alpha", kAny, {ev("1")})}));
  const auto b = ok(req({to("alpha", kAny, {ev("2"), ev("3")}), to("beta", kAny, {ev("4")})}));
  const auto c = ok(req({to("gamma", kAny, {ev("5"), ev("6")})}));
  EXPECT_EQ(a.first.value, 1U);
  EXPECT_EQ(a.last.value, 1U);
  EXPECT_EQ(b.first.value, 2U);
  EXPECT_EQ(b.last.value, 4U);
  EXPECT_EQ(c.first.value, 5U);
  EXPECT_EQ(c.last.value, 6U);
  EXPECT_EQ(log_->head().value, 6U);

  const auto events = all();
  EXPECT_EQ(positions(events), range(1, 6));
  // Payloads in append order: the position order is the order of the writes and their events.
  std::vector<std::string> payloads;
  for (const auto& e : events) payloads.push_back(e.payload);
  EXPECT_EQ(payloads, (std::vector<std::string>{"1", "2", "3", "4", "5", "6"}));
}

TEST_F(LogTest, RecordedEventsCarryWhatWasAppended) {
  ok(req({to("code-ABC", kAny, {ev(R"({"x":1})", "CodeIssued", 1), ev(R"({"y":2})", "CodeRedeemed", 7)})}, 42));
  const auto events = stream("code-ABC");
  ASSERT_EQ(events.size(), 2U);
  EXPECT_EQ(events[0].stream, "code-ABC");
  EXPECT_EQ(events[0].version.value, 1U);
  EXPECT_EQ(events[0].type, "CodeIssued");
  EXPECT_EQ(events[0].schema, 1);
  EXPECT_EQ(events[0].payload, R"({"x":1})");
  EXPECT_EQ(events[0].recorded_at_micros, 42);
  EXPECT_EQ(events[0].id(), "code-ABC@1");
  EXPECT_EQ(events[1].version.value, 2U);
  EXPECT_EQ(events[1].type, "CodeRedeemed");
  EXPECT_EQ(events[1].schema, 7);
  EXPECT_EQ(events[1].id(), "code-ABC@2");
  EXPECT_NE(events[0].hash, events[1].hash);
  EXPECT_NE(events[0].hash, Hash{});
}

TEST_F(LogTest, BinaryPayloadsSurvive) {
  const std::string payload("a\0b\xff\n", 5);
  ok(req({to("s", kAny, {ev(payload)})}));
  ASSERT_EQ(all().size(), 1U);
  EXPECT_EQ(all()[0].payload, payload);
}

TEST_F(LogTest, ExpectedVersionNulloptAcceptsAnyVersion) {
  ok(req({to("s", kAny, {ev("a")})}));
  ok(req({to("s", kAny, {ev("b")})}));
  EXPECT_EQ(version("s"), 2U);
}

TEST_F(LogTest, ExpectedVersionZeroMeansTheStreamMustNotExist) {
  ok(req({to("s", v(0), {ev("a")})}));
  EXPECT_TRUE(Fails(log_->append(req({to("s", v(0), {ev("b")})})), errc::version_conflict));
  EXPECT_EQ(version("s"), 1U);
  EXPECT_EQ(log_->head().value, 1U);
}

TEST_F(LogTest, ExpectedVersionMustMatchExactly) {
  ok(req({to("s", v(0), {ev("a"), ev("b")})}));
  EXPECT_TRUE(Fails(log_->append(req({to("s", v(1), {ev("c")})})), errc::version_conflict));
  EXPECT_TRUE(Fails(log_->append(req({to("s", v(3), {ev("c")})})), errc::version_conflict));
  const auto appended = ok(req({to("s", v(2), {ev("c")})}));
  EXPECT_EQ(appended.first.value, 3U);
  EXPECT_EQ(version("s"), 3U);
  EXPECT_EQ(versions(stream("s")), range(1, 3));
}

TEST_F(LogTest, VersionConflictAdvisesDecidingAgain) {
  ok(req({to("s", v(0), {ev("a")})}));
  const auto r = log_->append(req({to("s", v(0), {ev("b")})}));
  ASSERT_FALSE(r);
  EXPECT_EQ(r.error(), make_error_code(errc::version_conflict));
  EXPECT_EQ(r.error().advice(), tessera::retry::command);
}

TEST_F(LogTest, MultiStreamAppendIsAtomic) {
  ok(req({to("a", v(0), {ev("a1")})}));
  // The write to b names a wrong version: nothing of the request is appended, a's write included.
  EXPECT_TRUE(Fails(log_->append(req({to("a", v(1), {ev("a2")}), to("b", v(3), {ev("b1")})})), errc::version_conflict));
  // Same with the wrong write first.
  EXPECT_TRUE(Fails(log_->append(req({to("b", v(1), {ev("b1")}), to("a", v(1), {ev("a2")})})), errc::version_conflict));
  EXPECT_EQ(log_->head().value, 1U);
  EXPECT_EQ(version("a"), 1U);
  EXPECT_EQ(version("b"), 0U);
  EXPECT_EQ(stream("a").size(), 1U);
  EXPECT_TRUE(stream("b").empty());
  EXPECT_EQ(all().size(), 1U);
  // Survives a reopen the same way: nothing partial was written.
  reopen();
  EXPECT_EQ(log_->head().value, 1U);
  EXPECT_EQ(version("a"), 1U);
  EXPECT_EQ(version("b"), 0U);
  EXPECT_TRUE(stream("b").empty());

  // Both right: both appended, one position range.
  const auto both = ok(req({to("a", v(1), {ev("a2")}), to("b", v(0), {ev("b1"), ev("b2")})}));
  EXPECT_EQ(both.first.value, 2U);
  EXPECT_EQ(both.last.value, 4U);
  EXPECT_EQ(version("a"), 2U);
  EXPECT_EQ(version("b"), 2U);
}

TEST_F(LogTest, MalformedRequestsAreInvalidArguments) {
  EXPECT_TRUE(Fails(log_->append(req({})), errc::invalid_argument));
  EXPECT_TRUE(Fails(log_->append(req({to("", kAny, {ev("x")})})), errc::invalid_argument));
  EXPECT_TRUE(Fails(log_->append(req({to("s", kAny, {})})), errc::invalid_argument));
  EXPECT_TRUE(Fails(log_->append(req({to("s", kAny, {ev("x")}), to("s", kAny, {ev("y")})})), errc::invalid_argument));
  const auto r = log_->append(req({}));
  ASSERT_FALSE(r);
  EXPECT_EQ(r.error().advice(), tessera::retry::no);
  EXPECT_EQ(log_->head().value, 0U);
}

// ---------------------------------------------------------------------------
// Group commit

TEST_F(LogTest, AppendBatchAnswersEachRequestInOrder) {
  ok(req({to("taken", v(0), {ev("t1")})}));
  const std::vector<AppendRequest> batch = {
      req({to("a", v(0), {ev("a1")})}),                             // fine
      req({to("taken", v(0), {ev("t2")})}),                         // conflict: taken exists
      req({to("b", kAny, {ev("b1"), ev("b2")})}),                   // fine
      req({to("a", v(1), {ev("a2")})}),                             // sees the first request's a@1
      req({to("a", v(0), {ev("a-again")})}),                        // a exists now, within the batch
      req({}),                                                      // malformed
      req({to("c", v(0), {ev("c1")}), to("a", v(2), {ev("a3")})}),  // sees a@2
  };
  const auto results = log_->append_batch(batch);
  ASSERT_EQ(results.size(), batch.size());
  ASSERT_TRUE(results[0]);
  EXPECT_TRUE(Fails(results[1], errc::version_conflict));
  ASSERT_TRUE(results[2]);
  ASSERT_TRUE(results[3]);
  EXPECT_TRUE(Fails(results[4], errc::version_conflict));
  EXPECT_TRUE(Fails(results[5], errc::invalid_argument));
  ASSERT_TRUE(results[6]);

  // Accepted requests take consecutive positions; refused ones take none.
  EXPECT_EQ(results[0].value().first.value, 2U);
  EXPECT_EQ(results[0].value().last.value, 2U);
  EXPECT_EQ(results[2].value().first.value, 3U);
  EXPECT_EQ(results[2].value().last.value, 4U);
  EXPECT_EQ(results[3].value().first.value, 5U);
  EXPECT_EQ(results[3].value().last.value, 5U);
  EXPECT_EQ(results[6].value().first.value, 6U);
  EXPECT_EQ(results[6].value().last.value, 7U);
  EXPECT_EQ(log_->head().value, 7U);
  EXPECT_EQ(positions(all()), range(1, 7));

  EXPECT_EQ(version("taken"), 1U);
  EXPECT_EQ(version("a"), 3U);
  EXPECT_EQ(version("b"), 2U);
  EXPECT_EQ(version("c"), 1U);
  std::vector<std::string> a_payloads;
  for (const auto& e : stream("a")) a_payloads.push_back(e.payload);
  EXPECT_EQ(a_payloads, (std::vector<std::string>{"a1", "a2", "a3"}));
  EXPECT_FALSE(log_->verify().value().broken.has_value());
}

TEST_F(LogTest, AppendBatchOfOnlyFailuresWritesNothing) {
  ok(req({to("s", v(0), {ev("1")})}));
  const std::vector<AppendRequest> batch = {req({to("s", v(0), {ev("x")})}), req({to("s", v(5), {ev("y")})})};
  const auto results = log_->append_batch(batch);
  ASSERT_EQ(results.size(), 2U);
  EXPECT_TRUE(Fails(results[0], errc::version_conflict));
  EXPECT_TRUE(Fails(results[1], errc::version_conflict));
  EXPECT_EQ(log_->head().value, 1U);
  EXPECT_TRUE(log_->append_batch({}).empty());
  EXPECT_EQ(log_->head().value, 1U);
}

// ---------------------------------------------------------------------------
// Reads

TEST_F(LogTest, ReadAllPagesInPositionOrder) {
  for (int i = 0; i < 25; ++i) ok(req({to(cat("s", std::to_string(i % 3)), kAny, {ev(std::to_string(i + 1))})}));
  const auto p1 = log_->read_all(Position{0}, 10).value();
  const auto p2 = log_->read_all(p1.back().position, 10).value();
  const auto p3 = log_->read_all(p2.back().position, 10).value();
  EXPECT_EQ(positions(p1), range(1, 10));
  EXPECT_EQ(positions(p2), range(11, 20));
  EXPECT_EQ(positions(p3), range(21, 25));
  EXPECT_TRUE(log_->read_all(Position{25}, 10).value().empty());
  EXPECT_TRUE(log_->read_all(Position{99}, 10).value().empty());
  EXPECT_TRUE(log_->read_all(Position{0}, 0).value().empty());
  EXPECT_EQ(positions(log_->read_all(Position{7}, 3).value()), range(8, 10));
  for (const auto& e : p2) EXPECT_EQ(e.payload, std::to_string(e.position.value));
}

TEST_F(LogTest, ReadStreamPagesInVersionOrder) {
  for (int i = 0; i < 12; ++i) {
    ok(req({to("code-A", kAny, {ev(cat("A", std::to_string(i + 1)))})}));
    ok(req({to("code-AB", kAny, {ev(cat("AB", std::to_string(i + 1)))})}));  // a name that extends the other
  }
  const auto p1 = log_->read_stream("code-A", StreamVersion{0}, 5).value();
  const auto p2 = log_->read_stream("code-A", StreamVersion{5}, 5).value();
  const auto p3 = log_->read_stream("code-A", StreamVersion{10}, 5).value();
  EXPECT_EQ(versions(p1), range(1, 5));
  EXPECT_EQ(versions(p2), range(6, 10));
  EXPECT_EQ(versions(p3), range(11, 12));
  EXPECT_TRUE(log_->read_stream("code-A", StreamVersion{12}, 5).value().empty());
  for (const auto* page : {&p1, &p2, &p3}) {
    for (const auto& e : *page) {
      EXPECT_EQ(e.stream, "code-A");
      EXPECT_EQ(e.payload, cat("A", std::to_string(e.version.value)));
      EXPECT_EQ(e.position.value, 2 * e.version.value - 1);
    }
  }
  EXPECT_EQ(versions(stream("code-AB")), range(1, 12));
  EXPECT_TRUE(stream("code-").empty());
  EXPECT_TRUE(stream("code-ABC").empty());
  EXPECT_TRUE(stream("nope").empty());
}

// ---------------------------------------------------------------------------
// Reopen

TEST_F(LogTest, ReopenPreservesEverything) {
  ok(req({to("a", v(0), {ev("a1"), ev("a2")}), to("b", v(0), {ev("b1")})}));
  ok(req({to("b", v(1), {ev("b2")})}));
  ASSERT_TRUE(log_->put_meta("relay/checkpoint", "4", Log::MetaWrite::synced));
  const auto before = all();
  ASSERT_EQ(before.size(), 4U);

  reopen();
  EXPECT_EQ(log_->head().value, 4U);
  const auto after = all();
  ASSERT_EQ(after.size(), before.size());
  for (std::size_t i = 0; i < before.size(); ++i) EXPECT_TRUE(same_event(before[i], after[i])) << i;
  EXPECT_EQ(version("a"), 2U);
  EXPECT_EQ(version("b"), 2U);
  EXPECT_EQ(version("c"), 0U);
  EXPECT_EQ(log_->get_meta("relay/checkpoint").value(), std::optional<std::string>("4"));

  // Expected versions hold across the reopen, and positions continue.
  EXPECT_TRUE(Fails(log_->append(req({to("a", v(1), {ev("a3")})})), errc::version_conflict));
  EXPECT_TRUE(Fails(log_->append(req({to("b", v(0), {ev("b3")})})), errc::version_conflict));
  const auto next = ok(req({to("a", v(2), {ev("a3")})}));
  EXPECT_EQ(next.first.value, 5U);
  EXPECT_EQ(versions(stream("a")), range(1, 3));
  // The hash chain continues across the reopen.
  const auto report = log_->verify().value();
  EXPECT_EQ(report.checked.value, 5U);
  EXPECT_FALSE(report.broken.has_value());
}

// Enough streams for the log to read them on two threads: each answer is
// the stream's own, in order.
TEST_F(LogTest, StreamVersionsAnswerEachStreamInOrderHoweverMany) {
  std::vector<AppendRequest> requests;
  for (int i = 0; i < 3'000; ++i) {
    std::vector<ProposedEvent> events(static_cast<std::size_t>(i % 3 + 1), ev("x"));
    requests.push_back(req({to(cat("s", std::to_string(i)), kAny, std::move(events))}));
  }
  for (const auto& r : log_->append_batch(requests)) ASSERT_TRUE(r);
  std::vector<std::string> names;
  for (int i = 0; i < 40'000; ++i) names.push_back(cat("s", std::to_string(i)));
  const std::vector<std::string_view> views(names.begin(), names.end());
  const auto versions = log_->stream_versions(views);
  ASSERT_TRUE(versions);
  ASSERT_EQ(versions.value().size(), names.size());
  for (std::size_t i = 0; i < names.size(); ++i) {
    const std::uint64_t expected = i < 3'000 ? i % 3 + 1 : 0;
    ASSERT_EQ(versions.value()[i].value, expected) << names[i];
  }
}

// A short list (what a group commit asks) is looked up all at once: streams
// of no, one, two and three events, one only written and not yet synced,
// asked out of order and some twice, each answered as stream_version()
// answers it alone, in the order asked.
TEST_F(LogTest, AShortListOfStreamVersionsAnswersEachAsItsOwnLookupWould) {
  ok(req({to("one", v(0), {ev("1")})}));
  ok(req({to("two", v(0), {ev("1"), ev("2")})}));
  ok(req({to("three", v(0), {ev("1")})}));
  ok(req({to("three", v(1), {ev("2"), ev("3")})}));
  ASSERT_TRUE(log_->write_batch(std::vector{req({to("unsynced", v(0), {ev("1"), ev("2")})})}).front());
  const std::vector<std::string> names = {"three", "none", "one", "unsynced", "two", "one", "thre", "three-more"};
  const std::vector<std::uint64_t> expected = {3, 0, 1, 2, 2, 1, 0, 0};
  const std::vector<std::string_view> views(names.begin(), names.end());
  const auto versions = log_->stream_versions(views);
  ASSERT_TRUE(versions);
  ASSERT_EQ(versions.value().size(), names.size());
  for (std::size_t i = 0; i < names.size(); ++i) {
    EXPECT_EQ(versions.value()[i].value, expected[i]) << names[i];
    EXPECT_EQ(versions.value()[i].value, version(names[i])) << names[i];
  }
  EXPECT_TRUE(log_->stream_versions({}).value().empty());
}

TEST_F(LogTest, StreamVersionIsReadBackAfterReopen) {
  for (int i = 0; i < 7; ++i) ok(req({to("s", kAny, {ev(std::to_string(i))})}));
  reopen();
  EXPECT_EQ(version("s"), 7U);
  reopen();
  EXPECT_EQ(version("s"), 7U);
  EXPECT_EQ(log_->head().value, 7U);
}

// Streams of none, one, two and many events, some grown one event at a time
// and some at once, some sharing a prefix: each version is its own, before
// and after a reopen, and expected versions are checked against it.
TEST_F(LogTest, EveryStreamLengthReadsItsVersion) {
  ok(req({to("one", v(0), {ev("1")})}));
  ok(req({to("two", v(0), {ev("1"), ev("2")})}));
  ok(req({to("grown", v(0), {ev("1")})}));
  ok(req({to("grown", v(1), {ev("2")})}));
  ok(req({to("grown", v(2), {ev("3")})}));
  ok(req({to("on", v(0), {ev("1")}), to("one-more", v(0), {ev("1")})}));
  for (int round = 0; round < 2; ++round) {
    EXPECT_EQ(version("none"), 0U);
    EXPECT_EQ(version("o"), 0U);
    EXPECT_EQ(version("one"), 1U);
    EXPECT_EQ(version("on"), 1U);
    EXPECT_EQ(version("one-more"), 1U);
    EXPECT_EQ(version("two"), 2U);
    EXPECT_EQ(version("grown"), 3U);
    EXPECT_TRUE(Fails(log_->append(req({to("one", v(0), {ev("again")})})), errc::version_conflict));
    EXPECT_TRUE(Fails(log_->append(req({to("grown", v(2), {ev("stale")})})), errc::version_conflict));
    reopen();
  }
  ok(req({to("one", v(1), {ev("2")})}));
  EXPECT_EQ(version("one"), 2U);
  EXPECT_EQ(versions(stream("one")), range(1, 2));
}

TEST_F(LogTest, MetaIsAKeyValueSpaceThatSurvivesReopen) {
  EXPECT_EQ(log_->get_meta("k").value(), std::nullopt);
  ASSERT_TRUE(log_->put_meta("k", "1", Log::MetaWrite::synced));
  ASSERT_TRUE(log_->put_meta("k", "2", Log::MetaWrite::synced));
  ASSERT_TRUE(log_->put_meta("other", std::string("\0x", 2), Log::MetaWrite::synced));
  EXPECT_EQ(log_->get_meta("k").value(), std::optional<std::string>("2"));
  reopen();
  EXPECT_EQ(log_->get_meta("k").value(), std::optional<std::string>("2"));
  EXPECT_EQ(log_->get_meta("other").value(), std::optional<std::string>(std::string("\0x", 2)));
  EXPECT_EQ(log_->get_meta("missing").value(), std::nullopt);
  // Meta is beside the log, not in it.
  EXPECT_EQ(log_->head().value, 0U);
}

TEST_F(LogTest, SnapshotsKeepTheLatestPerStreamBesideTheLog) {
  ok(req({to("a", kAny, {ev("1"), ev("2"), ev("3")}), to("b", kAny, {ev("1")})}));
  EXPECT_EQ(log_->get_snapshot("a").value(), std::nullopt);
  const std::vector<Snapshot> first = {{"a", StreamVersion{2}, "state-a-2"}, {"b", StreamVersion{1}, "b"}};
  ASSERT_TRUE(log_->put_snapshots(first));
  const Snapshot later{"a", StreamVersion{3}, std::string("state\0a3", 8)};
  ASSERT_TRUE(log_->put_snapshots(std::span(&later, 1)));
  reopen();
  const auto a = log_->get_snapshot("a").value();
  ASSERT_TRUE(a.has_value());
  EXPECT_EQ(a->stream, "a");
  EXPECT_EQ(a->version, StreamVersion{3});
  EXPECT_EQ(a->state, later.state);
  EXPECT_EQ(log_->get_snapshot("b").value()->state, "b");
  // Snapshots are beside the log, not in it.
  EXPECT_EQ(log_->head().value, 4U);
  EXPECT_EQ(log_->verify().value().broken, std::nullopt);

  const Snapshot nameless{"", StreamVersion{1}, "x"};
  EXPECT_EQ(log_->put_snapshots(std::span(&nameless, 1)).error(), make_error_code(errc::invalid_argument));
}

TEST_F(LogTest, ASubscriptionCatchesUpThenFollowsLiveAppends) {
  for (int i = 1; i <= 10; ++i) ok(req({to(cat("s", std::to_string(i % 3)), kAny, {ev(std::to_string(i))})}));
  Subscription subscription(*log_, Position{3}, 4);
  std::vector<std::uint64_t> seen;
  for (auto page = subscription.next(std::chrono::milliseconds(0)).value(); !page.empty();
       page = subscription.next(std::chrono::milliseconds(0)).value()) {
    EXPECT_LE(page.size(), 4U);
    for (const auto& e : page) seen.push_back(e.position.value);
  }
  EXPECT_EQ(seen, range(4, 10));
  EXPECT_EQ(subscription.position(), Position{10});

  // Live: each append from another thread is delivered, in order, with no poll.
  auto writer = std::async(std::launch::async, [&] {
    for (int i = 11; i <= 30; ++i) ok(req({to("live", kAny, {ev(std::to_string(i))})}));
  });
  while (seen.size() < range(4, 30).size()) {
    // A deadlock guard, not a timing assertion.
    auto page = subscription.next(std::chrono::seconds(60));
    ASSERT_TRUE(page);
    ASSERT_FALSE(page.value().empty()) << "no event within a minute after " << subscription.position().value;
    for (const auto& e : page.value()) seen.push_back(e.position.value);
  }
  writer.get();
  EXPECT_EQ(seen, range(4, 30));

  // seek() reads again what a subscriber could not handle.
  subscription.seek(Position{28});
  EXPECT_EQ(positions(subscription.next(std::chrono::milliseconds(0)).value()), range(29, 30));
}

// ---------------------------------------------------------------------------
// Hash chain

TEST_F(LogTest, VerifyPassesOnAGoodLog) {
  for (int i = 0; i < 10; ++i) ok(req({to(cat("s", std::to_string(i % 4)), kAny, {ev(std::to_string(i)), ev("x")})}));
  const auto report = log_->verify().value();
  EXPECT_EQ(report.checked.value, 20U);
  EXPECT_FALSE(report.broken.has_value());
}

TEST_F(LogTest, VerifyNamesTheFirstTamperedPosition) {
  for (int i = 1; i <= 5; ++i) {
    ok(req({to(cat("s", std::to_string(i % 2)), kAny,
               {ev(cat(R"({"n":)", std::to_string(i), R"(,"text":"payload"})"))})}));
  }
  ASSERT_FALSE(log_->verify().value().broken.has_value());
  log_.reset();
  ASSERT_EQ(tessera::test_support::tamper_payload(dir_.path() / "log", 3, R"({"n":3,"text":"payload"})"), "");
  log_ = open();
  const auto report = log_->verify().value();
  ASSERT_TRUE(report.broken.has_value());
  EXPECT_EQ(report.broken->value, 3U);
  EXPECT_EQ(report.checked.value, 2U);
}

TEST_F(LogTest, VerifyNamesTheFirstPositionWhenTheFirstEventIsTampered) {
  ok(req({to("s", kAny, {ev("first-payload"), ev("second-payload")})}));
  log_.reset();
  ASSERT_EQ(tessera::test_support::tamper_payload(dir_.path() / "log", 1, "first-payload"), "");
  log_ = open();
  const auto report = log_->verify().value();
  ASSERT_TRUE(report.broken.has_value());
  EXPECT_EQ(report.broken->value, 1U);
  EXPECT_EQ(report.checked.value, 0U);
}

// ---------------------------------------------------------------------------
// Read-only opening (the admin CLI's)

std::unique_ptr<Log> open_read_only(const std::filesystem::path& dir) {
  auto opened = Log::open(dir, LogOptions{.read_only = true});
  if (!opened) throw std::runtime_error("read-only open failed: " + opened.error().message());
  return std::move(opened).value();
}

TEST_F(LogTest, AReadOnlyLogReadsAndVerifiesWhileTheWriterHoldsItOpen) {
  ok(req({to("a", kAny, {ev("1"), ev("2")}), to("b", kAny, {ev("3")})}));
  const auto reader = open_read_only(dir_.path() / "log");
  EXPECT_EQ(reader->head().value, 3U);
  const auto events = reader->read_all(Position{0}, 100).value();
  ASSERT_EQ(positions(events), range(1, 3));
  for (std::size_t i = 0; i < events.size(); ++i) EXPECT_TRUE(same_event(events[i], all()[i])) << i;
  EXPECT_EQ(versions(reader->read_stream("a", StreamVersion{0}, 100).value()), range(1, 2));
  const auto report = reader->verify().value();
  EXPECT_EQ(report.checked.value, 3U);
  EXPECT_FALSE(report.broken.has_value());
  // It sees the log as it stood when opened; the writer carries on.
  ok(req({to("a", kAny, {ev("4")})}));
  EXPECT_EQ(reader->head().value, 3U);
  EXPECT_EQ(log_->head().value, 4U);
}

TEST_F(LogTest, AReadOnlyLogRefusesWrites) {
  ok(req({to("a", kAny, {ev("1")})}));
  const auto reader = open_read_only(dir_.path() / "log");
  EXPECT_TRUE(Fails(reader->append(req({to("a", kAny, {ev("2")})})), errc::io_error));
  EXPECT_FALSE(reader->put_meta("k", "v", Log::MetaWrite::synced));
  EXPECT_EQ(log_->head().value, 1U);
  EXPECT_EQ(all().size(), 1U);
}

TEST_F(LogTest, AReadOnlyOpenOfAMissingLogFailsAndCreatesNothing) {
  const auto missing = dir_.path() / "no-log-here";
  const auto opened = Log::open(missing, LogOptions{.read_only = true});
  EXPECT_FALSE(opened);
  EXPECT_FALSE(std::filesystem::exists(missing));
}

// ---------------------------------------------------------------------------
// Threads

// write_batch() then sync(): written batches are checked against each other
// (versions, keys) at once, and read by nobody until a sync covers them.
TEST_F(LogTest, AWrittenBatchIsSeenByLaterWritesAndReadByNobodyUntilSynced) {
  ok(req({to("a", kAny, {ev("durable")})}));
  auto keyed = req({to("b", v(0), {ev("b1")})});
  keyed.idempotency_key = "k";
  keyed.fingerprint = "print";
  const auto first = log_->write_batch(std::vector{keyed, req({to("a", v(1), {ev("a2")})})});
  ASSERT_EQ(first.size(), 2U);
  ASSERT_TRUE(first[0] && first[1]);
  EXPECT_EQ(first[0].value().first.value, 2U);
  EXPECT_EQ(first[1].value().first.value, 3U);

  // Not durable: readers see the log as it was.
  EXPECT_EQ(log_->head().value, 1U);
  EXPECT_EQ(positions(all()), range(1, 1));
  EXPECT_TRUE(stream("b").empty());
  EXPECT_EQ(versions(stream("a")), range(1, 1));
  EXPECT_EQ(log_->find_idempotency_key("k").value(), std::nullopt);
  EXPECT_EQ(log_->wait_beyond(Position{1}, std::chrono::milliseconds(1)).value, 1U);

  // The next write is checked against it: versions moved, the key is taken.
  EXPECT_EQ(version("a"), 2U);
  const auto second =
      log_->write_batch(std::vector{req({to("a", v(1), {ev("stale")})}), keyed, req({to("a", v(2), {ev("a3")})})});
  ASSERT_EQ(second.size(), 3U);
  EXPECT_TRUE(Fails(second[0], errc::version_conflict));
  ASSERT_TRUE(second[1]);
  EXPECT_TRUE(second[1].value().replayed);
  EXPECT_EQ(second[1].value().first.value, 2U);
  ASSERT_TRUE(second[2]);
  EXPECT_EQ(second[2].value().first.value, 4U);

  const auto synced = log_->sync();
  ASSERT_TRUE(synced);
  EXPECT_EQ(synced.value().value, 4U);
  EXPECT_EQ(log_->head().value, 4U);
  EXPECT_EQ(positions(all()), range(1, 4));
  EXPECT_EQ(versions(stream("a")), range(1, 3));
  ASSERT_TRUE(log_->find_idempotency_key("k").value().has_value());
  EXPECT_EQ(log_->verify().value().broken, std::nullopt);
  // Nothing more to sync: the head again.
  EXPECT_EQ(log_->sync().value().value, 4U);
  reopen();
  EXPECT_EQ(positions(all()), range(1, 4));
}

TEST_F(LogTest, ASyncWakesTheWaitersAWriteDidNot) {
  std::latch waiting(1);
  auto waiter = std::async(std::launch::async, [&] {
    waiting.count_down();
    return log_->wait_beyond(Position{0}, std::chrono::hours(1));
  });
  waiting.wait();
  ASSERT_TRUE(log_->write_batch(std::vector{req({to("s", kAny, {ev("1")})})}).front());
  EXPECT_EQ(waiter.wait_for(std::chrono::milliseconds(50)), std::future_status::timeout)
      << "a waiter was woken for an event not yet durable";
  ASSERT_TRUE(log_->sync());
  // A deadlock guard, not a timing assertion.
  ASSERT_EQ(waiter.wait_for(std::chrono::seconds(60)), std::future_status::ready);
  EXPECT_EQ(waiter.get().value, 1U);
}

TEST_F(LogTest, WaitBeyondReturnsAtOnceWhenTheLogIsAlreadyBeyond) {
  ok(req({to("s", kAny, {ev("1"), ev("2")})}));
  EXPECT_EQ(log_->wait_beyond(Position{1}, std::chrono::hours(1)).value, 2U);
  // Nothing beyond the head: the wait ends at its timeout with the head.
  EXPECT_EQ(log_->wait_beyond(Position{2}, std::chrono::milliseconds(1)).value, 2U);
}

TEST_F(LogTest, WaitBeyondWakesOnAnAppendFromAnotherThread) {
  for (std::uint64_t round = 0; round < 20; ++round) {
    std::latch waiting(1);
    auto waiter = std::async(std::launch::async, [&] {
      waiting.count_down();
      return log_->wait_beyond(Position{round}, std::chrono::hours(1));
    });
    waiting.wait();
    ok(req({to("s", kAny, {ev(std::to_string(round))})}));
    // A deadlock guard, not a timing assertion: a waiter that is never woken would wait an hour.
    ASSERT_EQ(waiter.wait_for(std::chrono::seconds(60)), std::future_status::ready) << "round " << round;
    EXPECT_EQ(waiter.get().value, round + 1);
  }
}

TEST_F(LogTest, ConcurrentAppendsToDistinctStreamsAreAllAcceptedWithoutGaps) {
  constexpr int kThreads = 8;
  constexpr int kAppends = 40;
  std::latch start(kThreads);
  std::vector<std::vector<AppendResult>> appended(kThreads);
  std::vector<std::thread> threads;
  for (int t = 0; t < kThreads; ++t) {
    threads.emplace_back([&, t] {
      start.arrive_and_wait();
      for (int i = 0; i < kAppends; ++i) {
        const std::string name = cat("thread-", std::to_string(t));
        auto r = log_->append(req({to(name, v(static_cast<std::uint64_t>(i)), {ev(std::to_string(i))})}));
        if (r) appended[static_cast<std::size_t>(t)].push_back(r.value());
      }
    });
  }
  for (auto& th : threads) th.join();

  std::vector<std::uint64_t> seen;
  for (int t = 0; t < kThreads; ++t) {
    const auto& mine = appended[static_cast<std::size_t>(t)];
    EXPECT_EQ(mine.size(), static_cast<std::size_t>(kAppends)) << "thread " << t;
    for (std::size_t i = 0; i < mine.size(); ++i) {
      EXPECT_EQ(mine[i].first, mine[i].last);
      if (i > 0) {
        EXPECT_GT(mine[i].first.value, mine[i - 1].first.value);
      }
      seen.push_back(mine[i].first.value);
    }
    EXPECT_EQ(version(cat("thread-", std::to_string(t))), static_cast<std::uint64_t>(kAppends));
  }
  std::sort(seen.begin(), seen.end());
  EXPECT_EQ(seen, range(1, kThreads * kAppends));  // a permutation of 1..N
  EXPECT_EQ(positions(all()), range(1, kThreads * kAppends));
  EXPECT_FALSE(log_->verify().value().broken.has_value());
}

TEST_F(LogTest, ConcurrentAppendsAtTheSameExpectedVersionHaveExactlyOneWinner) {
  constexpr int kThreads = 16;
  for (std::uint64_t round = 0; round < 5; ++round) {
    std::latch start(kThreads);
    std::vector<result<AppendResult>> results(kThreads, result<AppendResult>(make_error_code(errc::io_error)));
    std::vector<std::thread> threads;
    for (int t = 0; t < kThreads; ++t) {
      threads.emplace_back([&, t] {
        start.arrive_and_wait();
        results[static_cast<std::size_t>(t)] =
            log_->append(req({to("contested", v(round), {ev(cat("t", std::to_string(t)))})}));
      });
    }
    for (auto& th : threads) th.join();
    int winners = 0;
    for (const auto& r : results) {
      if (r) {
        ++winners;
      } else {
        EXPECT_EQ(r.error(), make_error_code(errc::version_conflict)) << r.error().message();
        EXPECT_EQ(r.error().advice(), tessera::retry::command);
      }
    }
    EXPECT_EQ(winners, 1) << "round " << round;
    EXPECT_EQ(version("contested"), round + 1);
  }
  EXPECT_EQ(log_->head().value, 5U);
}

// ---------------------------------------------------------------------------
// Idempotency keys

AppendRequest keyed(std::vector<StreamWrite> writes, std::string key, std::string fingerprint = "f") {
  AppendRequest r = req(std::move(writes));
  r.idempotency_key = std::move(key);
  r.fingerprint = std::move(fingerprint);
  return r;
}

TEST_F(LogTest, AKeyIsRecordedWithItsEventsAndReplaysThem) {
  EXPECT_EQ(log_->find_idempotency_key("k1").value(), std::nullopt);
  const auto first = ok(keyed({to("a", v(0), {ev("a1"), ev("a2")}), to("b", v(0), {ev("b1")})}, "k1", "print-1"));
  EXPECT_FALSE(first.replayed);
  EXPECT_EQ(first.first.value, 1U);
  EXPECT_EQ(first.last.value, 3U);

  const auto found = log_->find_idempotency_key("k1").value();
  ASSERT_TRUE(found.has_value());
  EXPECT_EQ(found->result.first.value, 1U);
  EXPECT_EQ(found->result.last.value, 3U);
  EXPECT_TRUE(found->result.replayed);
  EXPECT_EQ(found->fingerprint, "print-1");

  // The same request again (its expected versions no longer hold, which does
  // not matter): nothing appended, the first positions answered.
  const auto again = ok(keyed({to("a", v(0), {ev("a1"), ev("a2")}), to("b", v(0), {ev("b1")})}, "k1", "print-1"));
  EXPECT_TRUE(again.replayed);
  EXPECT_EQ(again.first.value, 1U);
  EXPECT_EQ(again.last.value, 3U);
  EXPECT_EQ(log_->head().value, 3U);
  EXPECT_EQ(version("a"), 2U);

  // Another request under the same key is refused, and appends nothing.
  const auto other = log_->append(keyed({to("c", kAny, {ev("c1")})}, "k1", "print-2"));
  EXPECT_TRUE(Fails(other, errc::idempotency_key_reused));
  EXPECT_EQ(other.error().advice(), tessera::retry::no);
  EXPECT_EQ(log_->head().value, 3U);

  // Unkeyed appends and other keys are untouched by it.
  EXPECT_FALSE(ok(req({to("c", kAny, {ev("c1")})})).replayed);
  EXPECT_FALSE(ok(keyed({to("c", kAny, {ev("c2")})}, "k2", "print-1")).replayed);
  EXPECT_EQ(log_->head().value, 5U);
  EXPECT_FALSE(log_->verify().value().broken.has_value());
}

TEST_F(LogTest, ARefusedKeyedRequestRecordsNoKey) {
  ok(req({to("s", v(0), {ev("1")})}));
  EXPECT_TRUE(Fails(log_->append(keyed({to("s", v(0), {ev("x")})}, "k")), errc::version_conflict));
  EXPECT_TRUE(Fails(log_->append(keyed({to("", kAny, {ev("x")})}, "k")), errc::invalid_argument));
  EXPECT_EQ(log_->find_idempotency_key("k").value(), std::nullopt);
  // So a retry, decided again, appends.
  const auto retried = ok(keyed({to("s", v(1), {ev("x")})}, "k"));
  EXPECT_FALSE(retried.replayed);
  EXPECT_EQ(retried.first.value, 2U);
  EXPECT_EQ(log_->find_idempotency_key("k").value()->result.first.value, 2U);
  // An empty key is not a key.
  EXPECT_TRUE(Fails(log_->append(keyed({to("s", kAny, {ev("y")})}, "")), errc::invalid_argument));
  EXPECT_EQ(log_->head().value, 2U);
}

TEST_F(LogTest, KeysReplayAfterReopen) {
  ok(keyed({to("a", v(0), {ev("a1")})}, "k1", "p1"));
  ok(keyed({to("b", v(0), {ev("b1"), ev("b2")})}, "k2", "p2"));
  reopen();
  const auto found = log_->find_idempotency_key("k2").value();
  ASSERT_TRUE(found.has_value());
  EXPECT_EQ(found->result.first.value, 2U);
  EXPECT_EQ(found->result.last.value, 3U);
  EXPECT_EQ(found->fingerprint, "p2");

  const auto again = ok(keyed({to("a", v(0), {ev("a1")})}, "k1", "p1"));
  EXPECT_TRUE(again.replayed);
  EXPECT_EQ(again.first.value, 1U);
  EXPECT_EQ(again.last.value, 1U);
  EXPECT_TRUE(Fails(log_->append(keyed({to("a", kAny, {ev("a1")})}, "k1", "p-other")), errc::idempotency_key_reused));
  EXPECT_EQ(log_->head().value, 3U);
  EXPECT_EQ(version("a"), 1U);
}

TEST_F(LogTest, TheSameKeyTwiceInOneBatchAppendsOnce) {
  ok(req({to("taken", v(0), {ev("t1")})}));
  const std::vector<AppendRequest> batch = {
      keyed({to("a", v(0), {ev("a1"), ev("a2")})}, "k", "p"),  // appended
      keyed({to("a", v(2), {ev("a3")})}, "k", "p"),            // replays the first
      keyed({to("b", v(0), {ev("b1")})}, "k", "other"),        // another request: refused
      keyed({to("taken", v(0), {ev("t2")})}, "j", "p"),        // conflict: records no key
      keyed({to("c", v(0), {ev("c1")})}, "j", "p"),            // so this one appends under it
      keyed({to("c", v(1), {ev("c2")})}, "j", "p"),            // and this one replays it
  };
  const auto results = log_->append_batch(batch);
  ASSERT_EQ(results.size(), batch.size());
  ASSERT_TRUE(results[0]);
  EXPECT_FALSE(results[0].value().replayed);
  EXPECT_EQ(results[0].value().first.value, 2U);
  EXPECT_EQ(results[0].value().last.value, 3U);
  ASSERT_TRUE(results[1]);
  EXPECT_TRUE(results[1].value().replayed);
  EXPECT_EQ(results[1].value().first.value, 2U);
  EXPECT_EQ(results[1].value().last.value, 3U);
  EXPECT_TRUE(Fails(results[2], errc::idempotency_key_reused));
  EXPECT_TRUE(Fails(results[3], errc::version_conflict));
  ASSERT_TRUE(results[4]);
  EXPECT_FALSE(results[4].value().replayed);
  EXPECT_EQ(results[4].value().first.value, 4U);
  ASSERT_TRUE(results[5]);
  EXPECT_TRUE(results[5].value().replayed);
  EXPECT_EQ(results[5].value().first.value, 4U);

  EXPECT_EQ(log_->head().value, 4U);
  EXPECT_EQ(version("a"), 2U);
  EXPECT_EQ(version("b"), 0U);
  EXPECT_EQ(version("c"), 1U);
  EXPECT_EQ(log_->find_idempotency_key("k").value()->fingerprint, "p");
  EXPECT_EQ(log_->find_idempotency_key("j").value()->result.first.value, 4U);
  // A batch of replays only writes nothing.
  const auto replays = log_->append_batch(std::vector<AppendRequest>{keyed({to("a", kAny, {ev("x")})}, "k", "p")});
  ASSERT_TRUE(replays[0]);
  EXPECT_TRUE(replays[0].value().replayed);
  EXPECT_EQ(log_->head().value, 4U);
}

TEST_F(LogTest, ConcurrentAppendsUnderOneKeyAppendOnce) {
  constexpr int kThreads = 16;
  std::latch start(kThreads);
  std::vector<result<AppendResult>> results(kThreads, result<AppendResult>(make_error_code(errc::io_error)));
  std::vector<std::thread> threads;
  for (int t = 0; t < kThreads; ++t) {
    threads.emplace_back([&, t] {
      start.arrive_and_wait();
      results[static_cast<std::size_t>(t)] = log_->append(keyed({to("s", kAny, {ev("once")})}, "key", "p"));
    });
  }
  for (auto& th : threads) th.join();
  int fresh = 0;
  for (const auto& r : results) {
    ASSERT_TRUE(r) << r.error().message();
    if (!r.value().replayed) ++fresh;
    EXPECT_EQ(r.value().first.value, 1U);
    EXPECT_EQ(r.value().last.value, 1U);
  }
  EXPECT_EQ(fresh, 1);
  EXPECT_EQ(log_->head().value, 1U);
}

// A process that appends keyed requests until it is killed, so that a crash
// can land anywhere: the parent test runs this binary again with only this
// test selected and the directory in TESSERA_LOG_CRASH_DIR. Each append
// writes two events whose payload is their key; "appended N" goes to stdout
// after each durable batch.
TEST(LogCrashChild, AppendsKeyedRequestsUntilKilled) {
  const char* dir = std::getenv("TESSERA_LOG_CRASH_DIR");
  if (dir == nullptr) GTEST_SKIP() << "run by LogTest.KeyAndEventsSurviveAKillTogether";
  auto log = Log::open(dir).value();
  for (std::uint64_t n = 0;; n += 3) {
    std::vector<AppendRequest> batch;
    for (std::uint64_t i = n; i < n + 3; ++i) {
      const std::string key = cat("k", std::to_string(i));
      batch.push_back(
          keyed({to(cat("s", std::to_string(i % 5)), kAny, {ev(key)}), to(key, v(0), {ev(key)})}, key, "p"));
    }
    batch.push_back(batch.front());  // a retry within the batch, too
    for (const auto& r : log->append_batch(batch)) ASSERT_TRUE(r) << r.error().message();
    std::printf("appended %llu\n", static_cast<unsigned long long>(n + 3));
    std::fflush(stdout);
  }
}

// The counters behind tesserad's /metrics and the append bench: a durable
// append is one group commit and one fsync; write_batch() is a group commit
// that sync() makes durable with one fsync for all; the fsyncs' time adds up.
TEST_F(LogTest, StatsCountGroupCommitsAndSyncsAndTheTimeTheSyncsTake) {
  const LogStats opened = log_->stats();
  ok(req({to("s", kAny, {ev("a")})}));
  const LogStats appended = log_->stats();
  EXPECT_EQ(appended.batches_written - opened.batches_written, 1U);
  EXPECT_EQ(appended.synced_writes - opened.synced_writes, 1U);
  EXPECT_GT(appended.sync_time, opened.sync_time);

  ASSERT_TRUE(log_->write_batch(std::vector{req({to("s", kAny, {ev("b")})})}).front());
  ASSERT_TRUE(log_->write_batch(std::vector{req({to("s", kAny, {ev("c")})})}).front());
  const LogStats written = log_->stats();
  EXPECT_EQ(written.batches_written - appended.batches_written, 2U);
  EXPECT_EQ(written.synced_writes, appended.synced_writes);
  EXPECT_EQ(written.sync_time, appended.sync_time);
  ASSERT_TRUE(log_->sync());
  const LogStats synced = log_->stats();
  EXPECT_EQ(synced.synced_writes - written.synced_writes, 1U);
  EXPECT_GT(synced.sync_time, written.sync_time);
  ASSERT_TRUE(log_->sync());  // nothing written since: no fsync
  EXPECT_EQ(log_->stats().synced_writes, synced.synced_writes);
}

// The write-ahead log is zero-filled ahead of its records while the log is
// open. A copy of the directory taken then (what a crash leaves behind: the
// records, then zeros) opens with every event, its chain intact, and takes
// appends again.
TEST_F(LogTest, ALogLeftWithZerosAfterItsLastRecordOpensWithEverything) {
  for (int i = 0; i < 200; ++i) ok(req({to(cat("s", std::to_string(i % 7)), kAny, {ev(std::to_string(i))})}));
  std::uintmax_t wal_bytes = 0;
  for (const auto& file : std::filesystem::directory_iterator(dir_.path() / "log")) {
    if (file.path().extension() == ".log") wal_bytes = std::max(wal_bytes, file.file_size());
  }
  // 200 small records take a few tens of kilobytes; the zeros run megabytes ahead.
  EXPECT_GE(wal_bytes, std::uintmax_t{4} << 20U) << "no zeros ahead of the write-ahead log's records";
  const auto crashed = dir_.path() / "crashed";
  std::filesystem::copy(dir_.path() / "log", crashed);
  auto reopened = Log::open(crashed);
  ASSERT_TRUE(reopened) << reopened.error().message();
  auto& log = *reopened.value();
  EXPECT_EQ(log.head().value, 200U);
  EXPECT_EQ(positions(log.read_all(Position{0}, 1000).value()), range(1, 200));
  const auto report = log.verify().value();
  EXPECT_EQ(report.broken, std::nullopt);
  EXPECT_EQ(report.checked.value, 200U);
  ASSERT_TRUE(log.append(req({to("s0", kAny, {ev("after")})})));
  EXPECT_EQ(log.head().value, 201U);
}

TEST_F(LogTest, KeyAndEventsSurviveAKillTogether) {
  const auto crash_dir = dir_.path() / "crash";
  int out[2];
  ASSERT_EQ(pipe(out), 0);
  const pid_t child = fork();
  ASSERT_GE(child, 0);
  if (child == 0) {
    dup2(out[1], STDOUT_FILENO);
    close(out[0]);
    close(out[1]);
    setenv("TESSERA_LOG_CRASH_DIR", crash_dir.c_str(), 1);
    execl("/proc/self/exe", "log_test", "--gtest_filter=LogCrashChild.*", static_cast<char*>(nullptr));
    _exit(127);
  }
  close(out[1]);
  // Let it get going, then kill it in the middle of whatever it does.
  FILE* from_child = fdopen(out[0], "r");
  char line[256];
  std::uint64_t reported = 0;
  while (reported < 300 && std::fgets(line, sizeof line, from_child) != nullptr) {
    unsigned long long n = 0;
    if (std::sscanf(line, "appended %llu", &n) == 1) reported = n;
  }
  kill(child, SIGKILL);
  int status = 0;
  waitpid(child, &status, 0);
  std::fclose(from_child);
  ASSERT_GE(reported, 300U) << "the child stopped early";
  ASSERT_TRUE(WIFSIGNALED(status));

  auto log = Log::open(crash_dir).value();
  EXPECT_FALSE(log->verify().value().broken.has_value());
  const auto events = log->read_all(Position{0}, 10'000'000).value();
  ASSERT_EQ(events.size() % 2, 0U);
  const std::uint64_t appended = events.size() / 2;  // requests whose events are in the log
  EXPECT_GE(appended, reported);                     // everything reported durable is
  for (std::uint64_t i = 0; i < appended + 10; ++i) {
    const std::string key = cat("k", std::to_string(i));
    const auto found = log->find_idempotency_key(key).value();
    if (i >= appended) {
      EXPECT_FALSE(found.has_value()) << key << " is recorded without its events";
      continue;
    }
    ASSERT_TRUE(found.has_value()) << key << "'s events are in the log without it";
    ASSERT_EQ(found->result.last.value, found->result.first.value + 1);
    for (const auto& e : {events[found->result.first.value - 1], events[found->result.last.value - 1]}) {
      EXPECT_EQ(e.payload, key);
    }
  }
}

}  // namespace
