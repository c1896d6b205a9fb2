#include "tessera/base/error.h"

namespace tessera {

retry retry_advice(const std::error_code& code) noexcept {
  if (!code) return retry::no;
  if (const auto* category = dynamic_cast<const error_category*>(&code.category())) {
    return category->advice(code.value());
  }
  return retry::no;
}

}  // namespace tessera
