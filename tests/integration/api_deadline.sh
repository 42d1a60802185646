#!/usr/bin/env bash
# api_deadline.sh - `metrify serve` limits that need their own servers: the per-request processing
# deadline (--request-timeout) stops an ingest batch before its commit (503 request_timeout with
# Retry-After, nothing of it stored or quarantined, while the same batch passes under the default
# limit) and stops a long read (a 92-day raw page); the store figures of /metrics are cached for
# --metrics-cache seconds and say how old they are.
source "$(dirname "$0")/../harness/lib.sh"
source "$TOP/tests/harness/api.sh"
command -v curl >/dev/null || { echo "skip: curl is not installed"; exit 77; }

# one meter with 92 days of readings, for the long read
"$M" -q simulate --meters 1 --days 92 --start 2026-01-01 --no-faults --out "$T/long.csv"
"$M" -q --db "$DB" ingest readings --now 2026-04-10T00:00:00Z "$T/long.csv"
# a batch of 48,000 readings of 500 new meters (~4 MB): far more than a few milliseconds of work
python3 - "$T/big.json" <<'PY'
import json, sys
rows = [{"meter_id": "SM-D%04d" % (i % 500),
         "timestamp": "2026-02-01T%02d:%02d:00Z" % ((i // 500) // 4 % 24, (i // 500) % 4 * 15),
         "consumption_kwh": 0.1 + (i % 7) * 0.01} for i in range(48000)]
json.dump(rows, open(sys.argv[1], "w"))
PY

# ---- the processing deadline ----
api_start --request-timeout 1ms
expect 200 GET /health "$VIEWER" # small requests are far inside the limit
expect 503 POST /api/v1/readings "$OPERATOR" "@$T/big.json"
[ "$(jf 'd["error"]["code"]')" = request_timeout ] || fail "503 code: $(cat "$T/out")"
grep -qi '^retry-after: 1' "$T/hdr" || fail "503 without Retry-After: $(cat "$T/hdr")"
expect 404 GET /api/v1/smart-meters/SM-D0000 "$VIEWER" # nothing of the batch was stored
expect 200 GET "/api/v1/quarantine?kind=readings" "$VIEWER"
[ "$(jf 'len(d["items"])')" = 0 ] || fail "the stopped batch left quarantine records: $(head -c 300 "$T/out")"
# a 92-day raw page (8,832 readings) is stopped too, with the same error
expect 503 GET "/api/v1/smart-meters/SM000000/readings?from=2026-01-01&to=2026-04-03" "$VIEWER"
[ "$(jf 'd["error"]["code"]')" = request_timeout ] || fail "long read: $(head -c 300 "$T/out")"
expect 200 GET "/metrics" "$VIEWER"
grep -q 'metrify_http_requests_total{route="/api/v1/readings",method="POST",status="503"} 1' "$T/out" ||
  fail "the 503 is not counted"
api_stop
grep -q '"status":503' "$T/access.log" || fail "the 503 is not in the access log"

api_start # the default limit (30 s): the same requests succeed
expect 200 POST /api/v1/readings "$OPERATOR" "@$T/big.json"
[ "$(jf 'd["accepted"],d["new_meters"]')" = "(48000, 500)" ] || fail "the batch itself: $(head -c 300 "$T/out")"
expect 200 GET "/api/v1/smart-meters/SM000000/readings?from=2026-01-01&to=2026-04-03" "$VIEWER"
[ "$(jf 'd["count"]')" = 8832 ] || fail "92-day page: $(jf 'd["count"]')"
api_stop

# ---- /metrics: store figures cached, with their age ----
rows() { # the meters row count and the figures' age from the last /metrics body
  expect 200 GET /metrics "$VIEWER"
  echo "$(sed -n 's/^metrify_store_rows{table="meters"} //p' "$T/out")" \
    "$(sed -n 's/^metrify_store_figures_age_seconds //p' "$T/out")"
}
api_start --metrics-cache 3
read -r n0 age0 <<<"$(rows)"
[ "$n0" = 501 ] || fail "meters row count: $n0"
expect 201 POST /api/v1/smart-meters "$OPERATOR" '{"meter_id":"SM-NEW"}'
read -r n1 age1 <<<"$(rows)"
[ "$n1" = 501 ] || fail "the cached figure changed within its age: $n1"
python3 -c "import sys; a=float(sys.argv[1]); sys.exit(not 0 <= a < 3)" "$age1" || fail "age $age1"
sleep 3.2
read -r n2 age2 <<<"$(rows)"
[ "$n2" = 502 ] || fail "the figure was not refreshed after 3 s: $n2"
python3 -c "import sys; sys.exit(not float(sys.argv[1]) < 1)" "$age2" || fail "fresh age $age2"
api_stop
api_start --metrics-cache 0 # no caching: every scrape counts
read -r n3 _ <<<"$(rows)"
expect 201 POST /api/v1/smart-meters "$OPERATOR" '{"meter_id":"SM-NEW2"}'
read -r n4 _ <<<"$(rows)"
[ "$n3,$n4" = "502,503" ] || fail "--metrics-cache 0: $n3,$n4"
api_stop

# bad values are usage errors
for bad in "--request-timeout 0" "--request-timeout 5x" "--metrics-cache -1"; do
  # shellcheck disable=SC2086
  if "$M" --db "$DB" serve --listen 127.0.0.1:0 $bad 2>"$T/err"; then fail "serve $bad started"; fi
  grep -q "must be" "$T/err" || fail "serve $bad: $(cat "$T/err")"
done
echo "api deadline and metrics cache: ok"
