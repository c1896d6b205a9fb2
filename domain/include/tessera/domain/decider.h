// The one entry to decisions: which aggregates a command is decided against,
// and the decision. The pipeline, the domain tests, the property tests and
// the projection tests all decide through decide(command, aggregates), so
// the rule of what a command reads is written here and nowhere else.
//
// Loading may follow the state: a redemption reads its code, then the code's
// batch, then the batch's contract and the session the batch names. The
// caller only answers "the state of this stream", from wherever it keeps
// states (the pipeline's cache, a test's map); decide() stays pure.
#pragma once

#include <variant>

#include "tessera/domain/commands.h"
#include "tessera/domain/decide.h"
#include "tessera/domain/state.h"

namespace tessera::domain {

// Where decide() reads aggregates from.
class Aggregates {
 public:
  virtual ~Aggregates() = default;
  // The aggregate of `stream`: a monostate when it has no events. A source
  // that fails to load answers monostate too, and must then discard the
  // decision (the pipeline refuses the command with the load's error).
  virtual const AggregateState& load(const StreamId& stream) = 0;
};

// The state an aggregate holds as an S; a default S ("does not exist") when
// it is of no kind yet, or of another kind.
template <class S>
const S& as(const AggregateState& state) {
  static const S kMissing{};
  const S* s = std::get_if<S>(&state);
  return s ? *s : kMissing;
}

// The stream of the aggregate a command is about (a code's for the commands
// on codes), the first that decide() loads; new for the commands that
// create (a contract, a session, a batch, an invitation, a registration's).
StreamId own_stream(const Command& command);

// Loads, through `aggregates`, every state the command is decided against,
// then decides. A GenerateBatch carries its code values already drawn.
result<Events> decide(const Command& command, Aggregates& aggregates);

}  // namespace tessera::domain
