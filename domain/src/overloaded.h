// Internal: the visitor idiom for std::visit over several lambdas.
#pragma once

namespace tessera::domain::detail {

template <class... Ts>
struct Overloaded : Ts... {
  using Ts::operator()...;
};
// Explicit guide: clang 14 lacks C++20 CTAD for aggregates (P1816).
template <class... Ts>
Overloaded(Ts...) -> Overloaded<Ts...>;

}  // namespace tessera::domain::detail
