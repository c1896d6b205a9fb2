#include "tessera/domain/batch_rules.h"

namespace tessera::domain {

std::string_view to_string(BatchStatus status) { return status == BatchStatus::ready ? "ready" : "generating"; }

BatchStatus batch_status(std::uint32_t generated, std::uint32_t quantity) {
  return generated >= quantity ? BatchStatus::ready : BatchStatus::generating;
}

std::uint32_t codes_issued_with(const BatchGenerated& generated) {
  return generated.in_chunks ? 0 : generated.quantity;
}

}  // namespace tessera::domain
