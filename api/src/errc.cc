#include "tessera/api/errc.h"

#include <string>

namespace tessera::api {
namespace {

class Category final : public tessera::error_category {
 public:
  const char* name() const noexcept override { return "tessera.api"; }
  std::string message(int condition) const override {
    switch (static_cast<errc>(condition)) {
      case errc::malformed_json:
        return "malformed-json";
      case errc::bad_request:
        return "bad-request";
      case errc::headers_too_large:
        return "headers-too-large";
      case errc::payload_too_large:
        return "payload-too-large";
      case errc::route_unknown:
        return "not-found";
      case errc::method_not_allowed:
        return "method-not-allowed";
      case errc::models_lagging:
        return "unavailable";
      case errc::rate_limited:
        return "rate-limited";
      case errc::internal:
        return "internal";
    }
    return "internal";
  }
  retry advice(int condition) const noexcept override {
    switch (static_cast<errc>(condition)) {
      case errc::models_lagging:
      case errc::rate_limited:
        return retry::call;
      case errc::malformed_json:
      case errc::bad_request:
      case errc::headers_too_large:
      case errc::payload_too_large:
      case errc::route_unknown:
      case errc::method_not_allowed:
      case errc::internal:
        return retry::no;
    }
    return retry::no;
  }
};

}  // namespace

const tessera::error_category& api_category() noexcept {
  static const Category category;
  return category;
}

std::error_code make_error_code(errc e) noexcept { return {static_cast<int>(e), api_category()}; }

}  // namespace tessera::api
