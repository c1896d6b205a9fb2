#include "tessera/domain/errc.h"

#include <string>

namespace tessera::domain {
namespace {

class DomainCategory final : public tessera::error_category {
 public:
  const char* name() const noexcept override { return "tessera.domain"; }
  std::string message(int condition) const override { return std::string(slug(static_cast<errc>(condition))); }
  // A rejection is a verdict on the command against settled state: repeating
  // the same command cannot change it. Except before a batch is ready, which
  // it becomes without anyone's doing.
  retry advice(int condition) const noexcept override {
    return static_cast<errc>(condition) == errc::batch_not_ready ? retry::call : retry::no;
  }
};

}  // namespace

const tessera::error_category& domain_category() noexcept {
  static const DomainCategory category;
  return category;
}

std::error_code make_error_code(errc e) noexcept { return {static_cast<int>(e), domain_category()}; }

std::string_view slug(errc e) noexcept {
  switch (e) {
    case errc::validation:
      return "validation";
    case errc::code_malformed:
      return "code-malformed";
    case errc::code_unknown:
      return "code-unknown";
    case errc::code_exhausted:
      return "code-exhausted";
    case errc::code_expired:
      return "code-expired";
    case errc::code_not_yet_valid:
      return "code-not-yet-valid";
    case errc::code_archived:
      return "code-archived";
    case errc::code_restricted:
      return "code-restricted";
    case errc::code_assigned_elsewhere:
      return "code-assigned-elsewhere";
    case errc::code_used:
      return "code-used";
    case errc::session_full:
      return "session-full";
    case errc::session_not_open:
      return "session-not-open";
    case errc::capacity_below_occupancy:
      return "capacity-below-occupancy";
    case errc::invitation_not_pending:
      return "invitation-not-pending";
    case errc::invitation_bound:
      return "invitation-bound";
    case errc::contract_unknown:
      return "contract-unknown";
    case errc::session_unknown:
      return "session-unknown";
    case errc::already_exists:
      return "already-exists";
    case errc::invitation_unknown:
      return "invitation-unknown";
    case errc::registration_unknown:
      return "registration-unknown";
    case errc::registration_not_active:
      return "registration-not-active";
    case errc::code_invited:
      return "code-invited";
    case errc::batch_not_ready:
      return "batch-not-ready";
    case errc::batch_unknown:
      return "batch-unknown";
  }
  return "unknown";
}

}  // namespace tessera::domain
