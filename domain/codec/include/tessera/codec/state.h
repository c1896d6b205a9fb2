// JSON forms of aggregate states, for snapshots: a state folded from a long
// stream is kept so that a later load folds only the events after it.
//
// A snapshot is a cache of the log, never a source of truth: decode_state()
// answers nullopt for anything it cannot read exactly (another format
// version, a malformed document), and the caller then folds the stream from
// its first event.
#pragma once

#include <optional>
#include <string>
#include <string_view>

#include "tessera/domain/state.h"

namespace tessera::codec {

// Bump when the encoding of any state changes: older snapshots are then
// ignored, not misread.
inline constexpr int kStateFormat = 2;  // 2: a batch counts its codes generated

std::string encode_state(const domain::AggregateState& state);
std::optional<domain::AggregateState> decode_state(std::string_view text);

}  // namespace tessera::codec
