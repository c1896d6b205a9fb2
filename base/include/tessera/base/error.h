// Errors as values, for every layer: an Error names what went wrong with a
// std::error_code of some module's errc (each module keeps its own enum and
// category, as Redpanda's do) and a sentence for the human reading it, and
// every category says whether trying again can help (as abseil's status
// codes do). result<T> is a T or an Error.
//
// Boost.Outcome's header-only basic_result builds with every compiler here
// (GCC 12's <expected> does not build with clang-14) and brings no library
// to link, so even the pure domain can use it.
#pragma once

#include <boost/outcome/basic_result.hpp>
#include <boost/outcome/policy/terminate.hpp>
#include <boost/outcome/success_failure.hpp>
#include <boost/outcome/try.hpp>
#include <string>
#include <system_error>
#include <type_traits>
#include <utility>

namespace tessera {

// What a caller should do with an error.
enum class retry {
  no,       // the request itself is wrong, or conflicts with settled state
  command,  // decide again on fresh state (a version conflict)
  call,     // the same call may succeed later (a disk, a broker, a lagging read model)
};

// Every Tessera error category derives from this, so that any error of any
// module can be asked whether to retry.
class error_category : public std::error_category {
 public:
  virtual retry advice(int condition) const noexcept = 0;
};

// A foreign category's error (or no error) advises no retry.
retry retry_advice(const std::error_code& code) noexcept;

struct Error {
  std::error_code code;
  std::string detail;  // may be empty: message() then falls back on the code's

  Error() = default;
  Error(std::error_code error, std::string why = {}) : code(error), detail(std::move(why)) {}
  template <class E>
  requires std::is_error_code_enum_v<E> Error(E error, std::string why = {})
      : Error(make_error_code(error), std::move(why)) {}

  retry advice() const noexcept { return retry_advice(code); }
  std::string message() const { return detail.empty() ? code.message() : detail; }

  friend bool operator==(const Error& error, const std::error_code& other) { return error.code == other; }
  template <class E>
  requires std::is_error_code_enum_v<E>
  friend bool operator==(const Error& error, E other) { return error.code == make_error_code(other); }
};

namespace outcome = boost::outcome_v2;

// A T, or the Error that explains why there is none. Reading the value of a
// failed result terminates: check has_value() first.
template <class T>
using result = outcome::basic_result<T, Error, outcome::policy::terminate>;

}  // namespace tessera
