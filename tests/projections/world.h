// A log made the way the command pipeline makes it, without the pipeline:
// each command is decided by the domain against the states folded so far,
// and its events are recorded with their stream versions and increasing
// positions, exactly as the event store would hand them to a projector.
#pragma once

#include <cstdint>
#include <map>
#include <optional>
#include <string>
#include <vector>

#include "tessera/codec/json.h"
#include "tessera/domain/decide.h"
#include "tessera/domain/state.h"
#include "tessera/domain/streams.h"
#include "tessera/eventstore/types.h"

namespace tessera::test {

namespace d = tessera::domain;
using eventstore::RecordedEvent;

inline constexpr std::int64_t kT0 = 1'767'225'600'000'000;  // 2026-01-01T00:00:00Z
inline constexpr std::int64_t kMinute = 60'000'000;

inline d::Participant person(std::string email, std::string name = {}) {
  d::Participant p;
  p.email = std::move(email);
  p.name = std::move(name);
  return p;
}

inline d::Money eur(std::int64_t cents) { return d::Money{cents, "EUR"}; }

class World {
 public:
  d::OrgId org{"acme"};
  d::Timestamp now{kT0};

  // Every event recorded so far, in log order.
  const std::vector<RecordedEvent>& log() const { return log_; }

  template <class S>
  S state(const d::StreamId& stream) const {
    const auto it = states_.find(stream.str());
    if (it == states_.end()) return S{};
    if (const auto* s = std::get_if<S>(&it->second)) return *s;
    return S{};
  }

  // The streams recorded so far, with their categories.
  std::vector<std::string> streams() const {
    std::vector<std::string> out;
    for (const auto& [stream, version] : versions_) out.push_back(stream);
    return out;
  }

  // Records the events of an accepted command; returns them.
  std::vector<RecordedEvent> commit(const d::Events& events) {
    std::vector<RecordedEvent> out;
    for (const auto& e : events) {
      auto& state = states_[e.stream.str()];
      state = d::evolve(std::move(state), e.event);
      RecordedEvent r;
      r.position = eventstore::Position{log_.size() + 1};
      r.stream = e.stream.str();
      r.version = eventstore::StreamVersion{++versions_[e.stream.str()]};
      r.type = std::string(d::event_type(e.event));
      r.schema = d::kEventSchemaVersion;
      r.recorded_at_micros = now.micros;
      r.payload = codec::encode_event(e.event);
      log_.push_back(r);
      out.push_back(std::move(r));
    }
    return out;
  }

