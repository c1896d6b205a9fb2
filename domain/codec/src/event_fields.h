// Internal: the JSON fields of each event and of the values inside them, once
// for both ways of writing them (json.cc): into an nlohmann::json, for the
// API and snapshots, and straight into the payload's text, for the log.
//
// `fields.field(key, value)` takes a string, a bool, a number, a Timestamp,
// an Id, an optional (null when empty), a vector, or a value that has
// write_fields() of its own (a nested object). Keys go in byte order, the
// order nlohmann::json (a std::map) prints them in, so that both ways print
// the same text: Codec.TheLogsTextIsWhatTheJsonValuePrints checks it for
// every event type.
#pragma once

#include "tessera/domain/events.h"

namespace tessera::domain {

template <class Fields>
void write_fields(Fields& f, const Money& m) {
  f.field("amount", m.amount);
  f.field("currency", m.currency);
}

template <class Fields>
void write_fields(Fields& f, const Participant& p) {
  f.field("email", p.email);
  if (!p.external_id.empty()) f.field("external_id", p.external_id);
  if (!p.group.empty()) f.field("group", p.group);
  if (!p.name.empty()) f.field("name", p.name);
  if (!p.region.empty()) f.field("region", p.region);
}

template <class Fields>
void write_fields(Fields& f, const Restrictions& r) {
  f.field("email_domains", r.email_domains);
  f.field("emails", r.emails);
  f.field("groups", r.groups);
  f.field("regions", r.regions);
}

template <class Fields>
void write_fields(Fields& f, const ContractCreated& e) {
  f.field("contract_id", e.contract);
  f.field("default_price", e.default_price);
  f.field("name", e.name);
  f.field("org", e.org);
  f.field("reuse_cancelled_codes", e.reuse_cancelled_codes);
}

template <class Fields>
void write_fields(Fields& f, const ContractConfigured& e) {
  f.field("default_price", e.default_price);
  f.field("name", e.name);
  f.field("reuse_cancelled_codes", e.reuse_cancelled_codes);
}

template <class Fields>
void write_fields(Fields& f, const SessionCreated& e) {
  f.field("capacity", e.capacity);
  f.field("contract_id", e.contract);
  f.field("name", e.name);
  f.field("opens_at", e.opens_at);
  f.field("org", e.org);
  f.field("session_id", e.session);
}

template <class Fields>
void write_fields(Fields& f, const SessionCapacityChanged& e) {
  f.field("capacity", e.capacity);
}

template <class Fields>
void write_fields(Fields& f, const SessionEdited& e) {
  f.field("name", e.name);
  f.field("opens_at", e.opens_at);
}

template <class Fields>
void write_fields(Fields& f, const SeatReserved& e) {
  f.field("invitation_id", e.invitation);
  f.field("over_capacity", e.over_capacity);
}

template <class Fields>
void write_fields(Fields& f, const SeatReleased& e) {
  f.field("invitation_id", e.invitation);
}

template <class Fields>
void write_fields(Fields& f, const SeatRegistered& e) {
  f.field("invitation_id", e.invitation);
  f.field("registration_id", e.registration);
}

template <class Fields>
void write_fields(Fields& f, const SeatFreed& e) {
  f.field("registration_id", e.registration);
}

template <class Fields>
void write_fields(Fields& f, const BatchGenerated& e) {
  f.field("batch_id", e.batch);
  f.field("contract_id", e.contract);
  if (e.in_chunks) f.field("in_chunks", e.in_chunks);  // as events before jobs read
  f.field("max_uses", e.max_uses);
  f.field("note", e.note);
  f.field("org", e.org);
  f.field("prefix", e.prefix);
  f.field("price", e.price);
  f.field("quantity", e.quantity);
  f.field("restrictions", e.restrictions);
  f.field("session_id", e.session);
  f.field("valid_from", e.valid_from);
  f.field("valid_until", e.valid_until);
}

template <class Fields>
void write_fields(Fields& f, const BatchChunkIssued& e) {
  f.field("count", e.count);
  f.field("from", e.from);
}

template <class Fields>
void write_fields(Fields& f, const CodeIssued& e) {
  f.field("assignee", e.assignee);
  f.field("batch_id", e.batch);
  f.field("code", e.code);
  f.field("org", e.org);
  f.field("price", e.price);
}

template <class Fields>
void write_fields(Fields& f, const CodeAssigned& e) {
  f.field("participant", e.participant);
}

template <class Fields>
void write_fields(Fields& f, const CodeEdited& e) {
  f.field("note", e.note);
  f.field("price", e.price);
  f.field("valid_from", e.valid_from);
  f.field("valid_until", e.valid_until);
}

template <class Fields>
void write_fields(Fields& /*f*/, const CodeArchived& /*e*/) {}

template <class Fields>
void write_fields(Fields& /*f*/, const CodeDeleted& /*e*/) {}

template <class Fields>
void write_fields(Fields& f, const CodeInvitationAttached& e) {
  f.field("invitation_id", e.invitation);
  f.field("session_id", e.session);
}

template <class Fields>
void write_fields(Fields& f, const CodeInvitationDetached& e) {
  f.field("invitation_id", e.invitation);
}

template <class Fields>
void write_fields(Fields& f, const CodeRedeemed& e) {
  f.field("at", e.at);
  f.field("invitation_id", e.invitation);
  f.field("participant", e.participant);
  f.field("registration_id", e.registration);
  f.field("session_id", e.session);
  f.field("superseded", e.superseded);
}

template <class Fields>
void write_fields(Fields& f, const CodeUseReleased& e) {
  f.field("registration_id", e.registration);
  f.field("unassign", e.unassign);
}

template <class Fields>
void write_fields(Fields& f, const InvitationSent& e) {
  f.field("at", e.at);
  f.field("bind_to_email", e.bind_to_email);
  f.field("code", e.code);
  f.field("expires_at", e.expires_at);
  f.field("invitation_id", e.invitation);
  f.field("org", e.org);
  f.field("over_capacity", e.over_capacity);
  f.field("participant", e.participant);
  f.field("session_id", e.session);
}

template <class Fields>
void write_fields(Fields& f, const InvitationResent& e) {
  f.field("at", e.at);
}

template <class Fields>
void write_fields(Fields& f, const InvitationCancelled& e) {
  f.field("at", e.at);
}

template <class Fields>
void write_fields(Fields& f, const InvitationExpired& e) {
  f.field("at", e.at);
}

template <class Fields>
void write_fields(Fields& f, const InvitationSuperseded& e) {
  f.field("at", e.at);
  f.field("by_registration_id", e.by);
}

template <class Fields>
void write_fields(Fields& f, const InvitationAccepted& e) {
  f.field("at", e.at);
  f.field("registration_id", e.registration);
}

template <class Fields>
void write_fields(Fields& f, const RegistrationCreated& e) {
  f.field("access_from", e.access_from);
  f.field("access_until", e.access_until);
  f.field("code", e.code);
  f.field("invitation_id", e.invitation);
  f.field("org", e.org);
  f.field("participant", e.participant);
  f.field("price", e.price);
  f.field("registration_id", e.registration);
  f.field("session_id", e.session);
}

template <class Fields>
void write_fields(Fields& f, const RegistrationCancelled& e) {
  f.field("at", e.at);
  f.field("code_reusable", e.code_reusable);
}

template <class Fields>
void write_fields(Fields& f, const RegistrationRevoked& e) {
  f.field("at", e.at);
}

template <class Fields>
void write_fields(Fields& f, const RegistrationAccessChanged& e) {
  f.field("access_until", e.access_until);
}

}  // namespace tessera::domain
