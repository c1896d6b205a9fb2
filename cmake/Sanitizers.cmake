# TESSERA_SANITIZE: build everything with AddressSanitizer + UndefinedBehaviorSanitizer.
# Flags are applied globally, so include this module before defining any targets.
include_guard(GLOBAL)

option(TESSERA_SANITIZE "Build with -fsanitize=address,undefined" OFF)

# The Asan build type: -O1 (what ASan's authors advise: fast enough to run the
# suite, cheap enough to compile on two cores) with line tables for reports.
set(CMAKE_CXX_FLAGS_ASAN "-O1 -g1" CACHE STRING "Flags of the Asan build type")

if(TESSERA_SANITIZE)
  set(_tessera_sanitize_flags
      -fsanitize=address,undefined
      -fno-omit-frame-pointer
      -fno-sanitize-recover=undefined)
  add_compile_options(${_tessera_sanitize_flags})
  add_link_options(${_tessera_sanitize_flags})
  unset(_tessera_sanitize_flags)
endif()