  // decide() against the current states; the rejection or the events.
  d::Result<d::Events> decide(const d::CreateContract& c) const {
    return d::decide(c, state<d::ContractState>(d::contract_stream(c.org, c.contract)));
  }
  d::Result<d::Events> decide(const d::ConfigureContract& c) const {
    return d::decide(c, state<d::ContractState>(d::contract_stream(c.org, c.contract)));
  }
  d::Result<d::Events> decide(const d::CreateSession& c) const {
    const auto contract =
        c.contract ? state<d::ContractState>(d::contract_stream(c.org, *c.contract)) : d::ContractState{};
    return d::decide(c, state<d::SessionState>(d::session_stream(c.org, c.session)), contract);
  }
  d::Result<d::Events> decide(const d::ChangeCapacity& c) const {
    return d::decide(c, state<d::SessionState>(d::session_stream(c.org, c.session)));
  }
  d::Result<d::Events> decide(const d::GenerateBatch& c) const {
    const auto session = c.session ? state<d::SessionState>(d::session_stream(c.org, *c.session)) : d::SessionState{};
    return d::decide(c, state<d::BatchState>(d::batch_stream(c.org, c.batch)),
                     state<d::ContractState>(d::contract_stream(c.org, c.contract)), session);
  }
  d::Result<d::Events> decide(const d::AssignCode& c) const {
    const auto code = code_state(c.code_key);
    const auto batch = batch_of(code);
    return d::decide(c, d::CodeContext{code, batch});
  }
  d::Result<d::Events> decide(const d::EditCode& c) const {
    const auto code = code_state(c.code_key);
    const auto batch = batch_of(code);
    return d::decide(c, d::CodeContext{code, batch});
  }
  d::Result<d::Events> decide(const d::ArchiveCode& c) const { return d::decide(c, code_state(c.code_key)); }
  d::Result<d::Events> decide(const d::DeleteCode& c) const { return d::decide(c, code_state(c.code_key)); }
  d::Result<d::Events> decide(const d::Invite& c) const {
    const auto invitation = state<d::InvitationState>(d::invitation_stream(c.invitation));
    const auto session = state<d::SessionState>(d::session_stream(c.org, c.session));
    const auto code = c.code_key ? code_state(*c.code_key) : d::CodeState{};
    const auto batch = batch_of(code);
    return d::decide(c, d::InviteContext{invitation, session, code, batch});
  }
  d::Result<d::Events> decide(const d::ResendInvitation& c) const {
    return d::decide(c, state<d::InvitationState>(d::invitation_stream(c.invitation)));
  }
  d::Result<d::Events> decide(const d::CancelInvitation& c) const {
    return d::decide(c, state<d::InvitationState>(d::invitation_stream(c.invitation)));
  }
  d::Result<d::Events> decide(const d::ExpireInvitation& c) const {
    return d::decide(c, state<d::InvitationState>(d::invitation_stream(c.invitation)));
  }
  d::Result<d::Events> decide(const d::ClaimInvitation& c) const {
    const auto invitation = state<d::InvitationState>(d::invitation_stream(c.invitation));
    const auto& terms = invitation.terms;
    const auto session = state<d::SessionState>(d::session_stream(terms.org, terms.session));
    const auto code = terms.code ? code_state(d::code_key_of(*terms.code)) : d::CodeState{};
    const auto batch = batch_of(code);
    d::ContractState contract;
    if (terms.code) {
      contract = state<d::ContractState>(d::contract_stream(code.org, batch.terms.contract));
    } else if (session.terms.contract) {
      contract = state<d::ContractState>(d::contract_stream(terms.org, *session.terms.contract));
    }
    const auto registration = state<d::RegistrationState>(d::registration_stream(terms.org, c.registration));
    return d::decide(c, d::ClaimContext{invitation, session, code, batch, contract, registration});
  }
  d::Result<d::Events> decide(const d::Redeem& c) const {
    const auto code = code_state(c.code_key);
    const auto batch = batch_of(code);
    const auto contract = state<d::ContractState>(d::contract_stream(c.org, batch.terms.contract));
    const auto session_id = c.session ? c.session : batch.terms.session;
    const auto session = session_id ? state<d::SessionState>(d::session_stream(c.org, *session_id)) : d::SessionState{};
    const auto registration = state<d::RegistrationState>(d::registration_stream(c.org, c.registration));
    return d::decide(c, d::RedeemContext{code, batch, contract, session, registration});
  }
  d::Result<d::Events> decide(const d::CancelRegistration& c) const {
    const auto registration = state<d::RegistrationState>(d::registration_stream(c.org, c.registration));
    d::ContractState contract;
    if (registration.terms.code) {
      const auto code = code_state(d::code_key_of(*registration.terms.code));
      contract = state<d::ContractState>(d::contract_stream(code.org, batch_of(code).terms.contract));
    }
    return d::decide(c, d::CancelContext{registration, contract});
  }
  d::Result<d::Events> decide(const d::RevokeRegistration& c) const {
    return d::decide(c, state<d::RegistrationState>(d::registration_stream(c.org, c.registration)));
  }
  d::Result<d::Events> decide(const d::ChangeAccess& c) const {
    return d::decide(c, state<d::RegistrationState>(d::registration_stream(c.org, c.registration)));
  }

  // Fresh code values for a batch: distinct, reproducible.
  std::vector<d::CodeValue> fresh_codes(std::size_t n, std::string_view prefix = {}) {
    std::vector<d::CodeValue> out;
    for (std::size_t i = 0; i < n; ++i) {
      random_ = random_ * 6364136223846793005ULL + 1442695040888963407ULL;
      out.push_back(d::make_code(random_ >> 4, prefix));
    }
    return out;
  }

  d::CodeState code_state(const std::string& key) const { return state<d::CodeState>(d::code_stream(key)); }
  d::BatchState batch_of(const d::CodeState& code) const {
    return code.exists ? state<d::BatchState>(d::batch_stream(code.org, code.batch)) : d::BatchState{};
  }

 private:
  std::map<std::string, d::AggregateState> states_;
  std::map<std::string, std::uint64_t> versions_;
  std::vector<RecordedEvent> log_;
  std::uint64_t random_ = 0x2545F4914F6CDD1DULL;
};

}  // namespace tessera::test
