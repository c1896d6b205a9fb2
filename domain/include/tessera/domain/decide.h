// decide(): given a command and the state of every aggregate it touches,
// the events that carry it out, or the rejection that explains why not.
// Pure: no I/O, no clock, no randomness; the same inputs give the same answer.
//
// The caller loads the states (a default state means "does not exist"),
// appends the events with each stream's version as its expected version, and
// folds them back with evolve().
#pragma once

#include <vector>

#include "tessera/domain/commands.h"
#include "tessera/domain/result.h"
#include "tessera/domain/state.h"

namespace tessera::domain {

using Events = std::vector<StreamEvent>;

Result<Events> decide(const CreateContract& command, const ContractState& contract);

// `contract` is consulted only when the command names one.
Result<Events> decide(const CreateSession& command, const SessionState& session,
                      const ContractState& contract);

// `session` is consulted only when the command names one. Code uniqueness
// across the store is the caller's (and the log's) duty; decide() checks the
// values are distinct among themselves and that there is one per code.
Result<Events> decide(const GenerateBatch& command, const BatchState& batch,
                      const ContractState& contract, const SessionState& session);

// Everything a redemption is decided against.
struct RedeemContext {
  const CodeState& code;
  const BatchState& batch;
  const ContractState& contract;
  const SessionState& session;  // the session the redemption is for
  const RegistrationState& registration;  // must not exist yet
};
Result<Events> decide(const Redeem& command, const RedeemContext& context);

}  // namespace tessera::domain
