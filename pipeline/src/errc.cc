#include "tessera/pipeline/errc.h"

#include <string>

namespace tessera::pipeline {
namespace {

class Category final : public tessera::error_category {
 public:
  const char* name() const noexcept override { return "tessera.pipeline"; }
  std::string message(int) const override { return "version-conflict"; }
  retry advice(int) const noexcept override { return retry::command; }
};

}  // namespace

const tessera::error_category& pipeline_category() noexcept {
  static const Category category;
  return category;
}

std::error_code make_error_code(errc e) noexcept { return {static_cast<int>(e), pipeline_category()}; }

}  // namespace tessera::pipeline
