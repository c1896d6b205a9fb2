// A log made the way the command pipeline makes it, without the pipeline:
// each command is decided by the domain against the states folded so far
// (through the decider harness, given_when_then.h),
// and its events are recorded with their stream versions and increasing
// positions, exactly as the event store would hand them to a projector.
#pragma once

#include <cstdint>
#include <map>
#include <optional>
#include <string>
#include <vector>

#include "given_when_then.h"
#include "tessera/codec/json.h"
#include "tessera/domain/decide.h"
#include "tessera/domain/state.h"
#include "tessera/domain/streams.h"
#include "tessera/eventstore/types.h"

namespace tessera::test_support {

namespace d = tessera::domain;
using eventstore::RecordedEvent;

inline constexpr std::int64_t kT0 = 1'767'225'600'000'000;  // 2026-01-01T00:00:00Z
inline constexpr std::int64_t kMinute = 60'000'000;

inline d::Participant person(std::string email, std::string name = {}) {
  d::Participant p;
  p.email = std::move(email);
  p.name = std::move(name);
  return p;
}

inline d::Money eur(std::int64_t cents) { return d::Money{cents, "EUR"}; }

class World {
 public:
  d::OrgId org{"acme"};
  d::Timestamp now{kT0};

  // Every event recorded so far, in log order.
  const std::vector<RecordedEvent>& log() const { return log_; }

  template <class S>
  const S& state(const d::StreamId& stream) const {
    return states_.get<S>(stream);
  }

  // The streams recorded so far, with their categories.
  std::vector<std::string> streams() const {
    std::vector<std::string> out;
    for (const auto& [stream, version] : versions_) out.push_back(stream);
    return out;
  }

  // Records the events of an accepted command; returns them.
  std::vector<RecordedEvent> commit(const d::Events& events) {
    std::vector<RecordedEvent> out;
    for (const auto& e : events) {
      states_.given(e);
      RecordedEvent r;
      r.position = eventstore::Position{log_.size() + 1};
      r.stream = e.stream.str();
      r.version = eventstore::StreamVersion{++versions_[e.stream.str()]};
      r.type = std::string(d::event_type(e.event));
      r.schema = d::kEventSchemaVersion;
      r.recorded_at_micros = now.micros;
      r.payload = codec::encode_event(e.event);
      log_.push_back(r);
      out.push_back(std::move(r));
    }
    return out;
  }

  // The decision against the current states: the rejection or the events.
  tessera::result<d::Events> decide(const d::Command& command) { return states_.when(command); }

  // Fresh code values for a batch: distinct, reproducible.
  std::vector<d::CodeValue> fresh_codes(std::size_t n, std::string_view prefix = {}) {
    std::vector<d::CodeValue> out;
    for (std::size_t i = 0; i < n; ++i) {
      random_ = random_ * 6364136223846793005ULL + 1442695040888963407ULL;
      out.push_back(d::make_code(random_ >> 4, prefix));
    }
    return out;
  }

  const d::CodeState& code_state(const std::string& key) const { return states_.code(key); }
  const d::BatchState& batch_state(const d::BatchId& batch) const { return states_.batch(org, batch); }
  const d::BatchState& batch_of(const d::CodeState& code) const {
    static const d::BatchState kNone{};
    return code.exists ? states_.batch(code.org, code.batch) : kNone;
  }

 private:
  Given states_;
  std::map<std::string, std::uint64_t> versions_;
  std::vector<RecordedEvent> log_;
  std::uint64_t random_ = 0x2545F4914F6CDD1DULL;
};

}  // namespace tessera::test_support
