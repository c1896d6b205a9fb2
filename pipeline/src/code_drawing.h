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

// Fills `codes` with `wanted` values under `prefix` (a valid one, or none);
// each one's claimed cache entry is appended to `used`. How many a command
// needs, the domain says (codes_to_draw()).
result<void> draw_codes(std::uint32_t wanted, const std::string& prefix, std::vector<domain::CodeValue>& codes,
                        AggregateCache& cache, const std::function<std::uint64_t()>& random_u64,
                        std::vector<Loaded*>& used);

}  // namespace tessera::pipeline::detail
