// Internal: the route handlers, one per API operation. Each maps the request
// to a command or a query and the result to a response; none decides.
#pragma once

#include "call.h"

namespace tessera::api::detail {

// An invitation document as its organisation sees it, with its claim token
// and link.
json invitation_view(const Call& call, json body);

// contracts
Answer create_contract(Call& call);
Answer get_contract(Call& call);
Answer configure_contract(Call& call);
Answer contract_summary(Call& call);
Answer generate_batch(Call& call);
Answer download_participants(Call& call);
Answer upload_participants(Call& call);

// sessions
Answer create_session(Call& call);
Answer get_session(Call& call);
Answer change_session(Call& call);
Answer session_seats(Call& call);
Answer session_roster(Call& call);
Answer invite(Call& call);

// codes
Answer list_codes(Call& call);
Answer get_code(Call& call);
Answer edit_code(Call& call);
Answer delete_code(Call& call);
Answer assign_code(Call& call);
Answer archive_code(Call& call);

// invitations, claims, redemptions, registrations
Answer get_invitation(Call& call);
Answer resend_invitation(Call& call);
Answer cancel_invitation(Call& call);
Answer claim(Call& call);
Answer redeem(Call& call);
Answer get_registration(Call& call);
Answer cancel_registration(Call& call);
Answer revoke_registration(Call& call);
Answer change_registration(Call& call);

}  // namespace tessera::api::detail
