// The state of each aggregate, folded from its events by evolve(). A default
// constructed state is "no such aggregate yet" (exists == false). States hold
// only what decide() needs; read models live in projections/.
#pragma once

#include <cstdint>
#include <optional>
#include <string>

#include "tessera/domain/events.h"

namespace tessera::domain {

struct ContractState {
  bool exists = false;
  ContractCreated terms;
};

struct SessionState {
  bool exists = false;
  SessionCreated terms;
  std::uint32_t capacity = 0;
  std::uint32_t reserved = 0;  // pending invitations
  std::uint32_t registered = 0;
  std::uint32_t occupied() const { return reserved + registered; }
};

struct BatchState {
  bool exists = false;
  BatchGenerated terms;
};

struct CodeState {
  bool exists = false;
  OrgId org;
  std::string code;
  BatchId batch;
  std::optional<Participant> assignee;
  std::uint32_t uses = 0;
};

struct RegistrationState {
  bool exists = false;
  RegistrationCreated terms;
};

// One aggregate of any kind, as the command pipeline caches it.
using AggregateState =
    std::variant<std::monostate, ContractState, SessionState, BatchState, CodeState, RegistrationState>;

ContractState evolve(ContractState state, const Event& event);
SessionState evolve(SessionState state, const Event& event);
BatchState evolve(BatchState state, const Event& event);
CodeState evolve(CodeState state, const Event& event);
RegistrationState evolve(RegistrationState state, const Event& event);

// Folds an event into whichever aggregate it belongs to; a monostate becomes
// the aggregate that the event creates.
AggregateState evolve(AggregateState state, const Event& event);

}  // namespace tessera::domain
