#include "tessera/domain/code_rules.h"

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

CodeStatus code_status(const CodeStatusFacts& facts) {
  if (facts.archived) return CodeStatus::archived;
  if (facts.uses >= facts.max_uses) return CodeStatus::used;
  if (facts.assigned) return CodeStatus::assigned;
  return CodeStatus::available;
}

}  // namespace tessera::domain
