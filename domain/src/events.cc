#include "tessera/domain/events.h"

#include <array>

namespace tessera::domain {
namespace {

// In the order of the Event variant's alternatives; the codec's round-trip
// test fails if the two drift apart.
constexpr std::array<std::string_view, std::variant_size_v<Event>> kTypeNames = {
    "ContractCreated",        "ContractConfigured",
    "SessionCreated",         "SessionCapacityChanged",
    "SeatReserved",           "SeatReleased",
    "SeatRegistered",         "SeatFreed",
    "BatchGenerated",         "CodeIssued",
    "CodeAssigned",           "CodeEdited",
    "CodeArchived",           "CodeDeleted",
    "CodeInvitationAttached", "CodeInvitationDetached",
    "CodeRedeemed",           "CodeUseReleased",
    "InvitationSent",         "InvitationResent",
    "InvitationCancelled",    "InvitationExpired",
    "InvitationSuperseded",   "InvitationAccepted",
    "RegistrationCreated",    "RegistrationCancelled",
    "RegistrationRevoked",    "RegistrationAccessChanged",
    "SessionEdited",          "BatchChunkIssued",
};

}  // namespace

std::string_view event_type(const Event& event) { return kTypeNames[event.index()]; }

std::span<const std::string_view> event_types() { return kTypeNames; }

}  // namespace tessera::domain
