// Commands: what a caller asks for. Everything the domain may not produce
// itself (the current instant, fresh ids, random code values) comes in here.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <variant>
#include <vector>

#include "tessera/domain/code_format.h"
#include "tessera/domain/events.h"

namespace tessera::domain {

struct CreateContract {
  OrgId org;
  ContractId contract;  // fresh id
  std::string name;
  bool reuse_cancelled_codes = false;
  std::optional<Money> default_price;
};

struct CreateSession {
  OrgId org;
  SessionId session;  // fresh id
  std::string name;
  std::uint32_t capacity = 0;
  std::optional<ContractId> contract;
  std::optional<Timestamp> opens_at;
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
  // Fresh code values, one per code, not yet in the store.
  std::vector<CodeValue> codes;
};

struct Redeem {
  OrgId org;
  std::string code_key;  // parse_code(...).key
  Participant participant;
  std::optional<SessionId> session;  // defaults to the batch's session
  RegistrationId registration;       // fresh id
  Timestamp now;
};

using Command = std::variant<CreateContract, CreateSession, GenerateBatch, Redeem>;

// Upper bounds that keep one command's events within one bounded write.
inline constexpr std::uint32_t kMaxBatchQuantity = 1'000'000;
inline constexpr std::uint32_t kMaxUsesPerCode = 1'000'000;

}  // namespace tessera::domain
