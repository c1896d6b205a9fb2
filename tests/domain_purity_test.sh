#!/usr/bin/env bash
# The domain is pure: no I/O, no clock, no randomness, nothing linked but the
# standard library. This check fails the build's tests when a file under
# domain/ (the codec apart) includes a header outside the allowed set, or
# names a clock or a random source. Usage: domain_purity_test.sh REPO_ROOT
set -euo pipefail
cd "$1"

# <...>: these standard headers and Boost.Outcome (header-only); "...": the
# domain's own and the base library's (errors as values, itself pure).
allowed='^(<(algorithm|array|charconv|compare|concepts|cstddef|cstdint|functional|initializer_list|iterator|limits|map|memory|optional|span|string|string_view|system_error|tuple|type_traits|unordered_map|unordered_set|utility|variant|vector|boost/outcome/[a-z_/]+\.hpp)>|"(tessera/(domain|base)/)?[a-z_]+\.h")$'
status=0
files=$(find domain base -path domain/codec -prune -o \( -name '*.h' -o -name '*.cc' \) -print)
while IFS= read -r line; do
  file=${line%%:*}
  header=$(echo "$line" | sed -E 's/.*#include ([<"][^>"]+[>"]).*/\1/')
  if ! [[ $header =~ $allowed ]]; then
    echo "$file includes $header: the domain may use only the standard library's pure parts"
    status=1
  fi
done < <(grep -H '#include' $files)

if grep -nE '(system_clock|steady_clock|high_resolution_clock|random_device|std::rand|[^_]time\(|getenv|fopen|std::cout|std::cerr)' $files; then
  echo "the domain names a clock, a random source or I/O (above): pass such values in with the command"
  status=1
fi
[ $status = 0 ] && echo "domain is pure: $(echo "$files" | wc -l) files checked"
exit $status
