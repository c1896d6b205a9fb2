#include "tessera/domain/decider.h"

#include <type_traits>

#include "tessera/domain/streams.h"

namespace tessera::domain {
namespace {

const ContractState kNoContract{};
const SessionState kNoSession{};
const CodeState kNoCode{};
const BatchState kNoBatch{};
const RegistrationState kNoRegistration{};

// Typed loads, and the aggregates one aggregate leads to.
class Reader {
 public:
  explicit Reader(Aggregates& aggregates) : aggregates_(aggregates) {}

  template <class S>
  const S& get(const StreamId& stream) {
    return as<S>(aggregates_.load(stream));
  }

  const ContractState& contract(const OrgId& org, const ContractId& id) {
    return get<ContractState>(contract_stream(org, id));
  }
  const SessionState& session(const OrgId& org, const SessionId& id) {
    return get<SessionState>(session_stream(org, id));
  }
  const CodeState& code(const std::string& key) { return get<CodeState>(code_stream(key)); }
  const InvitationState& invitation(const InvitationId& id) { return get<InvitationState>(invitation_stream(id)); }
  const RegistrationState& registration(const OrgId& org, const RegistrationId& id) {
    return get<RegistrationState>(registration_stream(org, id));
  }

  // A code's batch: its terms.
  const BatchState& batch_of(const CodeState& code) {
    return code.exists ? get<BatchState>(batch_stream(code.org, code.batch)) : kNoBatch;
  }
  // The contract whose rules apply to a code: its batch's.
  const ContractState& contract_of(const CodeState& code) {
    const BatchState& batch = batch_of(code);
    return batch.exists ? contract(code.org, batch.terms.contract) : kNoContract;
  }
  // The contract whose reuse policy applies to a registration: its code's.
  const ContractState& contract_of(const RegistrationState& registration) {
    if (!registration.exists || !registration.terms.code) return kNoContract;
    return contract_of(code(code_key_of(*registration.terms.code)));
  }

 private:
  Aggregates& aggregates_;
};

result<Events> decide_claim(const ClaimInvitation& c, Reader& read) {
  const auto& invitation = read.invitation(c.invitation);
  if (!invitation.exists) {
    return decide(c, ClaimContext{invitation, kNoSession, kNoCode, kNoBatch, kNoContract, kNoRegistration});
  }
  const auto& terms = invitation.terms;
  const auto& session = read.session(terms.org, terms.session);
  const auto& code = terms.code ? read.code(code_key_of(*terms.code)) : kNoCode;
  const auto& batch = read.batch_of(code);
  // Priced by the code's contract, or, without a code, by the session's.
  const auto& contract = terms.code               ? read.contract_of(code)
                         : session.terms.contract ? read.contract(terms.org, *session.terms.contract)
                                                  : kNoContract;
  const auto& registration = read.registration(terms.org, c.registration);
  return decide(c, ClaimContext{invitation, session, code, batch, contract, registration});
}

result<Events> decide_redeem(const Redeem& c, Reader& read) {
  const auto& code = read.code(c.code_key);
  // Another organisation's code reads as unknown: nothing of it is loaded.
  const bool ours = code.exists && code.org == c.org;
  const auto& batch = ours ? read.batch_of(code) : kNoBatch;
  const auto& contract = ours ? read.contract_of(code) : kNoContract;
  const auto session_id = c.session ? c.session : batch.terms.session;
  const auto& session = (ours && session_id) ? read.session(c.org, *session_id) : kNoSession;
  const auto& registration = read.registration(c.org, c.registration);
  return decide(c, RedeemContext{code, batch, contract, session, registration});
}

}  // namespace

StreamId own_stream(const Command& command) {
  return std::visit(
      [](const auto& c) -> StreamId {
        using C = std::decay_t<decltype(c)>;
        if constexpr (std::is_same_v<C, CreateContract> || std::is_same_v<C, ConfigureContract>) {
          return contract_stream(c.org, c.contract);
        } else if constexpr (std::is_same_v<C, CreateSession> || std::is_same_v<C, ChangeCapacity> ||
                             std::is_same_v<C, EditSession>) {
          return session_stream(c.org, c.session);
        } else if constexpr (std::is_same_v<C, GenerateBatch> || std::is_same_v<C, IssueBatchChunk>) {
          return batch_stream(c.org, c.batch);
        } else if constexpr (requires { c.code_key; } && !std::is_same_v<C, Invite>) {
          return code_stream(c.code_key);
        } else if constexpr (requires { c.invitation; }) {
          return invitation_stream(c.invitation);
        } else {
          static_assert(std::is_same_v<C, CancelRegistration> || std::is_same_v<C, RevokeRegistration> ||
                        std::is_same_v<C, ChangeAccess>);
          return registration_stream(c.org, c.registration);
        }
      },
      command);
}

result<Events> decide(const Command& command, Aggregates& aggregates) {
  Reader read(aggregates);
  return std::visit(
      [&](const auto& c) -> result<Events> {
        using C = std::decay_t<decltype(c)>;
        if constexpr (std::is_same_v<C, CreateContract> || std::is_same_v<C, ConfigureContract>) {
          return decide(c, read.contract(c.org, c.contract));
        } else if constexpr (std::is_same_v<C, CreateSession>) {
          const auto& session = read.session(c.org, c.session);
          return decide(c, session, c.contract ? read.contract(c.org, *c.contract) : kNoContract);
        } else if constexpr (std::is_same_v<C, ChangeCapacity> || std::is_same_v<C, EditSession>) {
          return decide(c, read.session(c.org, c.session));
        } else if constexpr (std::is_same_v<C, GenerateBatch>) {
          const auto& batch = read.template get<BatchState>(batch_stream(c.org, c.batch));
          const auto& contract = read.contract(c.org, c.contract);
          return decide(c, batch, contract, c.session ? read.session(c.org, *c.session) : kNoSession);
        } else if constexpr (std::is_same_v<C, IssueBatchChunk>) {
          return decide(c, read.template get<BatchState>(batch_stream(c.org, c.batch)));
        } else if constexpr (std::is_same_v<C, AssignCode> || std::is_same_v<C, EditCode>) {
          const auto& code = read.code(c.code_key);
          return decide(c, CodeContext{code, read.batch_of(code)});
        } else if constexpr (std::is_same_v<C, ArchiveCode> || std::is_same_v<C, DeleteCode>) {
          return decide(c, read.code(c.code_key));
        } else if constexpr (std::is_same_v<C, Invite>) {
          const auto& invitation = read.invitation(c.invitation);
          const auto& session = read.session(c.org, c.session);
          const auto& code = c.code_key ? read.code(*c.code_key) : kNoCode;
          return decide(c, InviteContext{invitation, session, code, read.batch_of(code)});
        } else if constexpr (std::is_same_v<C, ResendInvitation> || std::is_same_v<C, CancelInvitation> ||
                             std::is_same_v<C, ExpireInvitation>) {
          return decide(c, read.invitation(c.invitation));
        } else if constexpr (std::is_same_v<C, ClaimInvitation>) {
          return decide_claim(c, read);
        } else if constexpr (std::is_same_v<C, Redeem>) {
          return decide_redeem(c, read);
        } else if constexpr (std::is_same_v<C, CancelRegistration>) {
          const auto& registration = read.registration(c.org, c.registration);
          return decide(c, CancelContext{registration, read.contract_of(registration)});
        } else {
          static_assert(std::is_same_v<C, RevokeRegistration> || std::is_same_v<C, ChangeAccess>);
          return decide(c, read.registration(c.org, c.registration));
        }
      },
      command);
}

}  // namespace tessera::domain
