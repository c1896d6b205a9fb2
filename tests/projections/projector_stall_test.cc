// The local projector and an event it cannot fold (projections/stall.h): it
// stops at that event, the models stay at the event before, nothing after it
// is applied (on any stream), the status says where and why, it retries, and
// a restart stops at the same event rather than skip it. And the report:
// one error line per stop, not one per retry.
#include <gtest/gtest.h>
#include <spdlog/sinks/ringbuffer_sink.h>
#include <spdlog/spdlog.h>

#include <chrono>
#include <memory>
#include <thread>

#include "temp_dir.h"
#include "tessera/codec/json.h"
#include "tessera/eventstore/errc.h"
#include "tessera/eventstore/log.h"
#include "tessera/projections/projector.h"
#include "tessera/projections/read_models.h"
#include "tessera/projections/stall.h"

namespace tessera::test_support {
namespace {

namespace d = tessera::domain;
using namespace std::chrono_literals;
using eventstore::Position;
using projections::ReadModels;

eventstore::ProposedEvent proposed(const d::Event& event, std::uint16_t schema = d::kEventSchemaVersion) {
  return {std::string(d::event_type(event)), schema, codec::encode_event(event)};
}

void append(eventstore::Log& log, const std::string& stream, eventstore::ProposedEvent event) {
  eventstore::AppendRequest request;
  request.writes.push_back({stream, std::nullopt, {std::move(event)}});
  const auto appended = log.append(request);
  ASSERT_TRUE(appended) << appended.error().message();
}

// Waits until the projector reports a stop; its status then.
projections::ProjectorStatus wait_stalled(const projections::Projector& projector) {
  const auto deadline = std::chrono::steady_clock::now() + 10s;
  while (!projector.status().stalled && std::chrono::steady_clock::now() < deadline) std::this_thread::sleep_for(5ms);
  return projector.status();
}

class LocalProjector : public ::testing::Test {
 protected:
  void SetUp() override {
    auto opened = eventstore::Log::open(dir.path() / "log");
    ASSERT_TRUE(opened) << opened.error().message();
    log = std::move(opened).value();
    auto models_opened = ReadModels::open(dir.path() / "readmodels");
    ASSERT_TRUE(models_opened) << models_opened.error().message();
    models = std::move(models_opened).value();

    const std::string session = "session-acme-s1";
    append(*log, session, proposed(d::SessionCreated{org, d::SessionId("s1"), "S1", 3, std::nullopt, std::nullopt}));
    append(*log, session, proposed(d::SeatReserved{d::InvitationId("i1"), false}));
    // Position 3: an event of a schema this binary does not know.
    append(*log, session, proposed(d::SeatReserved{d::InvitationId("i2"), false}, 99));
    append(*log, session, proposed(d::SeatReserved{d::InvitationId("i3"), false}));
    append(*log, "contract-acme-c1", proposed(d::ContractCreated{org, d::ContractId("c1"), "C1", false, std::nullopt}));
  }

  void expect_models_before_the_stop() {
    EXPECT_EQ(models->checkpoint(), Position{2});
    const auto seats = models->seats(org, d::SessionId("s1"));
    ASSERT_TRUE(seats && seats.value());
    EXPECT_EQ(seats.value()->reserved, 1u);
    const auto contract = models->contract(org, d::ContractId("c1"));
    ASSERT_TRUE(contract);
    EXPECT_FALSE(contract.value()) << "an event after the stop was applied";
  }

