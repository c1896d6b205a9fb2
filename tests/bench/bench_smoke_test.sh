#!/usr/bin/env bash
# Keeps tessera-bench from rotting: runs each benchmark tiny and checks that
# it prints one JSON object with its figures, and sane values. Asserts no
# speed: the figures themselves are for the README, not for tests.
# usage: bench_smoke_test.sh path/to/tessera-bench
set -euo pipefail
BENCH="$1"

check() {  # check NAME JSON JQ-EXPRESSION...
  local name="$1" json="$2"
  shift 2
  for expr in "$@"; do
    if [[ "$(jq -r "$expr" <<<"$json")" != "true" ]]; then
      echo "FAIL $name: $expr does not hold in $json" >&2
      exit 1
    fi
  done
  echo "ok $name: $json"
}

append="$("$BENCH" append --clients 4 --seconds 1 --warmup-seconds 0.2)"
check append "$append" \
  '.bench == "append" and .clients == 4 and .clients_closed_loop == true and .sync_writes == true' \
  '.commands > 0 and .commands_per_s > 0 and .refused == 0' \
  '.p50_us > 0 and .p99_us >= .p50_us and .fsyncs_per_s > 0' \
  '.events_per_batch >= 1 and .events_per_batch <= 4' \
  '.hash_chain_verified == true'

generate="$("$BENCH" generate --codes 1000)"
check generate "$generate" \
  '.bench == "generate" and .codes == 1000 and .seconds > 0' \
  '.unique == true and .distinct_code_streams_in_log == 1000 and .events_in_log == 1001' \
  '.synced_writes == 1'

recover="$("$BENCH" recover --events 3000)"
check recover "$recover" \
  '.bench == "recover" and .events == 3000 and .seconds > 0 and .peak_rss_mb > 0'

project="$("$BENCH" project --events 5000 --seconds 0.5 --measure-seconds 0.5 --clients 8 2>/dev/null)"
check project "$project" \
  '.bench == "project" and .events >= 5000 and .rebuild_events_per_s > 0 and .rebuild_cpu_us_per_event > 0' \
  '.log_alone_events_per_s > 0 and .live_events_per_s > 0 and .lag_events.max >= .lag_events.p99' \
  '([.commands[].refused] | add) == 0 and .peak_rss_mb > 0'
