#include "tessera/domain/streams.h"

#include <string>

namespace tessera::domain {
namespace {

StreamId join(std::string_view category, const std::string& org, const std::string& id) {
  std::string s;
  s.reserve(category.size() + org.size() + id.size() + 2);
  s.append(category).append("-").append(org).append("-").append(id);
  return StreamId(std::move(s));
}

}  // namespace

StreamId contract_stream(const OrgId& org, const ContractId& contract) {
  return join("contract", org.str(), contract.str());
}
StreamId session_stream(const OrgId& org, const SessionId& session) {
  return join("session", org.str(), session.str());
}
StreamId batch_stream(const OrgId& org, const BatchId& batch) { return join("batch", org.str(), batch.str()); }
StreamId registration_stream(const OrgId& org, const RegistrationId& registration) {
  return join("registration", org.str(), registration.str());
}
namespace {
constexpr std::string_view kCodePrefix = "code-";
}

StreamId code_stream(std::string_view code_key) { return StreamId(std::string(kCodePrefix) + std::string(code_key)); }

std::optional<std::string> code_key_of_stream(const StreamId& stream) {
  if (!stream.str().starts_with(kCodePrefix)) return std::nullopt;
  return stream.str().substr(kCodePrefix.size());
}

StreamId invitation_stream(const InvitationId& invitation) { return StreamId("invitation-" + invitation.str()); }

std::string_view stream_category(std::string_view stream) { return stream.substr(0, stream.find('-')); }

}  // namespace tessera::domain
