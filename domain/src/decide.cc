#include "tessera/domain/decide.h"

#include <algorithm>
#include <string>
#include <string_view>
#include <unordered_set>

#include "tessera/domain/code_rules.h"
#include "tessera/domain/streams.h"
#include "validation.h"

namespace tessera::domain {

using detail::check_name;
using detail::check_participant;
using detail::check_price;
using detail::valid_id;

namespace {

result<void> check_ids(const OrgId& org, std::string_view field, std::string_view id) {
  if (!valid_id(org.str())) return reject(errc::validation, "org must be 1 to 64 of A-Z, a-z, 0-9 and _");
  if (!valid_id(id)) return reject(errc::validation, std::string(field) + " must be 1 to 64 of A-Z, a-z, 0-9 and _");
  return outcome::success();
}

bool contains(const std::vector<std::string>& list, std::string_view value) {
  return std::ranges::find(list, value) != list.end();
}

result<void> check_restrictions(const Restrictions& r, const Participant& p) {
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

bool owned(const CodeState& code, const OrgId& org) { return code.exists && !code.deleted && code.org == org; }

// Whether `participant` may take a use of `code` at `now`.
result<void> check_usable(const CodeState& code, const BatchState& batch, const Participant& participant,
                          Timestamp now) {
  const BatchGenerated& terms = batch.terms;
  if (!batch.ready()) {
    return reject(errc::batch_not_ready, "this code's batch is still being generated (" +
                                             std::to_string(batch.generated) + " of " + std::to_string(terms.quantity) +
                                             " codes): try again when it is ready");
  }
  if (code.archived) return reject(errc::code_archived, "this code is archived");
  if (exhausted({.uses = code.uses, .max_uses = terms.max_uses})) {
    return reject(errc::code_exhausted, "every use of this code is taken");
  }
  if (const auto from = own_else_batch(code.valid_from, terms.valid_from); from && now < *from) {
    return reject(errc::code_not_yet_valid, "this code is not valid yet");
  }
  if (const auto until = own_else_batch(code.valid_until, terms.valid_until); until && now >= *until) {
    return reject(errc::code_expired, "this code has expired");
  }
  if (code.assignee && code.assignee->email != normalize_email(participant.email)) {
    return reject(errc::code_assigned_elsewhere, "this code is assigned to another participant");
  }
  return check_restrictions(terms.restrictions, participant);
}

std::optional<Money> resolve_price(const CodeState& code, const BatchGenerated& terms, const ContractState& contract) {
  if (auto price = own_else_batch(code.price, terms.price)) return price;
  if (contract.exists) return contract.terms.default_price;
  return std::nullopt;
}

// The events of a use taken: the code's, and when it takes the last use, the
// supersession of every other pending invitation attached to the code.
void take_use(Events& events, const std::string& code_key, const CodeState& code, const BatchGenerated& terms,
              const RegistrationId& registration, const Participant& participant, const SessionId& session,
              Timestamp now, const std::optional<InvitationId>& claimed) {
  CodeRedeemed redeemed{registration, participant, session, now, claimed, {}};
  std::vector<PendingInvitation> superseded;
  if (code.uses + 1 >= terms.max_uses) {
    for (const auto& p : code.pending) {
      if (!claimed || p.invitation != *claimed) superseded.push_back(p);
    }
  }
  for (const auto& p : superseded) redeemed.superseded.push_back(p.invitation);
  events.push_back({code_stream(code_key), std::move(redeemed)});
  for (const auto& p : superseded) {
    events.push_back({invitation_stream(p.invitation), InvitationSuperseded{registration, now}});
    events.push_back({session_stream(code.org, p.session), SeatReleased{p.invitation}});
  }
}

// A code serves its own batch's session, or, when the batch names none, any
// session of the organisation that is not bound to another contract.
result<void> check_session_fits(const BatchGenerated& terms, const SessionId& session_id, const SessionState& session) {
  if (terms.session && *terms.session != session_id) {
    return reject(errc::validation, "this code is for session " + terms.session->str());
  }
  if (session.exists && session.terms.contract && *session.terms.contract != terms.contract) {
    return reject(errc::validation, "session " + session_id.str() + " belongs to another contract than this code");
  }
  return outcome::success();
}

result<void> check_fresh_registration(const RegistrationId& id, const RegistrationState& existing) {
  if (!valid_id(id.str())) return reject(errc::validation, "registration id must be 1 to 64 of A-Z, a-z, 0-9 and _");
  if (existing.exists) return reject(errc::already_exists, "a registration with this id exists");
  return outcome::success();
}

result<void> check_window(const std::optional<Timestamp>& from, const std::optional<Timestamp>& until) {
  if (from && until && *until <= *from) return reject(errc::validation, "valid_until must come after valid_from");
  return outcome::success();
}

// The number of codes a batch makes; nullopt when it is out of range.
std::optional<std::uint32_t> batch_quantity(const GenerateBatch& command) {
  const bool assigned = !command.participants.empty();
  const auto quantity = assigned ? static_cast<std::uint32_t>(command.participants.size()) : command.quantity;
  if (quantity == 0 || quantity > kMaxBatchQuantity) return std::nullopt;
  return quantity;
}

bool in_chunks(const GenerateBatch& command, std::uint32_t quantity) {
  return command.participants.empty() && quantity > kLargestBatchAtOnce;
}

result<void> check_distinct(const std::vector<CodeValue>& codes) {
  std::unordered_set<std::string_view> distinct;  // views of the command's own keys
  distinct.reserve(codes.size());
  for (const auto& code : codes) {
    if (!distinct.insert(code.key).second) return reject(errc::already_exists, "code values repeat");
  }
  return outcome::success();
}

}  // namespace

std::uint32_t codes_to_draw(const GenerateBatch& command) {
  const auto quantity = batch_quantity(command);
  if (!quantity || in_chunks(command, *quantity)) return 0;
  if (!command.prefix.empty() && !valid_prefix(command.prefix)) return 0;
  return *quantity;
}

std::uint32_t codes_to_draw(const IssueBatchChunk& command, const BatchState& batch) {
  if (!(batch.exists && batch.terms.org == command.org && batch.terms.in_chunks)) return 0;
  const std::uint32_t size = std::min(command.size, kCodesPerChunk);
  return std::min(size, batch.terms.quantity - std::min(batch.generated, batch.terms.quantity));
}

bool starts_chunks(const Events& events) {
  return std::ranges::any_of(events, [](const StreamEvent& e) {
    const auto* generated = std::get_if<BatchGenerated>(&e.event);
    return generated && generated->in_chunks;
  });
}

std::string code_key_of(std::string_view display) {
  auto parsed = parse_code(display);
  return parsed ? parsed.value().key : std::string(display);
}

result<Events> decide(const CreateContract& command, const ContractState& contract) {
  BOOST_OUTCOME_TRY(check_ids(command.org, "contract id", command.contract.str()));
  BOOST_OUTCOME_TRY(check_name("name", command.name));
  BOOST_OUTCOME_TRY(check_price("default_price", command.default_price));
  if (contract.exists) return reject(errc::already_exists, "a contract with this id exists");
  return Events{{contract_stream(command.org, command.contract),
                 ContractCreated{command.org, command.contract, command.name, command.reuse_cancelled_codes,
                                 command.default_price}}};
}

result<Events> decide(const ConfigureContract& command, const ContractState& contract) {
  if (!(contract.exists && contract.terms.org == command.org)) {
    return reject(errc::contract_unknown, "no contract " + command.contract.str());
  }
  ContractConfigured configured{command.name.value_or(contract.terms.name),
                                command.reuse_cancelled_codes.value_or(contract.terms.reuse_cancelled_codes),
                                command.default_price.value_or(contract.terms.default_price)};
  BOOST_OUTCOME_TRY(check_name("name", configured.name));
  BOOST_OUTCOME_TRY(check_price("default_price", configured.default_price));
  return Events{{contract_stream(command.org, command.contract), std::move(configured)}};
}

result<Events> decide(const CreateSession& command, const SessionState& session, const ContractState& contract) {
  BOOST_OUTCOME_TRY(check_ids(command.org, "session id", command.session.str()));
  BOOST_OUTCOME_TRY(check_name("name", command.name));
  if (command.capacity > kMaxCapacity) return reject(errc::validation, "capacity must be at most 1000000");
  if (command.contract && !(contract.exists && contract.terms.org == command.org)) {
    return reject(errc::contract_unknown, "no contract " + command.contract->str());
  }
  if (session.exists) return reject(errc::already_exists, "a session with this id exists");
  return Events{{session_stream(command.org, command.session),
                 SessionCreated{command.org, command.session, command.name, command.capacity, command.contract,
                                command.opens_at}}};
}

result<Events> decide(const ChangeCapacity& command, const SessionState& session) {
  if (!(session.exists && session.terms.org == command.org)) {
    return reject(errc::session_unknown, "no session " + command.session.str());
  }
  if (command.capacity > kMaxCapacity) return reject(errc::validation, "capacity must be at most 1000000");
  if (command.capacity < session.occupied()) {
    return reject(errc::capacity_below_occupancy,
                  std::to_string(session.occupied()) + " seats are reserved or registered: capacity cannot go below");
  }
  if (command.capacity == session.capacity) return Events{};
  return Events{{session_stream(command.org, command.session), SessionCapacityChanged{command.capacity}}};
}

result<Events> decide(const EditSession& command, const SessionState& session) {
  if (!(session.exists && session.terms.org == command.org)) {
    return reject(errc::session_unknown, "no session " + command.session.str());
  }
  Events events;
  if (command.capacity) {
    BOOST_OUTCOME_TRY(resized, decide(ChangeCapacity{command.org, command.session, *command.capacity}, session));
    events = std::move(resized);
  }
  SessionEdited edited{command.name.value_or(session.terms.name), command.opens_at.value_or(session.terms.opens_at)};
  BOOST_OUTCOME_TRY(check_name("name", edited.name));
  if (edited.name != session.terms.name || edited.opens_at != session.terms.opens_at) {
    events.push_back({session_stream(command.org, command.session), std::move(edited)});
  }
  return events;
}

result<Events> decide(const GenerateBatch& command, const BatchState& batch, const ContractState& contract,
                      const SessionState& session) {
  BOOST_OUTCOME_TRY(check_ids(command.org, "batch id", command.batch.str()));
  if (!(contract.exists && contract.terms.org == command.org)) {
    return reject(errc::contract_unknown, "no contract " + command.contract.str());
  }
  if (command.session && !(session.exists && session.terms.org == command.org)) {
    return reject(errc::session_unknown, "no session " + command.session->str());
  }
  const bool assigned = !command.participants.empty();
  if (assigned && command.quantity != 0 && command.quantity != command.participants.size()) {
    return reject(errc::validation, "quantity must match the number of participants, or be left out");
  }
  const auto planned = batch_quantity(command);
  if (!planned) return reject(errc::validation, "quantity must be 1 to 1000000");
  const std::uint32_t quantity = *planned;
  const bool chunked = in_chunks(command, quantity);
  if (command.max_uses == 0 || command.max_uses > kMaxUsesPerCode) {
    return reject(errc::validation, "max_uses must be 1 to 1000000");
  }
  BOOST_OUTCOME_TRY(check_price("price", command.price));
  if (!command.participant_prices.empty() && command.participant_prices.size() != command.participants.size()) {
    return reject(errc::validation, "one price per participant, or none");
  }
  for (const auto& price : command.participant_prices) {
    BOOST_OUTCOME_TRY(check_price("participants[].price", price));
  }
  if (command.note.size() > kMaxNoteLength) {
    return reject(errc::validation, "note must hold at most 2000 characters");
  }
  BOOST_OUTCOME_TRY(check_window(command.valid_from, command.valid_until));
  if (!command.prefix.empty() && !valid_prefix(command.prefix)) {
    return reject(errc::validation, "prefix must be 1 to 16 letters and digits");
  }
  for (const auto& participant : command.participants) {
    BOOST_OUTCOME_TRY(check_participant("participants[]", participant));
  }
  if (batch.exists) return reject(errc::already_exists, "a batch with this id exists");
  if (command.codes.size() != codes_to_draw(command)) {
    return reject(errc::validation, chunked ? "a batch generated in chunks carries no code values"
                                            : "one fresh code value is needed per code");
  }
  BOOST_OUTCOME_TRY(check_distinct(command.codes));

  Events events;
  events.reserve(command.codes.size() + 1);
  events.push_back({batch_stream(command.org, command.batch),
                    BatchGenerated{command.org, command.batch, command.contract, command.session, quantity,
                                   command.price, command.note, command.valid_from, command.valid_until,
                                   command.max_uses, normalized(command.restrictions), command.prefix, chunked}});
  for (std::size_t i = 0; i < command.codes.size(); ++i) {
    std::optional<Participant> assignee;
    std::optional<Money> price;
    if (assigned) assignee = normalized(command.participants[i]);
    if (!command.participant_prices.empty()) price = command.participant_prices[i];
    events.push_back(
        {code_stream(command.codes[i].key),
         CodeIssued{command.org, command.codes[i].display, command.batch, std::move(assignee), std::move(price)}});
  }
  return events;
}

result<Events> decide(const IssueBatchChunk& command, const BatchState& batch) {
  if (!(batch.exists && batch.terms.org == command.org)) {
    return reject(errc::batch_unknown, "no batch " + command.batch.str());
  }
  if (!batch.terms.in_chunks) return reject(errc::validation, "this batch was generated at once, not in chunks");
  if (command.size == 0 || command.size > kCodesPerChunk) {
    return reject(errc::validation, "a chunk is 1 to " + std::to_string(kCodesPerChunk) + " codes");
  }
  if (command.codes.size() != codes_to_draw(command, batch)) {
    return reject(errc::validation, "one fresh code value is needed per code of the chunk");
  }
  if (command.codes.empty()) return Events{};
  BOOST_OUTCOME_TRY(check_distinct(command.codes));
  Events events;
  events.reserve(command.codes.size() + 1);
  events.push_back({batch_stream(command.org, command.batch),
                    BatchChunkIssued{batch.generated, static_cast<std::uint32_t>(command.codes.size())}});
  for (const auto& code : command.codes) {
    events.push_back({code_stream(code.key), CodeIssued{command.org, code.display, command.batch, {}, {}}});
  }
  return events;
}

result<Events> decide(const AssignCode& command, const CodeContext& context) {
  const CodeState& code = context.code;
  if (!owned(code, command.org)) return reject(errc::code_unknown, "no such code");
  BOOST_OUTCOME_TRY(check_participant("participant", command.participant));
  const Participant participant = normalized(command.participant);
  if (code.archived) return reject(errc::code_archived, "this code is archived");
  if (code.assignee) {
    if (code.assignee->email == participant.email) return Events{};
    return reject(errc::code_assigned_elsewhere, "this code is assigned to another participant");
  }
  const BatchGenerated& terms = context.batch.terms;
  if (exhausted({.uses = code.uses, .max_uses = terms.max_uses})) {
    return reject(errc::code_exhausted, "every use of this code is taken");
  }
  BOOST_OUTCOME_TRY(check_restrictions(terms.restrictions, participant));
  return Events{{code_stream(command.code_key), CodeAssigned{participant}}};
}

result<Events> decide(const EditCode& command, const CodeContext& context) {
  const CodeState& code = context.code;
  if (!owned(code, command.org)) return reject(errc::code_unknown, "no such code");
  if (code.archived) return reject(errc::code_archived, "this code is archived");
  if (code.redemptions_ever > 0) return reject(errc::code_used, "only a code never used can be edited");
  if (command.note && command.note->size() > kMaxNoteLength) {
    return reject(errc::validation, "note must hold at most 2000 characters");
  }
  BOOST_OUTCOME_TRY(check_price("price", command.price));
  const auto& terms = context.batch.terms;
  BOOST_OUTCOME_TRY(
      check_window(command.valid_from ? command.valid_from : own_else_batch(code.valid_from, terms.valid_from),
                   command.valid_until ? command.valid_until : own_else_batch(code.valid_until, terms.valid_until)));
  if (!command.note && !command.price && !command.valid_from && !command.valid_until) return Events{};
  return Events{{code_stream(command.code_key),
                 CodeEdited{command.note, command.price, command.valid_from, command.valid_until}}};
}

result<Events> decide(const ArchiveCode& command, const CodeState& code) {
  if (!owned(code, command.org)) return reject(errc::code_unknown, "no such code");
  if (code.archived) return Events{};
  return Events{{code_stream(command.code_key), CodeArchived{}}};
}

result<Events> decide(const DeleteCode& command, const CodeState& code) {
  if (!owned(code, command.org)) return reject(errc::code_unknown, "no such code");
  if (code.redemptions_ever > 0) {
    return reject(errc::code_used, "this code was used: archive it instead, the trail must keep it");
  }
  if (!code.pending.empty()) {
    return reject(errc::code_invited, "pending invitations point at this code: cancel them first");
  }
  return Events{{code_stream(command.code_key), CodeDeleted{}}};
}

result<Events> decide(const Invite& command, const InviteContext& context) {
  BOOST_OUTCOME_TRY(check_ids(command.org, "invitation id", command.invitation.str()));
  const SessionState& session = context.session;
  if (!(session.exists && session.terms.org == command.org)) {
    return reject(errc::session_unknown, "no session " + command.session.str());
  }
  BOOST_OUTCOME_TRY(check_participant("participant", command.participant));
  const Participant participant = normalized(command.participant);
  if (command.expires_at && *command.expires_at <= command.now) {
    return reject(errc::validation, "expires_at must be in the future");
  }
  if (context.invitation.exists) return reject(errc::already_exists, "an invitation with this id exists");
  std::optional<std::string> code_display;
  if (command.code_key) {
    const CodeState& code = context.code;
    if (!owned(code, command.org)) return reject(errc::code_unknown, "no such code");
    const BatchGenerated& terms = context.batch.terms;
    BOOST_OUTCOME_TRY(check_usable(code, context.batch, participant, command.now));
    BOOST_OUTCOME_TRY(check_session_fits(terms, command.session, session));
    code_display = code.code;
  }
  const bool full = session.occupied() >= session.capacity;
  if (full && !command.confirm_over_capacity) {
    return reject(errc::session_full, "no seat left: confirm_over_capacity adds one");
  }
  if (full && session.capacity >= kMaxCapacity) return reject(errc::session_full, "the session is at its limit");

  Events events;
  events.push_back({invitation_stream(command.invitation),
                    InvitationSent{command.org, command.invitation, command.session, participant, code_display,
                                   command.expires_at, command.bind_to_email, full, command.now}});
  events.push_back({session_stream(command.org, command.session), SeatReserved{command.invitation, full}});
  if (command.code_key) {
    events.push_back({code_stream(*command.code_key), CodeInvitationAttached{command.invitation, command.session}});
  }
  return events;
}

namespace {

result<const InvitationState*> pending_invitation(const InvitationState& invitation, const InvitationId& id,
                                                  const OrgId* org, Timestamp now) {
  if (!invitation.exists || (org && invitation.terms.org != *org)) {
    return reject(errc::invitation_unknown, "no invitation " + id.str());
  }
  if (!invitation.claimable(now)) {
    const bool lapsed = invitation.status == InvitationStatus::pending;
    return reject(errc::invitation_not_pending,
                  "this invitation is " + std::string(lapsed ? "expired" : to_string(invitation.status)));
  }
  return &invitation;
}

// The events of an invitation ending without a registration: its seat and
// its hold on the code go back.
Events end_invitation(const InvitationState& invitation, Event ending) {
  const auto& terms = invitation.terms;
  Events events;
  events.push_back({invitation_stream(terms.invitation), std::move(ending)});
  events.push_back({session_stream(terms.org, terms.session), SeatReleased{terms.invitation}});
  if (terms.code) {
    events.push_back({code_stream(code_key_of(*terms.code)), CodeInvitationDetached{terms.invitation}});
  }
  return events;
}

}  // namespace

result<Events> decide(const ResendInvitation& command, const InvitationState& invitation) {
  BOOST_OUTCOME_TRY(pending_invitation(invitation, command.invitation, &command.org, command.now));
  return Events{{invitation_stream(command.invitation), InvitationResent{command.now}}};
}

result<Events> decide(const CancelInvitation& command, const InvitationState& invitation) {
  BOOST_OUTCOME_TRY(pending_invitation(invitation, command.invitation, &command.org, command.now));
  return end_invitation(invitation, InvitationCancelled{command.now});
}

result<Events> decide(const ExpireInvitation& command, const InvitationState& invitation) {
  if (!invitation.exists) return reject(errc::invitation_unknown, "no invitation " + command.invitation.str());
  if (invitation.status != InvitationStatus::pending) {
    return reject(errc::invitation_not_pending, "this invitation is " + std::string(to_string(invitation.status)));
  }
  if (!invitation.terms.expires_at || command.now < *invitation.terms.expires_at) {
    return reject(errc::validation, "this invitation is not due to expire");
  }
  return end_invitation(invitation, InvitationExpired{command.now});
}

result<Events> decide(const ClaimInvitation& command, const ClaimContext& context) {
  BOOST_OUTCOME_TRY(pending_invitation(context.invitation, command.invitation, nullptr, command.now));
  const InvitationSent& invited = context.invitation.terms;
  Participant participant = invited.participant;
  if (command.participant) {
    BOOST_OUTCOME_TRY(check_participant("participant", *command.participant));
    participant = normalized(*command.participant);
  }
  if (invited.bind_to_email && participant.email != invited.participant.email) {
    return reject(errc::invitation_bound, "this invitation can be claimed only with the invitee's email");
  }
  BOOST_OUTCOME_TRY(check_fresh_registration(command.registration, context.registration));
  std::optional<Money> price;
  Events events;
  events.push_back({invitation_stream(command.invitation), InvitationAccepted{command.registration, command.now}});
  events.push_back(
      {session_stream(invited.org, invited.session), SeatRegistered{command.registration, command.invitation}});
  if (invited.code) {
    const CodeState& code = context.code;
    if (!owned(code, invited.org)) return reject(errc::code_unknown, "the invitation's code is gone");
    const BatchGenerated& terms = context.batch.terms;
    BOOST_OUTCOME_TRY(check_usable(code, context.batch, participant, command.now));
    price = resolve_price(code, terms, context.contract);
    take_use(events, code_key_of(*invited.code), code, terms, command.registration, participant, invited.session,
             command.now, command.invitation);
  } else if (context.contract.exists) {
    price = context.contract.terms.default_price;
  }
  events.push_back({registration_stream(invited.org, command.registration),
                    RegistrationCreated{invited.org, command.registration, invited.session, invited.code, participant,
                                        price, command.now, std::nullopt, command.invitation}});
  return events;
}

result<Events> decide(const Redeem& command, const RedeemContext& context) {
  const CodeState& code = context.code;
  if (!owned(code, command.org)) return reject(errc::code_unknown, "no such code");
  BOOST_OUTCOME_TRY(check_participant("participant", command.participant));
  const BatchGenerated& terms = context.batch.terms;
  const Participant participant = normalized(command.participant);
  BOOST_OUTCOME_TRY(check_usable(code, context.batch, participant, command.now));

  const std::optional<SessionId> session_id = command.session ? command.session : terms.session;
  if (!session_id) return reject(errc::validation, "session_id is required: this code names no session");
  const SessionState& session = context.session;
  if (!(session.exists && session.terms.org == command.org)) {
    return reject(errc::session_unknown, "no session " + session_id->str());
  }
  BOOST_OUTCOME_TRY(check_session_fits(terms, *session_id, session));
  if (session.terms.opens_at && command.now < *session.terms.opens_at) {
    return reject(errc::session_not_open, "this session is not open for registration yet");
  }
  if (session.occupied() >= session.capacity) return reject(errc::session_full, "no seat left in this session");
  BOOST_OUTCOME_TRY(check_fresh_registration(command.registration, context.registration));

  Events events;
  take_use(events, command.code_key, code, terms, command.registration, participant, *session_id, command.now,
           std::nullopt);
  events.push_back({session_stream(command.org, *session_id), SeatRegistered{command.registration, std::nullopt}});
  events.push_back(
      {registration_stream(command.org, command.registration),
       RegistrationCreated{command.org, command.registration, *session_id, code.code, participant,
                           resolve_price(code, terms, context.contract), command.now, std::nullopt, std::nullopt}});
  return events;
}

namespace {

result<void> check_active(const RegistrationState& registration, const OrgId& org, const RegistrationId& id) {
  if (!registration.exists || registration.terms.org != org) {
    return reject(errc::registration_unknown, "no registration " + id.str());
  }
  if (registration.status != RegistrationStatus::active) {
    return reject(errc::registration_not_active, "this registration is " + std::string(to_string(registration.status)));
  }
  return outcome::success();
}

}  // namespace

result<Events> decide(const CancelRegistration& command, const CancelContext& context) {
  const RegistrationState& registration = context.registration;
  BOOST_OUTCOME_TRY(check_active(registration, command.org, command.registration));
  const auto& terms = registration.terms;
  const bool reusable = terms.code && context.contract.exists && context.contract.terms.reuse_cancelled_codes;
  Events events;
  events.push_back(
      {registration_stream(command.org, command.registration), RegistrationCancelled{command.now, reusable}});
  events.push_back({session_stream(command.org, terms.session), SeatFreed{command.registration}});
  if (reusable) {
    events.push_back({code_stream(code_key_of(*terms.code)), CodeUseReleased{command.registration, false}});
  }
  return events;
}

result<Events> decide(const RevokeRegistration& command, const RegistrationState& registration) {
  BOOST_OUTCOME_TRY(check_active(registration, command.org, command.registration));
  const auto& terms = registration.terms;
  Events events;
  events.push_back({registration_stream(command.org, command.registration), RegistrationRevoked{command.now}});
  events.push_back({session_stream(command.org, terms.session), SeatFreed{command.registration}});
  if (terms.code) {
    events.push_back({code_stream(code_key_of(*terms.code)), CodeUseReleased{command.registration, true}});
  }
  return events;
}

result<Events> decide(const ChangeAccess& command, const RegistrationState& registration) {
  BOOST_OUTCOME_TRY(check_active(registration, command.org, command.registration));
  if (command.access_until && *command.access_until <= registration.terms.access_from) {
    return reject(errc::validation, "access_until must come after access_from");
  }
  if (command.access_until == registration.terms.access_until) return Events{};
  return Events{
      {registration_stream(command.org, command.registration), RegistrationAccessChanged{command.access_until}}};
}

}  // namespace tessera::domain
