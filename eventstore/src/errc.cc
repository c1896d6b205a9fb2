#include "tessera/eventstore/errc.h"

#include <string>

namespace tessera::eventstore {
namespace {

class Category final : public tessera::error_category {
 public:
  const char* name() const noexcept override { return "tessera.eventstore"; }
  std::string message(int condition) const override {
    switch (static_cast<errc>(condition)) {
      case errc::version_conflict:
        return "version-conflict";
      case errc::io_error:
        return "io-error";
      case errc::corruption:
        return "corruption";
      case errc::invalid_argument:
        return "invalid-argument";
      case errc::idempotency_key_reused:
        return "idempotency-key-reused";
    }
    return "unknown";
  }
  retry advice(int condition) const noexcept override {
    switch (static_cast<errc>(condition)) {
      case errc::version_conflict:
        return retry::command;
      case errc::io_error:
        return retry::call;
      case errc::corruption:
      case errc::invalid_argument:
      case errc::idempotency_key_reused:
        return retry::no;
    }
    return retry::no;
  }
};

}  // namespace

const tessera::error_category& eventstore_category() noexcept {
  static const Category category;
  return category;
}

std::error_code make_error_code(errc e) noexcept { return {static_cast<int>(e), eventstore_category()}; }

}  // namespace tessera::eventstore
