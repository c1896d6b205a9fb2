// The events of the domain: facts, named in the past tense, each appended to
// exactly one stream. Their fields are everything replay needs, so folding the
// log never consults anything that may have changed since (prices included).
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <variant>
#include <vector>

#include "tessera/domain/ids.h"
#include "tessera/domain/money.h"
#include "tessera/domain/participant.h"

namespace tessera::domain {

// Who may redeem a code. An empty list does not restrict.
struct Restrictions {
  std::vector<std::string> emails;         // normalised
  std::vector<std::string> email_domains;  // lower-case, no '@'
  std::vector<std::string> regions;
  std::vector<std::string> groups;
  bool operator==(const Restrictions&) const = default;
};

struct ContractCreated {
  OrgId org;
  ContractId contract;
  std::string name;
  bool reuse_cancelled_codes = false;
  std::optional<Money> default_price;
  bool operator==(const ContractCreated&) const = default;
};

struct SessionCreated {
  OrgId org;
  SessionId session;
  std::string name;
  std::uint32_t capacity = 0;
  std::optional<ContractId> contract;
  std::optional<Timestamp> opens_at;
  bool operator==(const SessionCreated&) const = default;
};

// The terms every code of a batch shares; codes refer to them by batch id.
struct BatchGenerated {
  OrgId org;
  BatchId batch;
  ContractId contract;
  std::optional<SessionId> session;
  std::uint32_t quantity = 0;
  std::optional<Money> price;  // none: the contract's rules decide at redemption
  std::string note;
  std::optional<Timestamp> valid_from;
  std::optional<Timestamp> valid_until;
  std::uint32_t max_uses = 1;
  Restrictions restrictions;
  std::string prefix;
  bool operator==(const BatchGenerated&) const = default;
};

struct CodeIssued {
  OrgId org;
  std::string code;  // display form; the stream id carries the key
  BatchId batch;
  std::optional<Participant> assignee;
  bool operator==(const CodeIssued&) const = default;
};

struct CodeRedeemed {
  RegistrationId registration;
  Participant participant;
  SessionId session;
  Timestamp at;
  bool operator==(const CodeRedeemed&) const = default;
};

// A seat taken in a session by a registration (session stream).
struct SeatRegistered {
  RegistrationId registration;
  bool operator==(const SeatRegistered&) const = default;
};

// What a redemption creates (registration stream). The price is resolved at
// decision time and recorded here, so replay never re-evaluates price rules.
struct RegistrationCreated {
  OrgId org;
  RegistrationId registration;
  SessionId session;
  std::optional<std::string> code;
  Participant participant;
  std::optional<Money> price;  // none: free
  Timestamp access_from;
  std::optional<Timestamp> access_until;
  bool operator==(const RegistrationCreated&) const = default;
};

using Event = std::variant<ContractCreated, SessionCreated, BatchGenerated, CodeIssued, CodeRedeemed,
                           SeatRegistered, RegistrationCreated>;

// The stable name of an event's type as written in the log, e.g. "CodeRedeemed".
std::string_view event_type(const Event& event);

// The schema version of each event type; bump it when a type's fields change
// meaning, and teach the codec to read the older versions.
inline constexpr std::uint16_t kEventSchemaVersion = 1;

// An event bound for one stream, as decide() produces it.
struct StreamEvent {
  StreamId stream;
  Event event;
  bool operator==(const StreamEvent&) const = default;
};

}  // namespace tessera::domain
