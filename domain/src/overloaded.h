// Internal: the visitor idiom for std::visit over several lambdas.
#pragma once

namespace tessera::domain::detail {

template <class... Ts>
struct Overloaded : Ts... {
  using Ts::operator()...;
};

}  // namespace tessera::domain::detail
