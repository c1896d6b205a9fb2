// What a batch is, from what its events counted: whether its codes may be
// used yet. The pipeline's decisions (BatchState::ready()), the read models
// and the API's answers all read it here.
#pragma once

#include <cstdint>
#include <string_view>

#include "tessera/domain/events.h"

namespace tessera::domain {

// generating until every code of the batch is issued, then ready.
enum class BatchStatus { generating, ready };

std::string_view to_string(BatchStatus status);

BatchStatus batch_status(std::uint32_t generated, std::uint32_t quantity);

// The codes issued in the same write as the batch's BatchGenerated: all of
// them, or none for a batch generated in chunks (its BatchChunkIssued events
// count the rest).
std::uint32_t codes_issued_with(const BatchGenerated& generated);

}  // namespace tessera::domain
