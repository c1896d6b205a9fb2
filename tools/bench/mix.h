// The projection bench's workload (tessera-bench project): a fixed mix of
// commands, per 100 events appended about 60 CodeIssued (GenerateBatch
// commands of 1,000 codes), 20 from redemptions, 10 from invitations and
// their claims, and 10 from cancellations, revocations and edits.
//
// The commands come in a fixed cycle (one batch, 111 redemptions, 33
// invitations and 33 claims, 20 revocations, 20 cancellations, 40 code edits
// and 27 session edits: 1,666 events), spread evenly over it. A redemption
// takes a code no earlier command redeemed, a claim an invitation still
// pending, a revocation or a cancellation an active registration: stocks
// filled from the answers, each bounded (memory stays flat however long it
// runs; 256 invitations are sent first to stock claims). A command whose
// stock is empty is sent as a session edit instead, and counted as
// substituted.
//
// Threading: every member may be called from any thread.
#pragma once

#include <nlohmann/json.hpp>

#include <array>
#include <cstdint>
#include <deque>
#include <functional>
#include <mutex>
#include <string>
#include <vector>

#include "tessera/pipeline/pipeline.h"

namespace tessera::bench {

enum class Kind { generate, redeem, invite, claim, revoke, cancel, edit_code, edit_session };
inline constexpr std::size_t kKinds = 8;

class Mix {
 public:
  // Creates the contract and the sessions the mix works in, waiting for
  // each; `pipeline` must outlive the Mix.
  explicit Mix(pipeline::Pipeline& pipeline);

  struct Next {
    domain::Command command;
    Kind kind;
    std::uint32_t events;  // it is expected to append
  };
  Next next();

  // The answer to a command next() gave: takes what it made into the stocks.
  void answered(Kind kind, const result<pipeline::Accepted>& answer);

  // Commands sent, refused and substituted, by kind.
  nlohmann::json counts() const;

 private:
  // A command of `kind`, or its substitute. Called with mutex_ held, or
  // from the constructor, before any other thread can call.
  Next next_of(Kind kind);

  pipeline::Pipeline& pipeline_;
  domain::ContractId contract_;
  std::vector<domain::SessionId> sessions_;
  std::vector<Kind> cycle_;

  mutable std::mutex mutex_;
  std::size_t at_ = 0;  // in cycle_
  std::uint64_t serial_ = 0;
  std::deque<std::string> unredeemed_;  // code keys
  std::deque<domain::InvitationId> pending_;
  std::deque<domain::RegistrationId> active_;
  std::array<std::uint64_t, kKinds> sent_{}, refused_{}, substituted_{};
};

// `clients` closed-loop clients, each a callback chain that sends its next
// command when the last is answered, until `stop()` (asked before each
// send) is true. Returns once every client has had its last answer.
void run_closed_loop(pipeline::Pipeline& pipeline, Mix& mix, int clients, const std::function<bool()>& stop);

// Sends the mix open loop, each command when the events of those before it
// are due at `events_per_s`, for `seconds`, without waiting for answers.
// Returns once every answer has come; the events it sent.
std::uint64_t run_open_loop(pipeline::Pipeline& pipeline, Mix& mix, double events_per_s, double seconds);

}  // namespace tessera::bench
