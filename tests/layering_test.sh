#!/usr/bin/env bash
# The dependency rule (docs/architecture.md): each module includes only the
# modules below it. This check fails the tests when a file of a module
# includes "tessera/<module>/..." of a module it may not use.
# Usage: layering_test.sh REPO_ROOT
set -euo pipefail
cd "$1"

# module directory -> the modules its files may include (besides its own)
declare -A may_use=(
  [base]=""
  [domain/include]="base"
  [domain/src]="base"
  [domain/codec]="base domain"
  [eventstore]="base"
  [pipeline]="base domain codec eventstore"
  [projections]="base domain codec eventstore"
  [kafka]="base domain codec eventstore projections"
  [api]="base domain codec pipeline projections"
)
declare -A own=(
  [base]=base [domain/include]=domain [domain/src]=domain [domain/codec]=codec [eventstore]=eventstore
  [pipeline]=pipeline [projections]=projections [kafka]=kafka [api]=api
)

status=0
for dir in "${!may_use[@]}"; do
  allowed=" ${own[$dir]} ${may_use[$dir]} "
  while IFS= read -r hit; do
    [ -n "$hit" ] || continue
    module=$(echo "$hit" | sed -E 's/.*#include "tessera\/([a-z_]+)\/.*/\1/')
    if [[ $allowed != *" $module "* ]]; then
      echo "$hit: ${own[$dir]} may not use $module"
      status=1
    fi
  done < <(grep -rnE '#include "tessera/[a-z_]+/' "$dir" --include='*.h' --include='*.cc' || true)
done
[ $status = 0 ] && echo "every module includes only the modules below it"
exit $status
