#include "body_reader.h"
#include "problem.h"
#include "routes.h"
#include "tessera/domain/streams.h"

namespace tessera::api::detail {
namespace {

namespace d = tessera::domain;

d::SessionId session_id(const Call& call) { return d::SessionId{call.segment(4)}; }

Response session_now(const Call& call, const d::SessionId& id, const pipeline::Accepted& accepted,
                     http::status status) {
  wait_for_models(call, accepted.positions.last);
  Response response = document_response(call.services.models.session(call.org, id), "session-unknown", "session");
  response.result(status);
  return response;
}

}  // namespace

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

Response create_session(Call& call) {
  TESSERA_TAKE(body, read_json(call));
  BodyReader in(body);
  d::CreateSession command{call.org,
                           d::SessionId{call.services.pipeline->new_id()},
                           in.text("name", true),
                           in.count("capacity", std::nullopt),
                           std::nullopt,
                           in.time("opens_at")};
  if (auto contract = in.optional_text("contract_id")) command.contract = d::ContractId{*contract};
  if (in.problem()) return problem(http::status::unprocessable_entity, "validation", *in.problem());
  d::SessionId id = command.session;
  TESSERA_TAKE(accepted, execute(call, std::move(command)));
  if (const auto* created = first_event<d::SessionCreated>(accepted)) id = created->session;
  Response response = session_now(call, id, accepted, http::status::created);
  response.set(http::field::location, "/v1/orgs/" + call.org.str() + "/sessions/" + id.str());
  return response;
}

Response get_session(Call& call) {
  wait_for_models(call);
  return document_response(call.services.models.session(call.org, session_id(call)), "session-unknown", "session");
}

Response change_session(Call& call) {
  TESSERA_TAKE(body, read_json(call));
  BodyReader in(body);
  d::ChangeCapacity command{call.org, session_id(call), in.count("capacity", std::nullopt)};
  if (in.problem()) return problem(http::status::unprocessable_entity, "validation", *in.problem());
  TESSERA_TAKE(condition, precondition(call, d::session_stream(call.org, command.session)));
  const d::SessionId id = command.session;
  TESSERA_TAKE(accepted, execute(call, std::move(command), condition));
  return session_now(call, id, accepted, http::status::ok);
}

Response session_seats(Call& call) {
  wait_for_models(call);
  auto found = call.services.models.seats(call.org, session_id(call));
  if (!found) return problem_for(found.error(), "the read models cannot be read");
  if (!found.value()) return problem(http::status::not_found, "session-unknown", "no session " + call.segment(4));
  const auto& s = *found.value();
  return json_response(
      http::status::ok,
      {{"capacity", s.capacity}, {"reserved", s.reserved}, {"registered", s.registered}, {"available", s.available()}});
}

Response session_roster(Call& call) {
  wait_for_models(call);
  auto found = call.services.models.roster(call.org, session_id(call));
  if (!found) return problem_for(found.error(), "the read models cannot be read");
  if (!found.value()) return problem(http::status::not_found, "session-unknown", "no session " + call.segment(4));
  json roster = *found.value();
  for (auto& invitation : roster["invitations"]) invitation = invitation_view(call, invitation);
  return json_response(http::status::ok, roster);
}

Response invite(Call& call) {
  TESSERA_TAKE(body, read_json(call));
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
  if (in.problem()) return problem(http::status::unprocessable_entity, "validation", *in.problem());
  if (typed_code) {
    TESSERA_TAKE(key, code_key(*typed_code));
    command.code_key = key;
  }
  d::InvitationId id = command.invitation;
  TESSERA_TAKE(accepted, execute(call, std::move(command)));
  if (const auto* sent = first_event<d::InvitationSent>(accepted)) id = sent->invitation;
  wait_for_models(call, accepted.positions.last);
  auto found = call.services.models.invitation(id);
  if (!found || !found.value()) return problem_for(found ? std::error_code() : found.error(), "not yet readable");
  return created(invitation_view(call, found.value()->body), "/v1/orgs/" + call.org.str() + "/invitations/" + id.str());
}

}  // namespace tessera::api::detail
