// The layout of the read models' RocksDB (internal to projections/).
//
//   meta/layout                          layout version; another one is wiped and rebuilt
//   checkpoint                           position of the last event applied (decimal)
//   d/<stream id>                        a stream's document, stored as documents.h encodes it
//   sum/<org>/<contract>                 a contract's counts by code status (documents.h)
//   ix/os/<org>/<status>/<pos>           -> code key: every visible code of org, by status, in issue order
//   ix/cs/<org>/<contract>/<status>/<pos>-> code key: by contract and status (the pool: status available)
//   ix/bs/<org>/<batch>/<status>/<pos>   -> code key: by batch and status
//   ix/cp/<org>/<contract>/<pos>         -> code key: codes of a contract with a participant
//   ix/ob/<org>/<batch>/<pos>            -> code key: codes whose batch has not been seen yet
//   ro/<org>/<session>/i/<pos>           -> invitation id: pending invitations of a session
//   ro/<org>/<session>/r/<pos>           -> registration id: active registrations of a session
//   due/<micros><invitation id>          pending invitations by expires_at
//   gen/<org>/<batch>                    batches still generating (their chunks to resume)
//   kafka/applied                        events a Kafka-fed projector applied (decimal)
//   kafka/offset/<topic>/<partition>     its next offset to read there (decimal)
//
// A visible code is in one status's index of each kind: a list of every
// status merges the four by <pos> (three index entries a code, not six: the
// fold writes them for most events it applies).
//
// <pos> is the 8-byte big-endian global position of the event that created
// the document (CodeIssued, InvitationSent, RegistrationCreated), so a prefix
// scan reads in creation order. <micros> is 8 bytes big-endian with the sign
// bit flipped, so negative instants sort first. Ids are the domain's
// (A-Z a-z 0-9 _): '/' cannot occur in them, so every prefix is unambiguous.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

namespace tessera::projections::keys {

inline constexpr std::string_view kLayout = "meta/layout";
inline constexpr std::string_view kLayoutVersion = "5";
inline constexpr std::string_view kCheckpoint = "checkpoint";
inline constexpr std::string_view kDuePrefix = "due/";
inline constexpr std::string_view kGeneratingPrefix = "gen/";
inline constexpr std::string_view kKafkaApplied = "kafka/applied";
inline constexpr std::string_view kKafkaOffsetPrefix = "kafka/offset/";
inline constexpr std::string_view kOrphansPrefix = "ix/ob/";  // of every orphans_of_batch()

std::string be64(std::uint64_t value);
std::optional<std::uint64_t> read_be64(std::string_view bytes);
std::string sortable_micros(std::int64_t micros);
std::int64_t read_sortable_micros(std::string_view bytes);  // precondition: 8 bytes

// Whether an id from a caller can be part of a key (not empty, no '/').
bool usable_id(std::string_view id);

// The smallest key greater than every key that starts with `prefix`.
std::string prefix_end(std::string prefix);

std::string doc(std::string_view stream);
std::string summary(std::string_view org, std::string_view contract);

std::string codes_of_org(std::string_view org, std::string_view status);
std::string codes_of_contract(std::string_view org, std::string_view contract, std::string_view status);
std::string codes_of_batch(std::string_view org, std::string_view batch, std::string_view status);
std::string participants_of_contract(std::string_view org, std::string_view contract);
std::string orphans_of_batch(std::string_view org, std::string_view batch);

std::string roster_invitations(std::string_view org, std::string_view session);
std::string roster_registrations(std::string_view org, std::string_view session);

std::string due(std::int64_t micros, std::string_view invitation);
std::string generating(std::string_view org, std::string_view batch);

// Kafka topic names are [A-Za-z0-9._-]: no '/'.
std::string kafka_offset(std::string_view topic, std::int32_t partition);

}  // namespace tessera::projections::keys
