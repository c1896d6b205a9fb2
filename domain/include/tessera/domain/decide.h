// decide(): given a command and the state of every aggregate it touches,
// the events that carry it out, or the rejection that explains why not.
// Pure: no I/O, no clock, no randomness; the same inputs give the same answer.
//
// The caller loads the states (a default state means "does not exist"),
// appends the events with each stream's version as its expected version, and
// folds them back with evolve(). An accepted command may decide no events
// (archiving an archived code): nothing to append, nothing changed.
#pragma once

#include <vector>

#include "tessera/domain/commands.h"
#include "tessera/domain/result.h"
#include "tessera/domain/state.h"

namespace tessera::domain {

using Events = std::vector<StreamEvent>;

result<Events> decide(const CreateContract& command, const ContractState& contract);
result<Events> decide(const ConfigureContract& command, const ContractState& contract);

// `contract` is consulted only when the command names one.
result<Events> decide(const CreateSession& command, const SessionState& session, const ContractState& contract);
result<Events> decide(const ChangeCapacity& command, const SessionState& session);
result<Events> decide(const EditSession& command, const SessionState& session);

// `session` is consulted only when the command names one. Code uniqueness
// across the store is the caller's (and the log's) duty; decide() checks the
// values are distinct among themselves and that there is one per code.
result<Events> decide(const GenerateBatch& command, const BatchState& batch, const ContractState& contract,
                      const SessionState& session);
// The next chunk of a batch generated in chunks; no events once it is ready.
result<Events> decide(const IssueBatchChunk& command, const BatchState& batch);

// How many fresh code values the command must carry in `codes` (the caller
// draws them): every code of a batch decided at once, none for a batch
// generated in chunks, and none for one decide() will refuse for its size or
// prefix (it says why); for a chunk, the next chunk's size.
std::uint32_t codes_to_draw(const GenerateBatch& command);
std::uint32_t codes_to_draw(const IssueBatchChunk& command, const BatchState& batch);

// Whether an accepted GenerateBatch's events start a job: its chunks are
// then to be issued, one IssueBatchChunk after another, until one decides
// nothing.
bool starts_chunks(const Events& events);

// A code and the terms of its batch.
struct CodeContext {
  const CodeState& code;
  const BatchState& batch;
};
result<Events> decide(const AssignCode& command, const CodeContext& context);
result<Events> decide(const EditCode& command, const CodeContext& context);
result<Events> decide(const ArchiveCode& command, const CodeState& code);
result<Events> decide(const DeleteCode& command, const CodeState& code);

// `code` and `batch` are consulted only when the command names a code.
struct InviteContext {
  const InvitationState& invitation;  // must not exist yet
  const SessionState& session;
  const CodeState& code;
  const BatchState& batch;
};
result<Events> decide(const Invite& command, const InviteContext& context);
result<Events> decide(const ResendInvitation& command, const InvitationState& invitation);
result<Events> decide(const CancelInvitation& command, const InvitationState& invitation);
result<Events> decide(const ExpireInvitation& command, const InvitationState& invitation);

// `contract` prices the registration: the code's batch's contract, or, for an
// invitation without a code, the session's contract (default state if none).
struct ClaimContext {
  const InvitationState& invitation;
  const SessionState& session;
  const CodeState& code;
  const BatchState& batch;
  const ContractState& contract;
  const RegistrationState& registration;  // must not exist yet
};
result<Events> decide(const ClaimInvitation& command, const ClaimContext& context);

// Everything a redemption is decided against.
struct RedeemContext {
  const CodeState& code;
  const BatchState& batch;
  const ContractState& contract;          // the batch's contract
  const SessionState& session;            // the session the redemption is for
  const RegistrationState& registration;  // must not exist yet
};
result<Events> decide(const Redeem& command, const RedeemContext& context);

// `contract` holds the reuse policy: the code's batch's contract (a default
// state for a registration without a code).
struct CancelContext {
  const RegistrationState& registration;
  const ContractState& contract;
};
result<Events> decide(const CancelRegistration& command, const CancelContext& context);
result<Events> decide(const RevokeRegistration& command, const RegistrationState& registration);
result<Events> decide(const ChangeAccess& command, const RegistrationState& registration);

// The key of a code's stream from the display form recorded in events.
std::string code_key_of(std::string_view display);

}  // namespace tessera::domain
