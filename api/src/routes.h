// Internal: the route handlers, one per API operation. Each maps the request
// to a command or a query and the result to a response; none decides.
#pragma once

#include "call.h"

namespace tessera::api::detail {

// An invitation document as its organisation sees it, with its claim token
// and link.
json invitation_view(const Call& call, json body);

// contracts
Response create_contract(Call& call);
Response get_contract(Call& call);
Response configure_contract(Call& call);
Response contract_summary(Call& call);
Response generate_batch(Call& call);
Response download_participants(Call& call);
Response upload_participants(Call& call);

// sessions
Response create_session(Call& call);
Response get_session(Call& call);
Response change_session(Call& call);
Response session_seats(Call& call);
Response session_roster(Call& call);
Response invite(Call& call);

// codes
Response list_codes(Call& call);
Response get_code(Call& call);
Response edit_code(Call& call);
Response delete_code(Call& call);
Response assign_code(Call& call);
Response archive_code(Call& call);

// invitations, claims, redemptions, registrations
Response get_invitation(Call& call);
Response resend_invitation(Call& call);
Response cancel_invitation(Call& call);
Response claim(Call& call);
Response redeem(Call& call);
Response get_registration(Call& call);
Response cancel_registration(Call& call);
Response revoke_registration(Call& call);
Response change_registration(Call& call);

}  // namespace tessera::api::detail
