#include "mix.h"

#include <algorithm>
#include <atomic>
#include <condition_variable>
#include <future>
#include <latch>
#include <memory>
#include <thread>
#include <utility>

#include "common.h"
#include "tessera/domain/streams.h"

namespace tessera::bench {
namespace {

namespace d = tessera::domain;
namespace pl = tessera::pipeline;

constexpr std::uint32_t kCodesPerBatch = 1'000;
constexpr std::size_t kSessions = 64;
// Bounds on the stocks: the oldest entries go first.
constexpr std::size_t kStockLimit = 100'000;
constexpr std::size_t kEditedAmong = 4'096;
constexpr std::size_t kPendingAtStart = 256;

struct Share {
  Kind kind;
  std::uint32_t per_cycle;
  std::uint32_t events;  // each command appends
};
// 1,001 + 333 + 66 + 99 + 60 + 40 + 40 + 27 = 1,666 events a cycle.
constexpr std::array<Share, kKinds> kShares = {{
    {Kind::generate, 1, kCodesPerBatch + 1},  // BatchGenerated, CodeIssued each
    {Kind::redeem, 111, 3},                   // CodeRedeemed, SeatRegistered, RegistrationCreated
    {Kind::invite, 33, 2},                    // InvitationSent, SeatReserved
    {Kind::claim, 33, 3},                     // InvitationAccepted, SeatRegistered, RegistrationCreated
    {Kind::revoke, 20, 3},                    // RegistrationRevoked, SeatFreed, CodeUseReleased (from a redemption)
    {Kind::cancel, 20, 2},                    // RegistrationCancelled, SeatFreed
    {Kind::edit_code, 40, 1},                 // CodeEdited
    {Kind::edit_session, 27, 1},              // SessionEdited
}};

constexpr std::array<const char*, kKinds> kNames = {"generate", "redeem", "invite",    "claim",
                                                    "revoke",   "cancel", "edit_code", "edit_session"};

std::size_t index(Kind kind) { return static_cast<std::size_t>(kind); }

// The cycle: each kind's commands at evenly spaced places, the batch first
// (so the first redemptions find codes).
std::vector<Kind> make_cycle() {
  std::vector<std::pair<double, Kind>> slots;
  for (const auto& share : kShares) {
    for (std::uint32_t i = 0; i < share.per_cycle; ++i) {
      slots.emplace_back(static_cast<double>(i) / share.per_cycle, share.kind);
    }
  }
  std::ranges::stable_sort(slots, {}, [](const auto& slot) { return slot.first; });
  std::vector<Kind> cycle;
  for (const auto& slot : slots) cycle.push_back(slot.second);
  return cycle;
}

std::string numbered(std::string_view text, std::uint64_t serial) {
  std::string out(text);
  out.append(std::to_string(serial));
  return out;
}

d::Participant participant(std::uint64_t serial) {
  d::Participant p;
  p.email = numbered("p", serial).append("@bench.example");
  return p;
}

template <class T>
void keep(std::deque<T>& stock, T value) {
  stock.push_back(std::move(value));
  if (stock.size() > kStockLimit) stock.pop_front();
}

template <class T>
std::optional<T> take(std::deque<T>& stock) {
  if (stock.empty()) return std::nullopt;
  T value = std::move(stock.front());
  stock.pop_front();
  return value;
}

}  // namespace

Mix::Mix(pl::Pipeline& pipeline) : pipeline_(pipeline), contract_(pipeline.new_id()), cycle_(make_cycle()) {
  run(pipeline_, contract_command(contract_.str()), "CreateContract");
  for (std::size_t s = 0; s < kSessions; ++s) {
    d::SessionId session{pipeline_.new_id()};
    run(pipeline_, d::CreateSession{kOrg, session, "Session", d::kMaxCapacity, contract_, std::nullopt},
        "CreateSession");
    sessions_.push_back(std::move(session));
  }
  // Invitations in stock before the cycle starts: each claim follows its
  // invitation closely, and takes the oldest one pending instead.
  std::vector<std::future<result<pl::Accepted>>> invited;
  for (std::size_t i = 0; i < kPendingAtStart; ++i) {
    auto next = this->next_of(Kind::invite);
    invited.push_back(pipeline_.submit(std::move(next.command)));
  }
  for (auto& answer : invited) answered(Kind::invite, answer.get());
}

Mix::Next Mix::next() {
  std::lock_guard lock(mutex_);
  const Kind kind = cycle_[at_];
  at_ = (at_ + 1) % cycle_.size();
  return next_of(kind);
}

Mix::Next Mix::next_of(Kind kind) {
  const std::uint64_t serial = ++serial_;
  const d::SessionId& session = sessions_[serial % sessions_.size()];
  std::optional<d::Command> command;
  switch (kind) {
    case Kind::generate: {
      auto g = generate_command(pipeline_.new_id(), contract_, kCodesPerBatch);
      g.session = session;
      command = std::move(g);
      break;
    }
    case Kind::redeem:
      if (auto code = take(unredeemed_)) {
        command = d::Redeem{
            kOrg, std::move(*code), participant(serial), std::nullopt, d::RegistrationId{pipeline_.new_id()}, {}};
      }
      break;
    case Kind::invite: {
      d::Invite invite;
      invite.org = kOrg;
      invite.invitation = d::InvitationId{pipeline_.new_id()};
      invite.session = session;
      invite.participant = participant(serial);
      command = std::move(invite);
      break;
    }
    case Kind::claim:
      if (auto invitation = take(pending_)) {
        command = d::ClaimInvitation{std::move(*invitation), std::nullopt, d::RegistrationId{pipeline_.new_id()}, {}};
      }
      break;
    case Kind::revoke:
      if (auto registration = take(active_)) command = d::RevokeRegistration{kOrg, std::move(*registration), {}};
      break;
    case Kind::cancel:
      if (auto registration = take(active_)) command = d::CancelRegistration{kOrg, std::move(*registration), {}};
      break;
    case Kind::edit_code:
      // Among the newest codes: redemptions take the oldest, and a code
      // once used cannot be edited.
      if (!unredeemed_.empty()) {
        d::EditCode edit;
        edit.org = kOrg;
        edit.code_key = unredeemed_[unredeemed_.size() - 1 - serial % std::min(unredeemed_.size(), kEditedAmong)];
        edit.note = numbered("note ", serial);
        command = std::move(edit);
      }
      break;
    case Kind::edit_session:
      break;
  }
  if (!command) {
    if (kind != Kind::edit_session) ++substituted_[index(kind)];
    kind = Kind::edit_session;
    d::EditSession edit;
    edit.org = kOrg;
    edit.session = session;
    edit.name = numbered("Session ", serial);
    command = std::move(edit);
  }
  ++sent_[index(kind)];
  return Next{std::move(*command), kind, kShares[index(kind)].events};
}

void Mix::answered(Kind kind, const result<pl::Accepted>& answer) {
  std::lock_guard lock(mutex_);
  if (!answer) {
    ++refused_[index(kind)];
    return;
  }
  for (const auto& event : answer.value().events) {
    std::visit(
        [&](const auto& e) {
          using E = std::decay_t<decltype(e)>;
          if constexpr (std::is_same_v<E, d::CodeIssued>) {
            auto key = d::code_key_of_stream(event.stream);
            if (!key) return;
            keep(unredeemed_, std::move(*key));
          } else if constexpr (std::is_same_v<E, d::InvitationSent>) {
            keep(pending_, e.invitation);
          } else if constexpr (std::is_same_v<E, d::RegistrationCreated>) {
            keep(active_, e.registration);
          }
        },
        event.event);
  }
}

nlohmann::json Mix::counts() const {
  std::lock_guard lock(mutex_);
  nlohmann::json out = nlohmann::json::object();
  for (std::size_t k = 0; k < kKinds; ++k) {
    out[kNames[k]] = {{"sent", sent_[k]}, {"refused", refused_[k]}, {"substituted", substituted_[k]}};
  }
  return out;
}

void run_closed_loop(pl::Pipeline& pipeline, Mix& mix, int clients, const std::function<bool()>& stop) {
  std::latch stopped(clients);
  // A client sends its next command from the callback of its last answer.
  std::function<void()> send = [&] {
    if (stop()) {
      stopped.count_down();
      return;
    }
    auto next = mix.next();
    pipeline.submit(std::move(next.command), std::nullopt, std::nullopt,
                    [&, kind = next.kind](result<pl::Accepted> answer) {
                      mix.answered(kind, answer);
                      send();
                    });
  };
  for (int c = 0; c < clients; ++c) send();
  stopped.wait();
}

std::uint64_t run_open_loop(pl::Pipeline& pipeline, Mix& mix, double events_per_s, double seconds) {
  std::mutex mutex;
  std::condition_variable all_answered;
  std::uint64_t outstanding = 0;
  std::uint64_t events = 0;
  const auto start = Clock::now();
  const auto until = start + std::chrono::duration_cast<Clock::duration>(std::chrono::duration<double>(seconds));
  for (;;) {
    const auto due = start + std::chrono::duration_cast<Clock::duration>(
                                 std::chrono::duration<double>(static_cast<double>(events) / events_per_s));
    if (due >= until) break;
    std::this_thread::sleep_until(due);
    auto next = mix.next();
    events += next.events;
    {
      std::lock_guard lock(mutex);
      ++outstanding;
    }
    pipeline.submit(std::move(next.command), std::nullopt, std::nullopt,
                    [&, kind = next.kind](result<pl::Accepted> answer) {
                      mix.answered(kind, answer);
                      std::lock_guard lock(mutex);
                      if (--outstanding == 0) all_answered.notify_all();
                    });
  }
  std::unique_lock lock(mutex);
  all_answered.wait(lock, [&] { return outstanding == 0; });
  return events;
}

}  // namespace tessera::bench
