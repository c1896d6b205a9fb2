#include "tessera/domain/state.h"

#include "overloaded.h"

namespace tessera::domain {

using detail::Overloaded;

// Each evolve() ignores events of other aggregates: a stream holds only its
// own aggregate's events, and ignoring keeps folding total.

ContractState evolve(ContractState state, const Event& event) {
  if (const auto* created = std::get_if<ContractCreated>(&event)) {
    state.exists = true;
    state.terms = *created;
  }
  return state;
}

SessionState evolve(SessionState state, const Event& event) {
  std::visit(Overloaded{
                 [&](const SessionCreated& e) {
                   state.exists = true;
                   state.terms = e;
                   state.capacity = e.capacity;
                 },
                 [&](const SeatRegistered&) { ++state.registered; },
                 [](const auto&) {},
             },
             event);
  return state;
}

BatchState evolve(BatchState state, const Event& event) {
  if (const auto* generated = std::get_if<BatchGenerated>(&event)) {
    state.exists = true;
    state.terms = *generated;
  }
  return state;
}

CodeState evolve(CodeState state, const Event& event) {
  std::visit(Overloaded{
                 [&](const CodeIssued& e) {
                   state.exists = true;
                   state.org = e.org;
                   state.code = e.code;
                   state.batch = e.batch;
                   state.assignee = e.assignee;
                 },
                 [&](const CodeRedeemed&) { ++state.uses; },
                 [](const auto&) {},
             },
             event);
  return state;
}

RegistrationState evolve(RegistrationState state, const Event& event) {
  if (const auto* created = std::get_if<RegistrationCreated>(&event)) {
    state.exists = true;
    state.terms = *created;
  }
  return state;
}

AggregateState evolve(AggregateState state, const Event& event) {
  if (std::holds_alternative<std::monostate>(state)) {
    state = std::visit(Overloaded{
                           [](const ContractCreated&) -> AggregateState { return ContractState{}; },
                           [](const SessionCreated&) -> AggregateState { return SessionState{}; },
                           [](const BatchGenerated&) -> AggregateState { return BatchState{}; },
                           [](const CodeIssued&) -> AggregateState { return CodeState{}; },
                           [](const RegistrationCreated&) -> AggregateState {
                             return RegistrationState{};
                           },
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

}  // namespace tessera::domain
