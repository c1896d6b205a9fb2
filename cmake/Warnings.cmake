# tessera_warnings(<target>): strict warnings (as errors) for first-party targets.
include_guard(GLOBAL)

function(tessera_warnings target)
  set(_flags
      -Wall
      -Wextra
      -Wpedantic
      -Werror
      -Wshadow
      -Wnon-virtual-dtor
      -Wconversion
      -Wno-sign-conversion)
  # Quoted so the ;-list stays inside the generator expression (GCC/Clang only, no MSVC).
  target_compile_options(${target} PRIVATE
    "$<$<CXX_COMPILER_ID:GNU,Clang,AppleClang>:${_flags}>")
endfunction()
