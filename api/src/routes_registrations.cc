#include "body_reader.h"
#include "routes.h"
#include "tessera/api/errc.h"
#include "tessera/domain/streams.h"

namespace tessera::api::detail {
namespace {

namespace d = tessera::domain;

d::RegistrationId registration_id(const Call& call) { return d::RegistrationId{call.segment(4)}; }

Routed registration_written(const Call& call, const d::OrgId& org, const d::RegistrationId& id,
                            const pipeline::Accepted& accepted, http::status status) {
  co_return co_await written(call, accepted, status, "/v1/orgs/" + org.str() + "/registrations/" + id.str(),
                             d::registration_stream(org, id));
}

// The invitation if it belongs to the call's organisation, as it sees it.
result<std::optional<projections::Document>> own_invitation(const Call& call, const d::InvitationId& id) {
  BOOST_OUTCOME_TRY(found, call.services.models.invitation(id));
  if (!found) return std::optional<projections::Document>();
  return invitation_as_seen(call, std::move(*found));
}

Routed invitation_written(const Call& call, const d::InvitationId& id, const pipeline::Accepted& accepted) {
  co_return co_await written(
      call, accepted, http::status::ok, "/v1/orgs/" + call.org.str() + "/invitations/" + id.str(),
      d::invitation_stream(id),
      DocumentView([&](projections::Document found) { return invitation_as_seen(call, std::move(found)); }));
}

}  // namespace

Routed get_invitation(Call& call) {
  BOOST_OUTCOME_CO_TRY(co_await wait_for_models(call));
  co_return document_response(own_invitation(call, d::InvitationId{call.segment(4)}), d::errc::invitation_unknown,
                              "invitation");
}

Routed resend_invitation(Call& call) {
  const d::InvitationId id{call.segment(4)};
  d::Command command = d::ResendInvitation{call.org, id, {}};
  BOOST_OUTCOME_CO_TRY(accepted, co_await execute(call, std::move(command)));
  co_return co_await invitation_written(call, id, accepted);
}

Routed cancel_invitation(Call& call) {
  const d::InvitationId id{call.segment(4)};
  d::Command command = d::CancelInvitation{call.org, id, {}};
  BOOST_OUTCOME_CO_TRY(accepted, co_await execute(call, std::move(command)));
  co_return co_await invitation_written(call, id, accepted);
}

Routed claim(Call& call) {
  const auto invitation = call.services.claims->verify(call.segment(2));
  if (!invitation) co_return Error(d::errc::invitation_unknown, "no invitation has this token");
  d::ClaimInvitation command{*invitation, std::nullopt, d::RegistrationId{call.services.pipeline->new_id()}, {}};
  if (!call.request.body().empty()) {
    BOOST_OUTCOME_CO_TRY(body, read_json(call));
    BodyReader in(body);
    if (body.is_object() && body.contains("participant")) command.participant = in.participant("participant");
    BOOST_OUTCOME_CO_TRY(in.finish());
  }
  BOOST_OUTCOME_CO_TRY(accepted, co_await execute(call, std::move(command)));
  const auto* registration = first_event<d::RegistrationCreated>(accepted);
  if (registration == nullptr) {
    co_return Error(errc::internal, "the claim created no registration");
  }
  co_return co_await registration_written(call, registration->org, registration->registration, accepted,
                                          http::status::created);
}

Routed redeem(Call& call) {
  BOOST_OUTCOME_CO_TRY(body, read_json(call));
  BodyReader in(body);
  const std::string typed = in.text("code", true);
  d::Redeem command;
  command.org = call.org;
  command.participant = in.participant("participant");
  if (auto session = in.optional_text("session_id")) command.session = d::SessionId{*session};
  command.registration = d::RegistrationId{call.services.pipeline->new_id()};
  BOOST_OUTCOME_CO_TRY(in.finish());
  BOOST_OUTCOME_CO_TRY(key, code_key(typed));
  command.code_key = key;
  d::RegistrationId id = command.registration;
  BOOST_OUTCOME_CO_TRY(accepted, co_await execute(call, std::move(command)));
  if (const auto* created = first_event<d::RegistrationCreated>(accepted)) id = created->registration;
  co_return co_await registration_written(call, call.org, id, accepted, http::status::created);
}

Routed get_registration(Call& call) {
  BOOST_OUTCOME_CO_TRY(co_await wait_for_models(call));
  co_return document_response(call.services.models.registration(call.org, registration_id(call)),
                              d::errc::registration_unknown, "registration");
}

Routed cancel_registration(Call& call) {
  const d::RegistrationId id = registration_id(call);
  d::Command command = d::CancelRegistration{call.org, id, {}};
  BOOST_OUTCOME_CO_TRY(accepted, co_await execute(call, std::move(command)));
  co_return co_await registration_written(call, call.org, id, accepted, http::status::ok);
}

Routed revoke_registration(Call& call) {
  const d::RegistrationId id = registration_id(call);
  d::Command command = d::RevokeRegistration{call.org, id, {}};
  BOOST_OUTCOME_CO_TRY(accepted, co_await execute(call, std::move(command)));
  co_return co_await registration_written(call, call.org, id, accepted, http::status::ok);
}

Routed change_registration(Call& call) {
  BOOST_OUTCOME_CO_TRY(body, read_json(call));
  BodyReader in(body);
  const d::RegistrationId id = registration_id(call);
  d::ChangeAccess command{call.org, id, in.time("access_until")};
  if (!body.is_object() || !body.contains("access_until")) {
    co_return Error(d::errc::validation, "access_until is required (null: no end)");
  }
  BOOST_OUTCOME_CO_TRY(in.finish());
  BOOST_OUTCOME_CO_TRY(condition, precondition(call, d::registration_stream(call.org, id)));
  BOOST_OUTCOME_CO_TRY(accepted, co_await execute(call, std::move(command), condition));
  co_return co_await registration_written(call, call.org, id, accepted, http::status::ok);
}

}  // namespace tessera::api::detail
