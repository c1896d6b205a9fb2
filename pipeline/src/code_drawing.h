// Internal: fresh code values for a batch, drawn from the CSPRNG, new to the
// store and to the decisions not yet written. The log's expected-version
// check (a code stream must not exist) makes uniqueness hold even against
// other writers.
//
// Threading: the sequencer's thread only (it claims entries in its cache).
#pragma once

#include <cstdint>
#include <functional>
#include <vector>

#include "aggregate_cache.h"
#include "tessera/domain/commands.h"

namespace tessera::pipeline::detail {

// Fills `command.codes` with one value per code the batch makes; each one's
// claimed cache entry is appended to `used`. A batch the domain will refuse
// for its size or prefix is left undrawn: decide() says why.
result<void> draw_codes(domain::GenerateBatch& command, AggregateCache& cache,
                        const std::function<std::uint64_t()>& random_u64, std::vector<Loaded*>& used);

}  // namespace tessera::pipeline::detail
