// The events of the domain: facts, named in the past tense, each appended to
// exactly one stream. Their fields are everything replay needs, so folding the
// log never consults anything that may have changed since (prices included).
#pragma once

#include <cstdint>
#include <optional>
#include <span>
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

// The contract's settings as they now are (all of them, not a difference).
struct ContractConfigured {
  std::string name;
  bool reuse_cancelled_codes = false;
  std::optional<Money> default_price;
  bool operator==(const ContractConfigured&) const = default;
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

struct SessionCapacityChanged {
  std::uint32_t capacity = 0;
  bool operator==(const SessionCapacityChanged&) const = default;
};

// A session's name and opening after an edit (both, as they now stand).
struct SessionEdited {
  std::string name;
  std::optional<Timestamp> opens_at;
  bool operator==(const SessionEdited&) const = default;
};

// A pending invitation holds a seat. Over capacity (confirmed by the
// inviter), the session's capacity rises by one to make room.
struct SeatReserved {
  InvitationId invitation;
  bool over_capacity = false;
  bool operator==(const SeatReserved&) const = default;
};

// An invitation that ended without a registration gave its seat back.
struct SeatReleased {
  InvitationId invitation;
  bool operator==(const SeatReleased&) const = default;
};

// A seat taken by a registration; when it came from an invitation, the
// invitation's reserved seat becomes this registered one.
struct SeatRegistered {
  RegistrationId registration;
  std::optional<InvitationId> invitation;
  bool operator==(const SeatRegistered&) const = default;
};

// A registration was cancelled or revoked: its seat is free again.
struct SeatFreed {
  RegistrationId registration;
  bool operator==(const SeatFreed&) const = default;
};

// The terms every code of a batch shares; codes refer to them by batch id.
// A batch of at most kLargestBatchAtOnce codes comes with its CodeIssued
// events in the same write; a larger one (`in_chunks`) is a job, its codes
// issued afterwards by BatchChunkIssued writes, in turn with other commands.
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
  bool in_chunks = false;  // absent from events written before jobs existed: false
  bool operator==(const BatchGenerated&) const = default;
};

// Codes `from` to `from + count - 1` of a batch generated in chunks were
// issued (the CodeIssued events beside it, in the same write).
struct BatchChunkIssued {
  std::uint32_t from = 0;
  std::uint32_t count = 0;
  bool operator==(const BatchChunkIssued&) const = default;
};

struct CodeIssued {
  OrgId org;
  std::string code;  // display form; the stream id carries the key
  BatchId batch;
  std::optional<Participant> assignee;
  std::optional<Money> price;  // this code's own price, over the batch's
  bool operator==(const CodeIssued&) const = default;
};

struct CodeAssigned {
  Participant participant;
  bool operator==(const CodeAssigned&) const = default;
};

// What an edit changed: each field present replaces the code's own value.
struct CodeEdited {
  std::optional<std::string> note;
  std::optional<Money> price;
  std::optional<Timestamp> valid_from;
  std::optional<Timestamp> valid_until;
  bool operator==(const CodeEdited&) const = default;
};

struct CodeArchived {
  bool operator==(const CodeArchived&) const = default;
};

struct CodeDeleted {
  bool operator==(const CodeDeleted&) const = default;
};

// A pending invitation points at the code; the first invitee to accept
// claims it and the others are superseded.
struct CodeInvitationAttached {
  InvitationId invitation;
  SessionId session;
  bool operator==(const CodeInvitationAttached&) const = default;
};

// An invitation that pointed at the code was cancelled or expired.
struct CodeInvitationDetached {
  InvitationId invitation;
  bool operator==(const CodeInvitationDetached&) const = default;
};

// A use taken, by a redemption or by the claim of `invitation`. When it takes
// the last use, the other pending invitations attached are `superseded`.
struct CodeRedeemed {
  RegistrationId registration;
  Participant participant;
  SessionId session;
  Timestamp at;
  std::optional<InvitationId> invitation;
  std::vector<InvitationId> superseded;
  bool operator==(const CodeRedeemed&) const = default;
};

// A use given back: by a revoke (the code returns to the pool, unassigned) or
// by a cancelled booking under the contract's reuse policy (it stays as it was).
struct CodeUseReleased {
  RegistrationId registration;
  bool unassign = false;
  bool operator==(const CodeUseReleased&) const = default;
};

struct InvitationSent {
  OrgId org;
  InvitationId invitation;
  SessionId session;
  Participant participant;
  std::optional<std::string> code;  // display form
  std::optional<Timestamp> expires_at;
  bool bind_to_email = false;
  bool over_capacity = false;
  Timestamp at;
  bool operator==(const InvitationSent&) const = default;
};

struct InvitationResent {
  Timestamp at;
  bool operator==(const InvitationResent&) const = default;
};

struct InvitationCancelled {
  Timestamp at;
  bool operator==(const InvitationCancelled&) const = default;
};

struct InvitationExpired {
  Timestamp at;
  bool operator==(const InvitationExpired&) const = default;
};

// Someone else took the code's last use first (this registration).
struct InvitationSuperseded {
  RegistrationId by;
  Timestamp at;
  bool operator==(const InvitationSuperseded&) const = default;
};

struct InvitationAccepted {
  RegistrationId registration;
  Timestamp at;
  bool operator==(const InvitationAccepted&) const = default;
};

// What a redemption or a claim creates (registration stream). The price is
// resolved at decision time and recorded here, so replay never re-evaluates
// price rules.
struct RegistrationCreated {
  OrgId org;
  RegistrationId registration;
  SessionId session;
  std::optional<std::string> code;
  Participant participant;
  std::optional<Money> price;  // none: free
  Timestamp access_from;
  std::optional<Timestamp> access_until;
  std::optional<InvitationId> invitation;
  bool operator==(const RegistrationCreated&) const = default;
};

struct RegistrationCancelled {
  Timestamp at;
  bool code_reusable = false;  // the contract's policy when it was decided
  bool operator==(const RegistrationCancelled&) const = default;
};

struct RegistrationRevoked {
  Timestamp at;
  bool operator==(const RegistrationRevoked&) const = default;
};

struct RegistrationAccessChanged {
  std::optional<Timestamp> access_until;
  bool operator==(const RegistrationAccessChanged&) const = default;
};

using Event =
    std::variant<ContractCreated, ContractConfigured, SessionCreated, SessionCapacityChanged, SeatReserved,
                 SeatReleased, SeatRegistered, SeatFreed, BatchGenerated, CodeIssued, CodeAssigned, CodeEdited,
                 CodeArchived, CodeDeleted, CodeInvitationAttached, CodeInvitationDetached, CodeRedeemed,
                 CodeUseReleased, InvitationSent, InvitationResent, InvitationCancelled, InvitationExpired,
                 InvitationSuperseded, InvitationAccepted, RegistrationCreated, RegistrationCancelled,
                 RegistrationRevoked, RegistrationAccessChanged, SessionEdited, BatchChunkIssued>;

// The stable name of an event's type as written in the log, e.g. "CodeRedeemed".
std::string_view event_type(const Event& event);
// Every event type, in the order of the Event variant.
std::span<const std::string_view> event_types();

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
