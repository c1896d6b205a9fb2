#include "tessera/domain/decide.h"

#include <algorithm>
#include <string>
#include <unordered_set>

#include "tessera/domain/streams.h"
#include "validation.h"

namespace tessera::domain {

using detail::check_name;
using detail::check_participant;
using detail::check_price;
using detail::valid_id;

namespace {

Result<void> check_ids(const OrgId& org, std::string_view field, std::string_view id) {
  if (!valid_id(org.str())) return reject(errc::validation, "org must be 1 to 64 of A-Z, a-z, 0-9 and _");
  if (!valid_id(id)) return reject(errc::validation, std::string(field) + " must be 1 to 64 of A-Z, a-z, 0-9 and _");
  return outcome::success();
}

bool contains(const std::vector<std::string>& list, std::string_view value) {
  return std::ranges::find(list, value) != list.end();
}

Result<void> check_restrictions(const Restrictions& r, const Participant& p) {
  const std::string email = normalize_email(p.email);
  if (!r.emails.empty() && !contains(r.emails, email)) {
    return reject(errc::code_restricted, "this code is restricted to other email addresses");
  }
  if (!r.email_domains.empty() && !contains(r.email_domains, email_domain(email))) {
    return reject(errc::code_restricted, "this code is restricted to other email domains");
  }
  if (!r.regions.empty() && !contains(r.regions, p.region)) {
    return reject(errc::code_restricted, "this code is restricted to other regions");
  }
  if (!r.groups.empty() && !contains(r.groups, p.group)) {
    return reject(errc::code_restricted, "this code is restricted to other participant groups");
  }
  return outcome::success();
}

Participant normalized(Participant p) {
  p.email = normalize_email(p.email);
  return p;
}

Restrictions normalized(Restrictions r) {
  for (auto& e : r.emails) e = normalize_email(e);
  for (auto& d : r.email_domains) {
    d = normalize_email(d);
    if (!d.empty() && d.front() == '@') d.erase(0, 1);
  }
  return r;
}

}  // namespace

Result<Events> decide(const CreateContract& command, const ContractState& contract) {
  BOOST_OUTCOME_TRY(check_ids(command.org, "contract id", command.contract.str()));
  BOOST_OUTCOME_TRY(check_name("name", command.name));
  BOOST_OUTCOME_TRY(check_price("default_price", command.default_price));
  if (contract.exists) return reject(errc::already_exists, "a contract with this id exists");
  return Events{{contract_stream(command.org, command.contract),
                 ContractCreated{command.org, command.contract, command.name,
                                 command.reuse_cancelled_codes, command.default_price}}};
}

Result<Events> decide(const CreateSession& command, const SessionState& session,
                      const ContractState& contract) {
  BOOST_OUTCOME_TRY(check_ids(command.org, "session id", command.session.str()));
  BOOST_OUTCOME_TRY(check_name("name", command.name));
  if (command.capacity > 1'000'000) return reject(errc::validation, "capacity must be at most 1000000");
  if (command.contract && !(contract.exists && contract.terms.org == command.org)) {
    return reject(errc::contract_unknown, "no contract " + command.contract->str());
  }
  if (session.exists) return reject(errc::already_exists, "a session with this id exists");
  return Events{{session_stream(command.org, command.session),
                 SessionCreated{command.org, command.session, command.name, command.capacity,
                                command.contract, command.opens_at}}};
}

Result<Events> decide(const GenerateBatch& command, const BatchState& batch,
                      const ContractState& contract, const SessionState& session) {
  BOOST_OUTCOME_TRY(check_ids(command.org, "batch id", command.batch.str()));
  if (!(contract.exists && contract.terms.org == command.org)) {
    return reject(errc::contract_unknown, "no contract " + command.contract.str());
  }
  if (command.session && !(session.exists && session.terms.org == command.org)) {
    return reject(errc::session_unknown, "no session " + command.session->str());
  }
  const bool assigned = !command.participants.empty();
  const std::uint32_t quantity =
      assigned ? static_cast<std::uint32_t>(command.participants.size()) : command.quantity;
  if (assigned && command.quantity != 0 && command.quantity != quantity) {
    return reject(errc::validation, "quantity must match the number of participants, or be left out");
  }
  if (quantity == 0 || quantity > kMaxBatchQuantity) {
    return reject(errc::validation, "quantity must be 1 to 1000000");
  }
  if (command.max_uses == 0 || command.max_uses > kMaxUsesPerCode) {
    return reject(errc::validation, "max_uses must be 1 to 1000000");
  }
  BOOST_OUTCOME_TRY(check_price("price", command.price));
  if (command.note.size() > 2000) return reject(errc::validation, "note must hold at most 2000 characters");
  if (command.valid_from && command.valid_until && *command.valid_until <= *command.valid_from) {
    return reject(errc::validation, "valid_until must come after valid_from");
  }
  if (!command.prefix.empty() && !valid_prefix(command.prefix)) {
    return reject(errc::validation, "prefix must be 1 to 16 letters and digits");
  }
  for (const auto& participant : command.participants) {
    BOOST_OUTCOME_TRY(check_participant("participants[]", participant));
  }
  if (batch.exists) return reject(errc::already_exists, "a batch with this id exists");
  if (command.codes.size() != quantity) {
    return reject(errc::validation, "one fresh code value is needed per code");
  }
  std::unordered_set<std::string> distinct;
  distinct.reserve(command.codes.size());
  for (const auto& code : command.codes) {
    if (!distinct.insert(code.key).second) return reject(errc::already_exists, "code values repeat");
  }

  Events events;
  events.reserve(quantity + 1);
  events.push_back({batch_stream(command.org, command.batch),
                    BatchGenerated{command.org, command.batch, command.contract, command.session, quantity,
                                   command.price, command.note, command.valid_from, command.valid_until,
                                   command.max_uses, normalized(command.restrictions), command.prefix}});
  for (std::size_t i = 0; i < command.codes.size(); ++i) {
    std::optional<Participant> assignee;
    if (assigned) assignee = normalized(command.participants[i]);
    events.push_back({code_stream(command.codes[i].key),
                      CodeIssued{command.org, command.codes[i].display, command.batch, std::move(assignee)}});
  }
  return events;
}

Result<Events> decide(const Redeem& command, const RedeemContext& context) {
  const CodeState& code = context.code;
  if (!code.exists || code.org != command.org) return reject(errc::code_unknown, "no such code");
  BOOST_OUTCOME_TRY(check_participant("participant", command.participant));
  const BatchGenerated& terms = context.batch.terms;
  if (code.uses >= terms.max_uses) return reject(errc::code_exhausted, "every use of this code is taken");
  if (terms.valid_from && command.now < *terms.valid_from) {
    return reject(errc::code_not_yet_valid, "this code is not valid yet");
  }
  if (terms.valid_until && command.now >= *terms.valid_until) {
    return reject(errc::code_expired, "this code has expired");
  }
  const Participant participant = normalized(command.participant);
  if (code.assignee && code.assignee->email != participant.email) {
    return reject(errc::code_assigned_elsewhere, "this code is assigned to another participant");
  }
  BOOST_OUTCOME_TRY(check_restrictions(terms.restrictions, participant));

  const std::optional<SessionId> session_id = command.session ? command.session : terms.session;
  if (!session_id) return reject(errc::validation, "session_id is required: this code names no session");
  if (terms.session && *terms.session != *session_id) {
    return reject(errc::validation, "this code is for session " + terms.session->str());
  }
  const SessionState& session = context.session;
  if (!(session.exists && session.terms.org == command.org)) {
    return reject(errc::session_unknown, "no session " + session_id->str());
  }
  if (session.terms.opens_at && command.now < *session.terms.opens_at) {
    return reject(errc::session_not_open, "this session is not open for registration yet");
  }
  if (session.occupied() >= session.capacity) return reject(errc::session_full, "no seat left in this session");
  if (!valid_id(command.registration.str()) || context.registration.exists) {
    return reject(errc::already_exists, "a registration with this id exists");
  }

  std::optional<Money> price = terms.price;
  if (!price && context.contract.exists) price = context.contract.terms.default_price;

  return Events{
      {code_stream(command.code_key), CodeRedeemed{command.registration, participant, *session_id, command.now}},
      {session_stream(command.org, *session_id), SeatRegistered{command.registration}},
      {registration_stream(command.org, command.registration),
       RegistrationCreated{command.org, command.registration, *session_id, code.code, participant, price,
                           command.now, std::nullopt}},
  };
}

}  // namespace tessera::domain
