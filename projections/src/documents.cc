#include "documents.h"

#include <algorithm>

#include "tessera/codec/json.h"

namespace tessera::projections::detail {
namespace {

using nlohmann::json;
namespace d = tessera::domain;

template <class T>
inline constexpr bool kIsId = false;
template <class Tag>
inline constexpr bool kIsId<d::Id<Tag>> = true;

// --- the served form --------------------------------------------------------
// Ids as strings, instants as RFC 3339, absent values as null.

template <class T>
json served(const T& value) {
  if constexpr (kIsId<T>) {
    return value.str();
  } else {
    return json(value);  // a Timestamp through the domain's codec: RFC 3339
  }
}
template <class T>
json served(const std::optional<T>& value) {
  return value ? served(*value) : json(nullptr);
}

d::CodeStatusFacts facts(const CodeDoc& code, const BatchTerms& terms) {
  return {code.archived, code.uses, terms.max_uses, code.assignee.has_value()};
}

}  // namespace

std::optional<d::CodeStatus> status(const CodeDoc& code) {
  if (code.deleted || !code.terms) return std::nullopt;
  return d::code_status(facts(code, *code.terms));
}

std::optional<d::Participant> participant(const CodeDoc& code) {
  if (code.assignee) return code.assignee;
  return d::exhausted(facts(code, *code.terms)) ? code.last_redeemer : std::nullopt;
}

std::uint64_t& ContractSummary::of(d::CodeStatus status) {
  const auto it = std::ranges::find(d::kCodeStatuses, status);
  return by_status[static_cast<std::size_t>(it - d::kCodeStatuses.begin())];
}

json body(const ContractDoc& doc) {
  return {{"id", served(doc.id)},
          {"org", served(doc.org)},
          {"name", doc.name},
          {"reuse_cancelled_codes", doc.reuse_cancelled_codes},
          {"default_price", served(doc.default_price)}};
}

json body(const SessionDoc& doc) {
  return {{"id", served(doc.id)},
          {"org", served(doc.org)},
          {"name", doc.name},
          {"capacity", doc.seats.capacity},
          {"contract_id", served(doc.contract)},
          {"opens_at", served(doc.opens_at)},
          {"reserved", doc.seats.reserved},
          {"registered", doc.seats.registered},
          {"available", doc.seats.available()}};
}

json body(const BatchDoc& doc) {
  const BatchTerms& terms = doc.terms;
  return {{"id", served(doc.id)},
          {"org", served(doc.org)},
          {"contract_id", served(terms.contract)},
          {"session_id", served(terms.session)},
          {"status", d::to_string(d::batch_status(doc.generated, doc.quantity))},
          {"quantity", doc.quantity},
          {"generated", doc.generated},
          {"price", served(terms.price)},
          {"note", terms.note},
          {"valid_from", served(terms.valid_from)},
          {"valid_until", served(terms.valid_until)},
          {"max_uses", terms.max_uses},
          {"restrictions", doc.restrictions},
          {"prefix", doc.prefix}};
}

std::optional<json> body(const CodeDoc& doc) {
  const auto shown = status(doc);
  if (!shown) return std::nullopt;
  const BatchTerms& terms = *doc.terms;
  return json{
      {"code", doc.code},
      {"org", served(doc.org)},
      {"status", d::to_string(*shown)},
      {"uses", doc.uses},
      {"max_uses", terms.max_uses},
      {"price", served(d::own_else_batch(doc.price, terms.price))},
      {"participant", served(participant(doc))},
      {"batch_id", served(doc.batch)},
      {"session_id", served(terms.session)},
      {"contract_id", served(terms.contract)},
      {"note", served(d::own_else_batch(doc.note, std::optional<std::string>(terms.note)))},
      {"valid_from", served(d::own_else_batch(doc.valid_from, terms.valid_from))},
      {"valid_until", served(d::own_else_batch(doc.valid_until, terms.valid_until))},
  };
}

json body(const InvitationDoc& doc) {
  return {{"id", served(doc.id)},
          {"org", served(doc.org)},
          {"status", d::to_string(doc.status)},
          {"participant", served(doc.participant)},
          {"code", served(doc.code)},
          {"session_id", served(doc.session)},
          {"expires_at", served(doc.expires_at)},
          {"bind_to_email", doc.bind_to_email},
          {"over_capacity", doc.over_capacity},
          {"sent_at", served(doc.sent_at)},
          {"resent_at", served(doc.resent_at)},
          {"ended_at", served(doc.ended_at)},
          {"registration_id", served(doc.registration)}};
}

json body(const RegistrationDoc& doc) {
  return {{"id", served(doc.id)},
          {"org", served(doc.org)},
          {"code", served(doc.code)},
          {"participant", served(doc.participant)},
          {"session_id", served(doc.session)},
          {"price", served(doc.price)},
          {"status", d::to_string(doc.status)},
          {"access_from", served(doc.access_from)},
          {"access_until", served(doc.access_until)},
          {"invitation_id", served(doc.invitation)},
          {"ended_at", served(doc.ended_at)}};
}

json body(const ContractSummary& doc) {
  json out{{"total", doc.total}};
  for (std::size_t i = 0; i < d::kCodeStatuses.size(); ++i) out[d::to_string(d::kCodeStatuses[i])] = doc.by_status[i];
  return out;
}

}  // namespace tessera::projections::detail
