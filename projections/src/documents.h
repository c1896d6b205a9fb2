// The documents of the read models (internal to projections/): one struct per
// kind, each with its two forms, both written and read only here.
//
//  - The stored form (encode(), decode(); stored_form.cc): binary, every
//    field, the internal ones included (the stream version the document
//    mirrors, the position that orders lists, a code's copy of its batch's
//    terms). It is what keys.h's d/<stream> and sum/<org>/<contract> hold;
//    changing it means bumping keys::kLayoutVersion, so that an older
//    database is rebuilt, not misread.
//  - The served form (body(); documents.cc): the JSON the API answers
//    (Document::body, the items of pages, rosters and summaries), as
//    read_models.h describes it.
//
// The fold (fold.cc) and the queries (read_models.cc) work on the structs:
// a field misnamed there does not compile. What a code's status is, and which
// of its own and its batch's values it shows, the domain decides
// (code_rules.h); nothing here restates it.
//
// decode() throws nothing: a stored document that does not read is
// eventstore::errc::corruption, its detail naming the document's key and the
// field that did not read.
#pragma once

#include <array>
#include <cstdint>
#include <nlohmann/json.hpp>
#include <optional>
#include <string>
#include <string_view>

#include "tessera/domain/batch_rules.h"
#include "tessera/domain/code_rules.h"
#include "tessera/domain/ids.h"
#include "tessera/domain/money.h"
#include "tessera/domain/participant.h"
#include "tessera/domain/state.h"
#include "tessera/projections/read_models.h"

namespace tessera::projections::detail {

// Every document mirrors one stream: `version` is the version of that
// stream's last event it folded (an event at or below it is a re-send).
// Every member has an initialiser, so the fold's designated initialisers
// name only what an event sets. Plain values: no threading of their own.

struct ContractDoc {
  std::uint64_t version = 0;
  domain::OrgId org = {};
  domain::ContractId id = {};
  std::string name = {};
  bool reuse_cancelled_codes = false;
  std::optional<domain::Money> default_price = {};
};

struct SessionDoc {
  std::uint64_t version = 0;
  domain::OrgId org = {};
  domain::SessionId id = {};
  std::string name = {};
  std::optional<domain::ContractId> contract = {};
  std::optional<domain::Timestamp> opens_at = {};
  Seats seats = {};
};

// What every code of a batch takes from it. A batch never changes once
// generated, so a code keeps a copy instead of reading its batch again.
struct BatchTerms {
  domain::ContractId contract = {};
  std::optional<domain::SessionId> session = {};
  std::optional<domain::Money> price = {};
  std::string note = {};
  std::optional<domain::Timestamp> valid_from = {};
  std::optional<domain::Timestamp> valid_until = {};
  std::uint32_t max_uses = 1;
};

// A batch: its terms, and how many of its codes are issued so far (a batch
// generated in chunks counts up to its quantity).
struct BatchDoc {
  std::uint64_t version = 0;
  domain::OrgId org = {};
  domain::BatchId id = {};
  BatchTerms terms = {};
  std::uint32_t quantity = 0;
  std::uint32_t generated = 0;
  domain::Restrictions restrictions = {};
  std::string prefix = {};
};

// A code: its own state, as its events set it, and its batch's terms once
// the batch is known (a Kafka-fed projector may see the code first).
struct CodeDoc {
  std::uint64_t version = 0;
  domain::OrgId org = {};
  std::string code = {};  // the display form; the stream id carries the key
  domain::BatchId batch = {};
  std::uint64_t pos = 0;  // of its CodeIssued: lists are in issue order
  std::optional<domain::Participant> assignee = {};
  std::uint32_t uses = 0;
  // Its own values (from generation or an edit), over its batch's.
  std::optional<domain::Money> price = {};
  std::optional<std::string> note = {};
  std::optional<domain::Timestamp> valid_from = {};
  std::optional<domain::Timestamp> valid_until = {};
  bool archived = false;
  bool deleted = false;
  std::optional<domain::Participant> last_redeemer = {};  // of its last use
  std::optional<BatchTerms> terms = {};                   // its batch's, once known
};

// The status a code shows; nullopt for one that shows nowhere (deleted, or
// its batch not known yet): it is then in no query, no index and no count.
std::optional<domain::CodeStatus> status(const CodeDoc& code);
// The participant it shows: its assignee; for one whose uses are all taken
// and that nobody was assigned (archived or not), the redeemer of its last
// use; else nobody. Precondition: status(code) is not nullopt.
std::optional<domain::Participant> participant(const CodeDoc& code);

struct InvitationDoc {
  std::uint64_t version = 0;
  domain::OrgId org = {};
  domain::InvitationId id = {};
  domain::InvitationStatus status = domain::InvitationStatus::pending;
  domain::Participant participant = {};
  std::optional<std::string> code = {};  // display form
  domain::SessionId session = {};
  std::optional<domain::Timestamp> expires_at = {};
  bool bind_to_email = false;
  bool over_capacity = false;
  domain::Timestamp sent_at = {};
  std::optional<domain::Timestamp> resent_at = {};
  std::optional<domain::Timestamp> ended_at = {};  // when it left pending
  std::optional<domain::RegistrationId> registration = {};
  std::uint64_t pos = 0;  // of its InvitationSent: rosters are in this order
};

struct RegistrationDoc {
  std::uint64_t version = 0;
  domain::OrgId org = {};
  domain::RegistrationId id = {};
  std::optional<std::string> code = {};  // display form
  domain::Participant participant = {};
  domain::SessionId session = {};
  std::optional<domain::Money> price = {};
  domain::RegistrationStatus status = domain::RegistrationStatus::active;
  domain::Timestamp access_from = {};
  std::optional<domain::Timestamp> access_until = {};
  std::optional<domain::InvitationId> invitation = {};
  std::optional<domain::Timestamp> ended_at = {};
  std::uint64_t pos = 0;  // of its RegistrationCreated: rosters are in this order
};

// A contract's codes that show, counted by status (stored under
// keys::summary, apart from the contract, which no code event touches).
// An unknown contract's summary is this with every count zero.
struct ContractSummary {
  std::uint64_t total = 0;
  std::array<std::uint64_t, domain::kCodeStatuses.size()> by_status{};  // in kCodeStatuses' order

  std::uint64_t& of(domain::CodeStatus status);
};

// The stored form: bytes, not text.
std::string encode(const ContractDoc& doc);
std::string encode(const SessionDoc& doc);
std::string encode(const BatchDoc& doc);
std::string encode(const CodeDoc& doc);
std::string encode(const InvitationDoc& doc);
std::string encode(const RegistrationDoc& doc);
std::string encode(const ContractSummary& doc);

// Reads what encode() wrote for a Doc; `key`, the document's key, only names
// it in the error. Defined for the seven structs above.
template <class Doc>
result<Doc> decode(std::string_view key, std::string_view stored);

// The served form (read_models.h documents each one).
nlohmann::json body(const ContractDoc& doc);
nlohmann::json body(const SessionDoc& doc);
nlohmann::json body(const BatchDoc& doc);
// nullopt for a code that shows nowhere (status() is nullopt).
std::optional<nlohmann::json> body(const CodeDoc& doc);
nlohmann::json body(const InvitationDoc& doc);
nlohmann::json body(const RegistrationDoc& doc);
nlohmann::json body(const ContractSummary& doc);

}  // namespace tessera::projections::detail