  TempDir dir{"tessera-projector-stall"};
  d::OrgId org{"acme"};
  std::unique_ptr<eventstore::Log> log;
  std::unique_ptr<ReadModels> models;
};

TEST_F(LocalProjector, StopsAtAnEventThatDoesNotDecodeAndAppliesNothingAfterIt) {
  {
    projections::Projector projector(*log, *models, 20ms);
    const auto status = wait_stalled(projector);
    ASSERT_TRUE(status.stalled);
    EXPECT_EQ(status.stalled->at, Position{3});
    EXPECT_NE(status.stalled->reason.find("schema 99"), std::string::npos) << status.stalled->reason;
    EXPECT_NE(status.stalled->reason.find("position 3"), std::string::npos) << status.stalled->reason;
    expect_models_before_the_stop();

    // It reads the event again, periodically, and stays where it stopped.
    const auto deadline = std::chrono::steady_clock::now() + 10s;
    while (projector.status().stalled->attempts < 3 && std::chrono::steady_clock::now() < deadline) {
      std::this_thread::sleep_for(5ms);
    }
    EXPECT_GE(projector.status().stalled->attempts, 3u);
    expect_models_before_the_stop();
  }
  // A restart (the same binary) stops at the same event: it never skips it.
  projections::Projector restarted(*log, *models, 20ms);
  const auto status = wait_stalled(restarted);
  ASSERT_TRUE(status.stalled);
  EXPECT_EQ(status.stalled->at, Position{3});
  expect_models_before_the_stop();
}

TEST_F(LocalProjector, ReadModelsApplyNothingOfABatchWithAnEventThatDoesNotDecode) {
  auto events = log->read_all(Position{0}, 100);
  ASSERT_TRUE(events) << events.error().message();
  ASSERT_EQ(events.value().size(), 5u);
  const auto applied = models->apply(events.value());
  ASSERT_FALSE(applied);
  EXPECT_EQ(applied.error(), eventstore::errc::corruption);
  EXPECT_NE(applied.error().message().find("position 3"), std::string::npos) << applied.error().message();
  EXPECT_EQ(models->checkpoint(), Position{0});
  EXPECT_FALSE(projections::decode(events.value()[2]));
  EXPECT_TRUE(projections::decode(events.value()[3]));
}

// Long enough that the read models decode it on a helper thread ahead of
// the fold (src/decoded_ahead.h): the first event that does not decode still
// fails the whole batch, and the projector still stops just before it.
TEST(LongBatches, AreDecodedAheadAndStillStopAtTheFirstEventThatDoesNotDecode) {
  TempDir dir{"tessera-projector-stall"};
  auto opened = eventstore::Log::open(dir.path() / "log");
  ASSERT_TRUE(opened) << opened.error().message();
  auto log = std::move(opened).value();
  auto models_opened = ReadModels::open(dir.path() / "readmodels");
  ASSERT_TRUE(models_opened) << models_opened.error().message();
  auto models = std::move(models_opened).value();

  const d::OrgId org{"acme"};
  constexpr std::uint64_t kEvents = 5'000;
  constexpr std::uint64_t kFirstUndecodable = 3'001;  // and another later
  eventstore::AppendRequest request;
  request.writes.push_back({"session-acme-s1", std::nullopt, {}});
  auto& events = request.writes.back().events;
  events.push_back(proposed(d::SessionCreated{org, d::SessionId("s1"), "S1", 100'000, std::nullopt, std::nullopt}));
  for (std::uint64_t p = 2; p <= kEvents; ++p) {
    const bool undecodable = p == kFirstUndecodable || p == kFirstUndecodable + 500;
    events.push_back(proposed(d::SeatReserved{d::InvitationId(std::string("i").append(std::to_string(p))), false},
                              undecodable ? 99 : 1));
  }
  ASSERT_TRUE(log->append(request));

  auto read = log->read_all(Position{0}, kEvents);
  ASSERT_TRUE(read && read.value().size() == kEvents);
  const auto applied = models->apply(read.value());
  ASSERT_FALSE(applied);
  EXPECT_NE(applied.error().message().find("position " + std::to_string(kFirstUndecodable)), std::string::npos)
      << applied.error().message();
  EXPECT_EQ(models->checkpoint(), Position{0});

  projections::Projector projector(*log, *models, 20ms);
  const auto status = wait_stalled(projector);
  ASSERT_TRUE(status.stalled);
  EXPECT_EQ(status.stalled->at, Position{kFirstUndecodable});
  EXPECT_EQ(models->checkpoint(), Position{kFirstUndecodable - 1});
  const auto seats = models->seats(org, d::SessionId("s1"));
  ASSERT_TRUE(seats && seats.value());
  EXPECT_EQ(seats.value()->reserved, kFirstUndecodable - 2);
}

// The log lines of a stop, captured from spdlog's default logger.
class StallLines : public ::testing::Test {
 protected:
  void SetUp() override {
    previous_ = spdlog::default_logger();
    sink_ = std::make_shared<spdlog::sinks::ringbuffer_sink_mt>(1000);
    spdlog::set_default_logger(std::make_shared<spdlog::logger>("stall-test", sink_));
  }
  void TearDown() override { spdlog::set_default_logger(previous_); }

  std::size_t lines(spdlog::level::level_enum level) const {
    std::size_t n = 0;
    for (const auto& line : sink_->last_raw()) n += line.level == level ? 1 : 0;
    return n;
  }

  std::shared_ptr<spdlog::logger> previous_;
  std::shared_ptr<spdlog::sinks::ringbuffer_sink_mt> sink_;
};

TEST_F(StallLines, OneErrorPerStopNotOnePerRetry) {
  projections::StallReport<int> report(
      "test projector", [](const int& at) { return "event " + std::to_string(at); }, std::chrono::hours(1));
  EXPECT_FALSE(report.current());
  for (int i = 0; i < 100; ++i) report.stalled(7, "does not decode");
  EXPECT_EQ(lines(spdlog::level::err), 1u);
  EXPECT_EQ(lines(spdlog::level::warn), 0u);
  ASSERT_TRUE(report.current());
  EXPECT_EQ(report.current()->at, 7);
  EXPECT_EQ(report.current()->attempts, 100u);

  // Another event, or another reason, is another stop.
  report.stalled(8, "does not decode");
  report.stalled(8, "the disk failed");
  EXPECT_EQ(lines(spdlog::level::err), 3u);
  report.moved_on();
  report.moved_on();
  EXPECT_EQ(lines(spdlog::level::info), 1u);
  EXPECT_FALSE(report.current());
}

TEST_F(StallLines, AReminderWhileItStaysStopped) {
  projections::StallReport<int> report(
      "test projector", [](const int& at) { return "event " + std::to_string(at); }, std::chrono::milliseconds(0));
  report.stalled(7, "does not decode");
  report.stalled(7, "does not decode");
  report.stalled(7, "does not decode");
  EXPECT_EQ(lines(spdlog::level::err), 1u);
  EXPECT_EQ(lines(spdlog::level::warn), 2u);
}

}  // namespace
}  // namespace tessera::test_support
