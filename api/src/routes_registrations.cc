#include "body_reader.h"
#include "problem.h"
#include "routes.h"
#include "tessera/domain/streams.h"

namespace tessera::api::detail {
namespace {

namespace d = tessera::domain;

d::RegistrationId registration_id(const Call& call) { return d::RegistrationId{call.segment(4)}; }

Response registration_now(const Call& call, const d::OrgId& org, const d::RegistrationId& id,
                          const pipeline::Accepted& accepted, http::status status) {
  wait_for_models(call, accepted.positions.last);
  Response response =
      document_response(call.services.models.registration(org, id), "registration-unknown", "registration");
  response.result(status);
  if (status == http::status::created) {
    response.set(http::field::location, "/v1/orgs/" + org.str() + "/registrations/" + id.str());
  }
  return response;
}

// The invitation if it belongs to the call's organisation.
std::optional<projections::Document> own_invitation(const Call& call, const d::InvitationId& id) {
  auto found = call.services.models.invitation(id);
  if (!found || !found.value() || found.value()->body.value("org", std::string()) != call.org.str()) {
    return std::nullopt;
  }
  return *found.value();
}

Response invitation_now(const Call& call, const d::InvitationId& id, const pipeline::Accepted& accepted) {
  wait_for_models(call, accepted.positions.last);
  const auto found = own_invitation(call, id);
  if (!found) return problem(http::status::not_found, "invitation-unknown", "no such invitation");
  Response response = json_response(http::status::ok, invitation_view(call, found->body));
  response.set(http::field::etag, "\"" + std::to_string(found->version) + "\"");
  return response;
}

}  // namespace

Response get_invitation(Call& call) {
  wait_for_models(call);
  const auto found = own_invitation(call, d::InvitationId{call.segment(4)});
  if (!found) return problem(http::status::not_found, "invitation-unknown", "no such invitation");
  Response response = json_response(http::status::ok, invitation_view(call, found->body));
  response.set(http::field::etag, "\"" + std::to_string(found->version) + "\"");
  return response;
}

Response resend_invitation(Call& call) {
  const d::InvitationId id{call.segment(4)};
  TESSERA_TAKE(accepted, execute(call, d::ResendInvitation{call.org, id, {}}));
  return invitation_now(call, id, accepted);
}

Response cancel_invitation(Call& call) {
  const d::InvitationId id{call.segment(4)};
  TESSERA_TAKE(accepted, execute(call, d::CancelInvitation{call.org, id, {}}));
  return invitation_now(call, id, accepted);
}

Response claim(Call& call) {
  const auto invitation = call.services.claims->verify(call.segment(2));
  if (!invitation) return problem(http::status::not_found, "invitation-unknown", "no invitation has this token");
  d::ClaimInvitation command{*invitation, std::nullopt, d::RegistrationId{call.services.pipeline->new_id()}, {}};
  if (!call.request.body().empty()) {
    TESSERA_TAKE(body, read_json(call));
    BodyReader in(body);
    if (body.is_object() && body.contains("participant")) command.participant = in.participant("participant");
    if (in.problem()) return problem(http::status::unprocessable_entity, "validation", *in.problem());
  }
  TESSERA_TAKE(accepted, execute(call, std::move(command)));
  const auto* registration = first_event<d::RegistrationCreated>(accepted);
  if (registration == nullptr) {
    return problem(http::status::internal_server_error, "internal", "the claim created no registration");
  }
  return registration_now(call, registration->org, registration->registration, accepted, http::status::created);
}

Response redeem(Call& call) {
  TESSERA_TAKE(body, read_json(call));
  BodyReader in(body);
  const std::string typed = in.text("code", true);
  d::Redeem command;
  command.org = call.org;
  command.participant = in.participant("participant");
  if (auto session = in.optional_text("session_id")) command.session = d::SessionId{*session};
  command.registration = d::RegistrationId{call.services.pipeline->new_id()};
  if (in.problem()) return problem(http::status::unprocessable_entity, "validation", *in.problem());
  TESSERA_TAKE(key, code_key(typed));
  command.code_key = key;
  d::RegistrationId id = command.registration;
  TESSERA_TAKE(accepted, execute(call, std::move(command)));
  if (const auto* created = first_event<d::RegistrationCreated>(accepted)) id = created->registration;
  return registration_now(call, call.org, id, accepted, http::status::created);
}

Response get_registration(Call& call) {
  wait_for_models(call);
  return document_response(call.services.models.registration(call.org, registration_id(call)), "registration-unknown",
                           "registration");
}

Response cancel_registration(Call& call) {
  const d::RegistrationId id = registration_id(call);
  TESSERA_TAKE(accepted, execute(call, d::CancelRegistration{call.org, id, {}}));
  return registration_now(call, call.org, id, accepted, http::status::ok);
}

Response revoke_registration(Call& call) {
  const d::RegistrationId id = registration_id(call);
  TESSERA_TAKE(accepted, execute(call, d::RevokeRegistration{call.org, id, {}}));
  return registration_now(call, call.org, id, accepted, http::status::ok);
}

Response change_registration(Call& call) {
  TESSERA_TAKE(body, read_json(call));
  BodyReader in(body);
  const d::RegistrationId id = registration_id(call);
  d::ChangeAccess command{call.org, id, in.time("access_until")};
  if (!body.is_object() || !body.contains("access_until")) {
    return problem(http::status::unprocessable_entity, "validation", "access_until is required (null: no end)");
  }
  if (in.problem()) return problem(http::status::unprocessable_entity, "validation", *in.problem());
  TESSERA_TAKE(condition, precondition(call, d::registration_stream(call.org, id)));
  TESSERA_TAKE(accepted, execute(call, std::move(command), condition));
  return registration_now(call, call.org, id, accepted, http::status::ok);
}

}  // namespace tessera::api::detail
