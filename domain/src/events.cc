#include "tessera/domain/events.h"

#include "overloaded.h"

namespace tessera::domain {

using detail::Overloaded;

std::string_view event_type(const Event& event) {
  return std::visit(
      Overloaded{
          [](const ContractCreated&) { return std::string_view("ContractCreated"); },
          [](const SessionCreated&) { return std::string_view("SessionCreated"); },
          [](const BatchGenerated&) { return std::string_view("BatchGenerated"); },
          [](const CodeIssued&) { return std::string_view("CodeIssued"); },
          [](const CodeRedeemed&) { return std::string_view("CodeRedeemed"); },
          [](const SeatRegistered&) { return std::string_view("SeatRegistered"); },
          [](const RegistrationCreated&) { return std::string_view("RegistrationCreated"); },
      },
      event);
}

}  // namespace tessera::domain
