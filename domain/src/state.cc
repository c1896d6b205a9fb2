#include "tessera/domain/state.h"

#include <algorithm>

#include "overloaded.h"
#include "tessera/domain/batch_rules.h"

namespace tessera::domain {

using detail::Overloaded;

// Each evolve() ignores events of other aggregates: a stream holds only its
// own aggregate's events, and ignoring keeps folding total.

ContractState evolve(ContractState state, const Event& event) {
  std::visit(Overloaded{
                 [&](const ContractCreated& e) {
                   state.exists = true;
                   state.terms = e;
                 },
                 [&](const ContractConfigured& e) {
                   state.terms.name = e.name;
                   state.terms.reuse_cancelled_codes = e.reuse_cancelled_codes;
                   state.terms.default_price = e.default_price;
                 },
                 [](const auto&) {},
             },
             event);
  return state;
}

SessionState evolve(SessionState state, const Event& event) {
  std::visit(Overloaded{
                 [&](const SessionCreated& e) {
                   state.exists = true;
                   state.terms = e;
                   state.capacity = e.capacity;
                 },
                 [&](const SessionCapacityChanged& e) { state.capacity = e.capacity; },
                 [&](const SessionEdited& e) {
                   state.terms.name = e.name;
                   state.terms.opens_at = e.opens_at;
                 },
                 [&](const SeatReserved& e) {
                   ++state.reserved;
                   if (e.over_capacity) ++state.capacity;
                 },
                 [&](const SeatReleased&) { --state.reserved; },
                 [&](const SeatRegistered& e) {
                   if (e.invitation) --state.reserved;
                   ++state.registered;
                 },
                 [&](const SeatFreed&) { --state.registered; },
                 [](const auto&) {},
             },
             event);
  return state;
}

bool BatchState::ready() const { return exists && batch_status(generated, terms.quantity) == BatchStatus::ready; }

BatchState evolve(BatchState state, const Event& event) {
  if (const auto* generated = std::get_if<BatchGenerated>(&event)) {
    state.exists = true;
    state.terms = *generated;
    state.generated = codes_issued_with(*generated);
  } else if (const auto* chunk = std::get_if<BatchChunkIssued>(&event)) {
    state.generated = chunk->from + chunk->count;
  }
  return state;
}

CodeState evolve(CodeState state, const Event& event) {
  auto detach = [&](const InvitationId& id) {
    std::erase_if(state.pending, [&](const PendingInvitation& p) { return p.invitation == id; });
  };
  std::visit(Overloaded{
                 [&](const CodeIssued& e) {
                   state.exists = true;
                   state.org = e.org;
                   state.code = e.code;
                   state.batch = e.batch;
                   state.assignee = e.assignee;
                   state.price = e.price;
                 },
                 [&](const CodeAssigned& e) { state.assignee = e.participant; },
                 [&](const CodeEdited& e) {
                   if (e.note) state.note = e.note;
                   if (e.price) state.price = e.price;
                   if (e.valid_from) state.valid_from = e.valid_from;
                   if (e.valid_until) state.valid_until = e.valid_until;
                 },
                 [&](const CodeArchived&) { state.archived = true; },
                 [&](const CodeDeleted&) { state.deleted = true; },
                 [&](const CodeInvitationAttached& e) {
                   state.pending.push_back({e.invitation, e.session});
                 },
                 [&](const CodeInvitationDetached& e) { detach(e.invitation); },
                 [&](const CodeRedeemed& e) {
                   ++state.uses;
                   ++state.redemptions_ever;
                   if (e.invitation) detach(*e.invitation);
                   for (const auto& id : e.superseded) detach(id);
                 },
                 [&](const CodeUseReleased& e) {
                   --state.uses;
                   if (e.unassign) state.assignee.reset();
                 },
                 [](const auto&) {},
             },
             event);
  return state;
}

InvitationState evolve(InvitationState state, const Event& event) {
  std::visit(Overloaded{
                 [&](const InvitationSent& e) {
                   state.exists = true;
                   state.terms = e;
                   state.status = InvitationStatus::pending;
                 },
                 [&](const InvitationCancelled&) { state.status = InvitationStatus::cancelled; },
                 [&](const InvitationExpired&) { state.status = InvitationStatus::expired; },
                 [&](const InvitationSuperseded&) { state.status = InvitationStatus::superseded; },
                 [&](const InvitationAccepted&) { state.status = InvitationStatus::accepted; },
                 [](const auto&) {},
             },
             event);
  return state;
}

RegistrationState evolve(RegistrationState state, const Event& event) {
  std::visit(Overloaded{
                 [&](const RegistrationCreated& e) {
                   state.exists = true;
                   state.terms = e;
                 },
                 [&](const RegistrationCancelled&) { state.status = RegistrationStatus::cancelled; },
                 [&](const RegistrationRevoked&) { state.status = RegistrationStatus::revoked; },
                 [&](const RegistrationAccessChanged& e) { state.terms.access_until = e.access_until; },
                 [](const auto&) {},
             },
             event);
  return state;
}

AggregateState evolve(AggregateState state, const Event& event) {
  if (std::holds_alternative<std::monostate>(state)) {
    state = std::visit(Overloaded{
                           [](const ContractCreated&) -> AggregateState { return ContractState{}; },
                           [](const SessionCreated&) -> AggregateState { return SessionState{}; },
                           [](const BatchGenerated&) -> AggregateState { return BatchState{}; },
                           [](const CodeIssued&) -> AggregateState { return CodeState{}; },
                           [](const InvitationSent&) -> AggregateState { return InvitationState{}; },
                           [](const RegistrationCreated&) -> AggregateState { return RegistrationState{}; },
                           [](const auto&) -> AggregateState { return std::monostate{}; },
                       },
                       event);
  }
  return std::visit(Overloaded{
                        [](std::monostate s) -> AggregateState { return s; },
                        [&](auto s) -> AggregateState { return evolve(std::move(s), event); },
                    },
                    std::move(state));
}

std::string_view to_string(InvitationStatus status) {
  switch (status) {
    case InvitationStatus::pending:
      return "pending";
    case InvitationStatus::accepted:
      return "accepted";
    case InvitationStatus::cancelled:
      return "cancelled";
    case InvitationStatus::superseded:
      return "superseded";
    case InvitationStatus::expired:
      return "expired";
  }
  return "unknown";
}

std::string_view to_string(RegistrationStatus status) {
  switch (status) {
    case RegistrationStatus::active:
      return "active";
    case RegistrationStatus::cancelled:
      return "cancelled";
    case RegistrationStatus::revoked:
      return "revoked";
  }
  return "unknown";
}

}  // namespace tessera::domain
