// The state of each aggregate, folded from its events by evolve(). A default
// constructed state is "no such aggregate yet" (exists == false). States hold
// only what decide() needs; read models live in projections/.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include "tessera/domain/events.h"

namespace tessera::domain {

struct ContractState {
  bool exists = false;
  ContractCreated terms;  // name, reuse policy and default price as now configured
  bool operator==(const ContractState&) const = default;
};

struct SessionState {
  bool exists = false;
  SessionCreated terms;
  std::uint32_t capacity = 0;
  std::uint32_t reserved = 0;  // pending invitations
  std::uint32_t registered = 0;
  std::uint32_t occupied() const { return reserved + registered; }
  bool operator==(const SessionState&) const = default;
};

struct BatchState {
  bool exists = false;
  BatchGenerated terms;
  std::uint32_t generated = 0;  // codes issued so far: quantity, unless in chunks
  // Every code issued (batch_rules.h): only then may its codes be used.
  bool ready() const;
  bool operator==(const BatchState&) const = default;
};

struct PendingInvitation {
  InvitationId invitation;
  SessionId session;
  bool operator==(const PendingInvitation&) const = default;
};

struct CodeState {
  bool exists = false;
  bool archived = false;
  bool deleted = false;
  OrgId org;
  std::string code;
  BatchId batch;
  std::optional<Participant> assignee;
  std::uint32_t uses = 0;
  std::uint32_t redemptions_ever = 0;  // never decreases: a used code is never deleted
  // The code's own values, over the batch's terms.
  std::optional<std::string> note;
  std::optional<Money> price;
  std::optional<Timestamp> valid_from;
  std::optional<Timestamp> valid_until;
  std::vector<PendingInvitation> pending;
  bool operator==(const CodeState&) const = default;
};

enum class InvitationStatus { pending, accepted, cancelled, superseded, expired };

struct InvitationState {
  bool exists = false;
  InvitationSent terms;
  InvitationStatus status = InvitationStatus::pending;
  bool operator==(const InvitationState&) const = default;
  // Pending and not past its expires_at: the only state in which it can be claimed.
  bool claimable(Timestamp now) const {
    return exists && status == InvitationStatus::pending && !(terms.expires_at && now >= *terms.expires_at);
  }
};

enum class RegistrationStatus { active, cancelled, revoked };

struct RegistrationState {
  bool exists = false;
  RegistrationCreated terms;
  RegistrationStatus status = RegistrationStatus::active;
  bool operator==(const RegistrationState&) const = default;
};

// One aggregate of any kind, as the command pipeline caches it.
using AggregateState = std::variant<std::monostate, ContractState, SessionState, BatchState, CodeState, InvitationState,
                                    RegistrationState>;

ContractState evolve(ContractState state, const Event& event);
SessionState evolve(SessionState state, const Event& event);
BatchState evolve(BatchState state, const Event& event);
CodeState evolve(CodeState state, const Event& event);
InvitationState evolve(InvitationState state, const Event& event);
RegistrationState evolve(RegistrationState state, const Event& event);

// Folds an event into whichever aggregate it belongs to; a monostate becomes
// the aggregate that the event creates.
AggregateState evolve(AggregateState state, const Event& event);

std::string_view to_string(InvitationStatus status);
std::string_view to_string(RegistrationStatus status);

}  // namespace tessera::domain
