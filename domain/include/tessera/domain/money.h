#pragma once

#include <compare>
#include <cstdint>
#include <string>

namespace tessera::domain {

// An amount in the currency's minor units (cents), with its ISO 4217 code.
struct Money {
  std::int64_t amount = 0;
  std::string currency;
  auto operator<=>(const Money&) const = default;
};

}  // namespace tessera::domain
