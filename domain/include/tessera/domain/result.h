// Errors as values. Boost.Outcome's header-only result builds with every
// compiler here (GCC 12's <expected> does not build with clang-14), and it
// brings no library to link, so the domain stays standard-library only.
#pragma once

#include <boost/outcome/basic_result.hpp>
#include <boost/outcome/policy/terminate.hpp>
#include <boost/outcome/try.hpp>

#include "tessera/domain/errc.h"

namespace tessera::domain {

namespace outcome = boost::outcome_v2;

// Either a T or the Rejection that explains why there is none. Reading the
// value of a rejected result terminates: check has_value() first.
template <class T>
using Result = outcome::basic_result<T, Rejection, outcome::policy::terminate>;

inline Rejection reject(errc code, std::string detail) { return Rejection{code, std::move(detail)}; }

}  // namespace tessera::domain
