#!/usr/bin/env bash
# api_openapi.sh - the OpenAPI document of a running `metrify serve` passes an independent
# OpenAPI 3.1 validator (@seriousme/openapi-schema-validator from npm, installed with `npm ci`
# from tests/js/openapi/package-lock.json into build/js/openapi and reused while the lock is
# unchanged), and tests/js/openapi/check_openapi.mjs checks every documented operation against
# the server and that nothing undocumented is served.
# Exit 0 pass, 77 skip (only when node/npm or curl are missing), anything else fail.
source "$(dirname "$0")/../harness/lib.sh"
source "$TOP/tests/harness/api.sh"
if ! command -v node >/dev/null 2>&1 || ! command -v npm >/dev/null 2>&1; then
  echo "skip: node and npm are not installed (scripts/deps.sh installs nodejs and npm)"
  exit 77
fi
cache="$TOP/build/js/openapi"
mkdir -p "$cache"
lock_sum=$(sha256sum "$TOP/tests/js/openapi/package-lock.json" | cut -d' ' -f1)
if [ ! -d "$cache/node_modules/@seriousme/openapi-schema-validator" ] ||
  [ "$(cat "$cache/.lock-sum" 2>/dev/null)" != "$lock_sum" ]; then
  cp "$TOP/tests/js/openapi/package.json" "$TOP/tests/js/openapi/package-lock.json" "$cache/"
  echo "installing @seriousme/openapi-schema-validator into $cache"
  npm ci --prefix "$cache" --no-audit --no-fund --loglevel=error
  echo "$lock_sum" >"$cache/.lock-sum"
fi
cp "$TOP/tests/js/openapi/check_openapi.mjs" "$cache/"

api_start
# fixtures so that every {id} in the document names something real
expect 201 POST /api/v1/smart-meters "$ADMIN" '{"meter_id":"OA-1","latitude":52,"longitude":13}'
expect 201 POST /api/v1/smart-meters "$ADMIN" '{"meter_id":"OA-DEL"}'
expect 201 POST /api/v1/grid-operators "$ADMIN" '{"operator_id":"OA-OP"}'
expect 201 POST /api/v1/weather/stations "$ADMIN" '{"station_id":"OA-ST"}'
expect 201 POST /api/v1/admin/keys "$ADMIN" '{"role":"viewer","name":"to revoke"}'
kid=$(jf 'd["key_id"]')
cat >"$T/subs.json" <<JSON
{"meter_id": "OA-1", "delete:meter_id": "OA-DEL", "operator_id": "OA-OP", "station_id": "OA-ST",
 "key_id": "$kid",
 "body:post:/api/v1/smart-meters": {"meter_id": "OA-2"},
 "body:put:/api/v1/smart-meters/{meter_id}": {"model": "M"},
 "body:post:/api/v1/smart-meters/{meter_id}/readings": [{"timestamp": "2024-03-01T00:00:00Z", "consumption_kwh": 0.5}],
 "body:post:/api/v1/readings": [{"meter_id": "OA-1", "timestamp": "2024-03-01T00:15:00Z", "consumption_kwh": 0.5}],
 "body:post:/api/v1/grid-operators": {"operator_id": "OA-OP2"},
 "body:put:/api/v1/grid-operators/{operator_id}": {"name": "n"},
 "body:post:/api/v1/grid-operators/{operator_id}/status": [{"timestamp": "2024-03-01T00:00:00Z", "frequency_hz": 50}],
 "body:post:/api/v1/weather/stations": {"station_id": "OA-ST2"},
 "body:put:/api/v1/weather/stations/{station_id}": {"name": "n"},
 "body:post:/api/v1/weather/stations/{station_id}/observations": [{"timestamp": "2024-03-01T00:00:00Z", "temperature_c": 5}],
 "body:post:/api/v1/admin/keys": {"role": "viewer"}}
JSON
node "$cache/check_openapi.mjs" "$BASE" "$ADMIN" "$T/subs.json" || { tail -20 "$T/serve.err"; exit 1; }
