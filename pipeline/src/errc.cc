#include "tessera/pipeline/errc.h"

#include <string>

namespace tessera::pipeline {
namespace {

class Category final : public tessera::error_category {
 public:
  const char* name() const noexcept override { return "tessera.pipeline"; }
  std::string message(int condition) const override {
    switch (static_cast<errc>(condition)) {
      case errc::precondition_failed:
        return "version-conflict";
      case errc::idempotency_key_reused:
        return "idempotency-key-reused";
    }
    return "unknown";
  }
  retry advice(int condition) const noexcept override {
    switch (static_cast<errc>(condition)) {
      case errc::precondition_failed:
        return retry::command;
      case errc::idempotency_key_reused:
        return retry::no;
    }
    return retry::no;
  }
};

}  // namespace

const tessera::error_category& pipeline_category() noexcept {
  static const Category category;
  return category;
}

std::error_code make_error_code(errc e) noexcept { return {static_cast<int>(e), pipeline_category()}; }

}  // namespace tessera::pipeline
