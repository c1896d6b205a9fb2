// Stream naming. A stream id is "<category>-<rest>"; the category names the
// aggregate type and, downstream, the Kafka topic ("tessera.<category>s").
#pragma once

#include <array>
#include <optional>
#include <string>
#include <string_view>

#include "tessera/domain/ids.h"

namespace tessera::domain {

StreamId contract_stream(const OrgId& org, const ContractId& contract);
StreamId session_stream(const OrgId& org, const SessionId& session);
StreamId batch_stream(const OrgId& org, const BatchId& batch);
StreamId registration_stream(const OrgId& org, const RegistrationId& registration);
// Code streams are keyed by the normalised code alone, not by organisation:
// that makes code values unique across the whole store.
StreamId code_stream(std::string_view code_key);
// The code key a code stream is named after (code_stream's inverse);
// nullopt for a stream of another category.
std::optional<std::string> code_key_of_stream(const StreamId& stream);
// Invitation streams are keyed by the invitation id alone (75 random bits):
// a claim token names the invitation, not its organisation.
StreamId invitation_stream(const InvitationId& invitation);

// Every category the functions above name streams in.
inline constexpr std::array<std::string_view, 6> kStreamCategories = {"contract",     "session", "batch",
                                                                      "registration", "code",    "invitation"};

// "session" for "session-acme-s1"; the whole id when it has no '-'.
std::string_view stream_category(std::string_view stream);

}  // namespace tessera::domain
