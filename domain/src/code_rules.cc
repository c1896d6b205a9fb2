#include "tessera/domain/code_rules.h"

#include "tessera/domain/errc.h"

namespace tessera::domain {

std::string_view to_string(CodeStatus status) {
  switch (status) {
    case CodeStatus::available:
      return "available";
    case CodeStatus::assigned:
      return "assigned";
    case CodeStatus::used:
      return "used";
    case CodeStatus::archived:
      return "archived";
  }
  return "available";
}

std::optional<CodeStatus> parse_code_status(std::string_view slug) {
  for (const CodeStatus status : kCodeStatuses) {
    if (to_string(status) == slug) return status;
  }
  return std::nullopt;
}

bool exhausted(const CodeStatusFacts& facts) { return facts.uses >= facts.max_uses; }

CodeStatus code_status(const CodeStatusFacts& facts) {
  if (facts.archived) return CodeStatus::archived;
  if (exhausted(facts)) return CodeStatus::used;
  if (facts.assigned) return CodeStatus::assigned;
  return CodeStatus::available;
}

bool taken_meanwhile(const std::error_code& refusal) {
  return refusal == errc::code_assigned_elsewhere || refusal == errc::code_exhausted ||
         refusal == errc::code_archived || refusal == errc::code_unknown;
}

}  // namespace tessera::domain
