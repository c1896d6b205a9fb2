#include "body_reader.h"
#include "routes.h"
#include "tessera/domain/streams.h"

namespace tessera::api::detail {
namespace {

namespace d = tessera::domain;

d::SessionId session_id(const Call& call) { return d::SessionId{call.segment(4)}; }

std::string session_location(const Call& call, const d::SessionId& id) {
  return "/v1/orgs/" + call.org.str() + "/sessions/" + id.str();
}

Routed session_written(const Call& call, const d::SessionId& id, const pipeline::Accepted& accepted,
                       http::status status) {
  co_return co_await written(call, accepted, status, session_location(call, id), d::session_stream(call.org, id));
}

}  // namespace

std::optional<projections::Document> invitation_as_seen(const Call& call, projections::Document found) {
  if (found.body.value("org", std::string()) != call.org.str()) return std::nullopt;
  found.body = invitation_view(call, std::move(found.body));
  return found;
}

// The invitation as its organisation sees it: with the claim token and link
// (null where the claim key is not known).
json invitation_view(const Call& call, json body) {
  body.erase("org");
  if (call.services.claims == nullptr) {
    body["claim_token"] = nullptr;
    body["claim_url"] = nullptr;
    return body;
  }
  const d::InvitationId id{body.value("id", std::string())};
  const std::string token = call.services.claims->token(id);
  body["claim_token"] = token;
  const std::string host = call.header(http::field::host);
  body["claim_url"] = (host.empty() ? std::string() : "http://" + host) + "/v1/claims/" + token;
  return body;
}

Routed create_session(Call& call) {
  BOOST_OUTCOME_CO_TRY(body, read_json(call));
  BodyReader in(body);
  d::CreateSession command{call.org,
                           d::SessionId{call.services.pipeline->new_id()},
                           in.text("name", true),
                           in.count("capacity", std::nullopt),
                           std::nullopt,
                           in.time("opens_at")};
  if (auto contract = in.optional_text("contract_id")) command.contract = d::ContractId{*contract};
  BOOST_OUTCOME_CO_TRY(in.finish());
  d::SessionId id = command.session;
  BOOST_OUTCOME_CO_TRY(accepted, co_await execute(call, std::move(command)));
  if (const auto* created = first_event<d::SessionCreated>(accepted)) id = created->session;
  co_return co_await session_written(call, id, accepted, http::status::created);
}

Routed get_session(Call& call) {
  BOOST_OUTCOME_CO_TRY(co_await wait_for_models(call));
  co_return document_response(call.services.models.session(call.org, session_id(call)), d::errc::session_unknown,
                              "session");
}

Routed change_session(Call& call) {
  BOOST_OUTCOME_CO_TRY(body, read_json(call));
  BodyReader in(body);
  d::EditSession command{call.org, session_id(call), std::nullopt, in.optional_text("name"), std::nullopt};
  if (body.is_object() && body.contains("capacity")) command.capacity = in.count("capacity", std::nullopt);
  if (body.is_object() && body.contains("opens_at")) command.opens_at = in.time("opens_at");
  BOOST_OUTCOME_CO_TRY(in.finish());
  BOOST_OUTCOME_CO_TRY(condition, precondition(call, d::session_stream(call.org, command.session)));
  const d::SessionId id = command.session;
  BOOST_OUTCOME_CO_TRY(accepted, co_await execute(call, std::move(command), condition));
  co_return co_await session_written(call, id, accepted, http::status::ok);
}

Routed session_seats(Call& call) {
  BOOST_OUTCOME_CO_TRY(co_await wait_for_models(call));
  auto found = call.services.models.seats(call.org, session_id(call));
  if (!found) co_return found.error();
  if (!found.value()) co_return Error(d::errc::session_unknown, "no session " + call.segment(4));
  const auto& s = *found.value();
  co_return json_response(
      http::status::ok,
      {{"capacity", s.capacity}, {"reserved", s.reserved}, {"registered", s.registered}, {"available", s.available()}});
}

Routed session_roster(Call& call) {
  BOOST_OUTCOME_CO_TRY(co_await wait_for_models(call));
  auto found = call.services.models.roster(call.org, session_id(call));
  if (!found) co_return found.error();
  if (!found.value()) co_return Error(d::errc::session_unknown, "no session " + call.segment(4));
  json roster = *found.value();
  for (auto& invitation : roster["invitations"]) invitation = invitation_view(call, invitation);
  co_return json_response(http::status::ok, roster);
}

Routed invite(Call& call) {
  BOOST_OUTCOME_CO_TRY(body, read_json(call));
  BodyReader in(body);
  d::Invite command;
  command.org = call.org;
  command.invitation = d::InvitationId{call.services.pipeline->new_id()};
  command.session = session_id(call);
  command.participant = in.participant("participant");
  const auto typed_code = in.optional_text("code");
  command.expires_at = in.time("expires_at");
  command.bind_to_email = in.flag("bind_to_email", false);
  command.confirm_over_capacity = in.flag("confirm_over_capacity", false);
  BOOST_OUTCOME_CO_TRY(in.finish());
  if (typed_code) {
    BOOST_OUTCOME_CO_TRY(key, code_key(*typed_code));
    command.code_key = key;
  }
  d::InvitationId id = command.invitation;
  BOOST_OUTCOME_CO_TRY(accepted, co_await execute(call, std::move(command)));
  if (const auto* sent = first_event<d::InvitationSent>(accepted)) id = sent->invitation;
  co_return co_await written(
      call, accepted, http::status::created, "/v1/orgs/" + call.org.str() + "/invitations/" + id.str(),
      d::invitation_stream(id),
      DocumentView([&](projections::Document found) { return invitation_as_seen(call, std::move(found)); }));
}

}  // namespace tessera::api::detail
