// The decider harness every test of decisions uses: given events (folded by
// evolve() into per-stream states, as the pipeline's cache holds them), when
// a command (decided by domain::decide(command, aggregates), the pipeline's
// own entry, so a test loads exactly what the pipeline loads), then the
// events or the rejection.
//
// Nothing is written: when() leaves the states as they were; run() folds an
// accepted command's events in. Not thread-safe.
#pragma once

#include <map>
#include <string>

#include "tessera/domain/decider.h"
#include "tessera/domain/streams.h"

namespace tessera::test_support {

class Given final : public domain::Aggregates {
 public:
  Given& given(const domain::StreamEvent& e) {
    auto& state = states_[e.stream.str()];
    state = domain::evolve(std::move(state), e.event);
    return *this;
  }
  Given& given(const domain::Events& events) {
    for (const auto& e : events) given(e);
    return *this;
  }

  // The decision, against the states given so far.
  result<domain::Events> when(const domain::Command& command) { return domain::decide(command, *this); }

  // The decision; if accepted, its events are folded in.
  result<domain::Events> run(const domain::Command& command) {
    auto decided = when(command);
    if (decided) given(decided.value());
    return decided;
  }

  const domain::AggregateState& load(const domain::StreamId& stream) override {
    static const domain::AggregateState kNone{};
    const auto it = states_.find(stream.str());
    return it == states_.end() ? kNone : it->second;
  }

  template <class S>
  const S& get(const domain::StreamId& stream) const {
    static const S kMissing{};
    const auto it = states_.find(stream.str());
    return it == states_.end() ? kMissing : domain::as<S>(it->second);
  }
  const domain::ContractState& contract(const domain::OrgId& org, const domain::ContractId& id) const {
    return get<domain::ContractState>(domain::contract_stream(org, id));
  }
  const domain::SessionState& session(const domain::OrgId& org, const domain::SessionId& id) const {
    return get<domain::SessionState>(domain::session_stream(org, id));
  }
  const domain::BatchState& batch(const domain::OrgId& org, const domain::BatchId& id) const {
    return get<domain::BatchState>(domain::batch_stream(org, id));
  }
  const domain::CodeState& code(const std::string& key) const {
    return get<domain::CodeState>(domain::code_stream(key));
  }
  const domain::InvitationState& invitation(const domain::InvitationId& id) const {
    return get<domain::InvitationState>(domain::invitation_stream(id));
  }
  const domain::RegistrationState& registration(const domain::OrgId& org, const domain::RegistrationId& id) const {
    return get<domain::RegistrationState>(domain::registration_stream(org, id));
  }

  // Every stream's state, by stream name.
  const std::map<std::string, domain::AggregateState>& all() const { return states_; }

 private:
  std::map<std::string, domain::AggregateState> states_;
};

}  // namespace tessera::test_support
