#!/usr/bin/env bash
# The README's quickstart, run against a fresh tesserad with curl, then kcat
# (a Kafka client that is not Tessera) reads every event of the log from the
# embedded broker. Usage: quickstart_kcat_test.sh path/to/tesserad
set -euo pipefail

tesserad=$1
work=$(mktemp -d)
trap 'kill "$pid" 2>/dev/null || true; wait "$pid" 2>/dev/null || true; rm -rf "$work"' EXIT

"$tesserad" --data-dir "$work/data" --listen 127.0.0.1:0 --kafka embedded >"$work/out" 2>&1 &
pid=$!
for _ in $(seq 1 300); do
  port=$(grep -oE 'listening on http://127.0.0.1:[0-9]+' "$work/out" | grep -oE '[0-9]+$' || true)
  [ -n "$port" ] && break
  sleep 0.1
done
[ -n "${port:-}" ] || { cat "$work/out"; echo "tesserad did not start"; exit 1; }
base=http://127.0.0.1:$port
json() { python3 -c "import json,sys; print(json.load(sys.stdin)$1)"; }

contract=$(curl -sf -X POST "$base/v1/orgs/acme/contracts" -H 'content-type: application/json' \
  -d '{"name": "Acme 2027", "default_price": {"amount": 4900, "currency": "EUR"}}' | json '["id"]')
session=$(curl -sf -X POST "$base/v1/orgs/acme/sessions" -H 'content-type: application/json' \
  -d "{\"name\": \"Onboarding\", \"capacity\": 10, \"contract_id\": \"$contract\"}" | json '["id"]')
code=$(curl -sf -X POST "$base/v1/orgs/acme/contracts/$contract/batches" -H 'content-type: application/json' \
  -d "{\"quantity\": 5, \"session_id\": \"$session\"}" | json '["codes"][0]["code"]')

status=$(curl -s -o "$work/r1" -w '%{http_code}' -X POST "$base/v1/orgs/acme/redemptions" \
  -H 'content-type: application/json' -d "{\"code\": \"$code\", \"participant\": {\"email\": \"ada@example.com\"}}")
[ "$status" = 201 ] || { echo "first redemption answered $status: $(cat "$work/r1")"; exit 1; }
status=$(curl -s -o "$work/r2" -w '%{http_code}' -X POST "$base/v1/orgs/acme/redemptions" \
  -H 'content-type: application/json' -d "{\"code\": \"$code\", \"participant\": {\"email\": \"ada@example.com\"}}")
[ "$status" = 409 ] || { echo "second redemption answered $status"; exit 1; }
json '["type"]' <"$work/r2" | grep -q 'code-exhausted$' || { echo "not code-exhausted: $(cat "$work/r2")"; exit 1; }

seats=$(curl -sf "$base/v1/orgs/acme/sessions/$session/seats")
[ "$(echo "$seats" | json '["registered"]')" = 1 ] || { echo "seats: $seats"; exit 1; }
[ "$(echo "$seats" | json '["available"]')" = 9 ] || { echo "seats: $seats"; exit 1; }

status_json=$(curl -sf "$base/v1/status")
log_position=$(echo "$status_json" | json '["log_position"]')
bootstrap=$(echo "$status_json" | json '["kafka_bootstrap"]')

# Wait for the relay, then let kcat read every topic to its end.
for _ in $(seq 1 100); do
  [ "$(curl -sf "$base/v1/status" | json '["relay_position"]')" = "$log_position" ] && break
  sleep 0.1
done
count=0
for topic in tessera.contracts tessera.sessions tessera.batches tessera.codes tessera.registrations; do
  n=$(kcat -C -b "$bootstrap" -t "$topic" -o beginning -e -q -f '%h\n' 2>/dev/null | grep -c 'tessera_position=' || true)
  count=$((count + n))
done
echo "log_position=$log_position kcat_read=$count bootstrap=$bootstrap"
[ "$count" = "$log_position" ] || { echo "kcat read $count events, the log holds $log_position"; exit 1; }
echo "quickstart ok"
