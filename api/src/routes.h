// Internal: the route handlers, one per API operation. Each maps the request
// to a command or a query and the result to a response; none decides.
#pragma once

#include "call.h"

namespace tessera::api::detail {

// An invitation document as its organisation sees it, with its claim token
// and link.
json invitation_view(const Call& call, json body);
// An invitation document as the call's organisation sees it (that view);
// nullopt when it is another organisation's.
std::optional<projections::Document> invitation_as_seen(const Call& call, projections::Document found);

// contracts
Routed create_contract(Call& call);
Routed get_contract(Call& call);
Routed configure_contract(Call& call);
Routed contract_summary(Call& call);
Routed generate_batch(Call& call);
Routed get_batch(Call& call);
Routed download_participants(Call& call);
Routed upload_participants(Call& call);

// sessions
Routed create_session(Call& call);
Routed get_session(Call& call);
Routed change_session(Call& call);
Routed session_seats(Call& call);
Routed session_roster(Call& call);
Routed invite(Call& call);

// codes
Routed list_codes(Call& call);
Routed get_code(Call& call);
Routed edit_code(Call& call);
Routed delete_code(Call& call);
Routed assign_code(Call& call);
Routed archive_code(Call& call);

// invitations, claims, redemptions, registrations
Routed get_invitation(Call& call);
Routed resend_invitation(Call& call);
Routed cancel_invitation(Call& call);
Routed claim(Call& call);
Routed redeem(Call& call);
Routed get_registration(Call& call);
Routed cancel_registration(Call& call);
Routed revoke_registration(Call& call);
Routed change_registration(Call& call);

}  // namespace tessera::api::detail
