// Strong types for the identifiers and counters of the domain, so that a
// session id cannot be passed where a contract id is expected.
#pragma once

#include <compare>
#include <cstdint>
#include <functional>
#include <string>
#include <utility>

namespace tessera::domain {

template <class Tag>
class Id {
 public:
  Id() = default;
  explicit Id(std::string value) : value_(std::move(value)) {}

  const std::string& str() const { return value_; }
  bool empty() const { return value_.empty(); }

  auto operator<=>(const Id&) const = default;

 private:
  std::string value_;
};

using OrgId = Id<struct OrgTag>;
using ContractId = Id<struct ContractTag>;
using SessionId = Id<struct SessionTag>;
using BatchId = Id<struct BatchTag>;
using RegistrationId = Id<struct RegistrationTag>;
using InvitationId = Id<struct InvitationTag>;

// The name of one event stream (one aggregate instance), e.g. "session-acme-s_1".
using StreamId = Id<struct StreamTag>;

// Microseconds since the Unix epoch, UTC. The domain never reads a clock: every
// command carries the instant at which it is decided.
struct Timestamp {
  std::int64_t micros = 0;
  auto operator<=>(const Timestamp&) const = default;
};

}  // namespace tessera::domain

template <class Tag>
struct std::hash<tessera::domain::Id<Tag>> {
  std::size_t operator()(const tessera::domain::Id<Tag>& id) const noexcept {
    return std::hash<std::string>{}(id.str());
  }
};
