// The domain's results: a T, or the Error (of domain::errc, which never
// advises a retry) that explains why the command is refused.
#pragma once

#include <string>

#include "tessera/base/error.h"
#include "tessera/domain/errc.h"

namespace tessera::domain {

inline Error reject(errc code, std::string detail) { return Error{code, std::move(detail)}; }

}  // namespace tessera::domain
