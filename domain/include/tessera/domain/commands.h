// Commands: what a caller asks for. Everything the domain may not produce
// itself (the current instant, fresh ids, random code values) comes in here;
// the pipeline stamps `now` on every command as it decides it.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <variant>
#include <vector>

#include "tessera/domain/code_format.h"
#include "tessera/domain/events.h"

namespace tessera::domain {

// A batch of more than kLargestBatchAtOnce codes, without participants, is
// generated as a job: GenerateBatch records its terms alone, and its codes
// come in IssueBatchChunk commands of at most kCodesPerChunk, each decided in
// turn with other commands, so a million codes never hold a redemption up
// for more than one chunk's write. Its codes cannot be used before the last
// chunk (batch-not-ready). A batch with participants is decided at once: its
// participants are only in the request, which the body limit bounds.
inline constexpr std::uint32_t kLargestBatchAtOnce = 10'000;
inline constexpr std::uint32_t kCodesPerChunk = 5'000;

struct CreateContract {
  OrgId org;
  ContractId contract;  // fresh id
  std::string name;
  bool reuse_cancelled_codes = false;
  std::optional<Money> default_price;
};

// Each field present replaces the contract's setting; default_price holding
// an empty optional removes the default price.
struct ConfigureContract {
  OrgId org;
  ContractId contract;
  std::optional<std::string> name;
  std::optional<bool> reuse_cancelled_codes;
  std::optional<std::optional<Money>> default_price;
};

struct CreateSession {
  OrgId org;
  SessionId session;  // fresh id
  std::string name;
  std::uint32_t capacity = 0;
  std::optional<ContractId> contract;
  std::optional<Timestamp> opens_at;
};

struct ChangeCapacity {
  OrgId org;
  SessionId session;
  std::uint32_t capacity = 0;
};

// Renames a session, moves its opening or changes its capacity, in one
// decision; a field left out stays as it is.
struct EditSession {
  OrgId org;
  SessionId session;
  std::optional<std::uint32_t> capacity;  // under ChangeCapacity's rules
  std::optional<std::string> name;
  // nullopt: unchanged; a nullopt inside: the session opens at once.
  std::optional<std::optional<Timestamp>> opens_at;
};

struct GenerateBatch {
  OrgId org;
  BatchId batch;  // fresh id
  ContractId contract;
  std::optional<SessionId> session;
  std::uint32_t quantity = 0;  // ignored when participants are given: one code each
  std::optional<Money> price;
  std::string note;
  std::optional<Timestamp> valid_from;
  std::optional<Timestamp> valid_until;
  std::uint32_t max_uses = 1;
  Restrictions restrictions;
  std::string prefix;
  std::vector<Participant> participants;
  // Empty, or one per participant: that participant's code's own price.
  std::vector<std::optional<Money>> participant_prices;
  // Fresh code values, one per code, not yet in the store.
  std::vector<CodeValue> codes;
};

// Issues the next chunk of a batch generated in chunks (BatchGenerated's
// `in_chunks`), of `size` codes at most (1 to kCodesPerChunk; fewer when
// fewer are left): codes_to_draw() fresh values, carried in `codes`. Once
// every code is issued it decides nothing, so sending it again, after a crash
// or beside another sender, never issues a code too many.
struct IssueBatchChunk {
  OrgId org;
  BatchId batch;
  std::vector<CodeValue> codes;
  std::uint32_t size = kCodesPerChunk;
};

struct AssignCode {
  OrgId org;
  std::string code_key;  // parse_code(...).key
  Participant participant;
};

struct EditCode {
  OrgId org;
  std::string code_key;
  std::optional<std::string> note;
  std::optional<Money> price;
  std::optional<Timestamp> valid_from;
  std::optional<Timestamp> valid_until;
};

struct ArchiveCode {
  OrgId org;
  std::string code_key;
};

struct DeleteCode {
  OrgId org;
  std::string code_key;
};

struct Invite {
  OrgId org;
  InvitationId invitation;  // fresh id
  SessionId session;
  Participant participant;
  std::optional<std::string> code_key;
  std::optional<Timestamp> expires_at;
  bool bind_to_email = false;
  bool confirm_over_capacity = false;
  Timestamp now;
};

struct ResendInvitation {
  OrgId org;
  InvitationId invitation;
  Timestamp now;
};

struct CancelInvitation {
  OrgId org;
  InvitationId invitation;
  Timestamp now;
};

// Issued by the service's scheduler when an invitation's expires_at comes.
struct ExpireInvitation {
  InvitationId invitation;
  Timestamp now;
};

// Accepting an invitation. Claims name no organisation: the token names the
// invitation. Without a participant, the invitee is registered.
struct ClaimInvitation {
  InvitationId invitation;
  std::optional<Participant> participant;
  RegistrationId registration;  // fresh id
  Timestamp now;
};

struct Redeem {
  OrgId org;
  std::string code_key;  // parse_code(...).key
  Participant participant;
  std::optional<SessionId> session;  // defaults to the batch's session
  RegistrationId registration;       // fresh id
  Timestamp now;
};

struct CancelRegistration {
  OrgId org;
  RegistrationId registration;
  Timestamp now;
};

struct RevokeRegistration {
  OrgId org;
  RegistrationId registration;
  Timestamp now;
};

// Sets the end of a registration's access (none: open-ended).
struct ChangeAccess {
  OrgId org;
  RegistrationId registration;
  std::optional<Timestamp> access_until;
};

using Command =
    std::variant<CreateContract, ConfigureContract, CreateSession, ChangeCapacity, GenerateBatch, AssignCode, EditCode,
                 ArchiveCode, DeleteCode, Invite, ResendInvitation, CancelInvitation, ExpireInvitation, ClaimInvitation,
                 Redeem, CancelRegistration, RevokeRegistration, ChangeAccess, EditSession, IssueBatchChunk>;

// Upper bounds that keep one command's events within one bounded write.
inline constexpr std::uint32_t kMaxBatchQuantity = 1'000'000;
inline constexpr std::uint32_t kMaxUsesPerCode = 1'000'000;
inline constexpr std::uint32_t kMaxCapacity = 1'000'000;
inline constexpr std::size_t kMaxNoteLength = 2000;

}  // namespace tessera::domain
