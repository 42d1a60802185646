#!/usr/bin/env bash
# api_routes.sh - `metrify serve` over real HTTP: every route answers as documented (meters CRUD,
# search filters, readings in and out through the ingest pipeline, operators, stations,
# analytics, keys, health, metrics, docs), and bad requests get the one JSON error shape:
# malformed JSON, wrong types, missing and unknown fields, oversized bodies, wrong media type,
# unknown routes and methods, bad query parameters, forbidden status moves. Also request ids,
# the access log, CORS, the rate limiter (429 + Retry-After) and HS256 JWTs.
source "$(dirname "$0")/../harness/lib.sh"
source "$TOP/tests/harness/api.sh"
command -v curl >/dev/null || { echo "skip: curl is not installed"; exit 77; }

export JWT_SECRET="0123456789abcdef0123456789abcdef"
api_start --max-body 64k --cors https://ui.example --jwt-secret-env JWT_SECRET

# ---- system ----
expect 200 GET /health "$VIEWER"
[ "$(jf 'd["store"]["status"]')" = ok ] || fail "health does not report the store"
case "$DB" in # the store under test (api_pg.sh runs this file on PostgreSQL)
  postgres*) want=postgresql ;;
  *) want=sqlite ;;
esac
[ "$(jf 'd["store"]["adapter"]')" = "$want" ] || fail "health: adapter $(jf 'd["store"]["adapter"]'), not $want"
expect 401 GET /health ""
[ "$(jf 'd["error"]["code"]')" = unauthorized ] || fail "401 body"
grep -qi '^www-authenticate: Bearer' "$T/hdr" || fail "401 without WWW-Authenticate"
expect 200 GET /ready "$VIEWER"
expect 200 GET / ""
expect 200 GET /openapi.json ""
[ "$(jf 'd["openapi"]')" = 3.1.0 ] || fail "openapi version"
expect 200 GET /docs ""
grep -q "/api/v1/smart-meters/{meter_id}/readings" "$T/out" || fail "docs lack the readings route"

# ---- meters ----
expect 201 POST /api/v1/smart-meters "$OPERATOR" \
  '{"meter_id":"SM-A","latitude":52.52,"longitude":13.405,"manufacturer":"Landis","type":"residential","operator_id":"TSO-1","installed_at":"2024-01-02T00:00:00Z"}'
[ "$(jf 'd["status"]')" = active ] || fail "default status"
expect 201 POST /api/v1/smart-meters "$OPERATOR" \
  '{"meter_id":"SM-B","latitude":48.137,"longitude":11.575,"manufacturer":"Itron","type":"commercial","status":"maintenance"}'
expect 201 POST /api/v1/smart-meters "$OPERATOR" \
  '{"meter_id":"SM-C","latitude":52.40,"longitude":13.06,"manufacturer":"landis"}'
expect 409 POST /api/v1/smart-meters "$OPERATOR" '{"meter_id":"SM-A"}'
[ "$(jf 'd["error"]["code"]')" = conflict ] || fail "409 code"
expect 422 POST /api/v1/smart-meters "$OPERATOR" '{"latitude":1}'
[ "$(jf 'd["error"]["details"]["field"]')" = meter_id ] || fail "missing field not named"
expect 422 POST /api/v1/smart-meters "$OPERATOR" '{"meter_id":"X","latitude":"north"}'
[ "$(jf 'd["error"]["details"]["field"]')" = latitude ] || fail "wrong type not named"
expect 422 POST /api/v1/smart-meters "$OPERATOR" '{"meter_id":"X","latitude":91}'
expect 422 POST /api/v1/smart-meters "$OPERATOR" '{"meter_id":"X","status":"broken"}'
expect 422 POST /api/v1/smart-meters "$OPERATOR" '{"meter_id":"X","colour":"red"}'
[ "$(jf 'd["error"]["details"]["field"]')" = colour ] || fail "unknown field not named"
expect 422 POST /api/v1/smart-meters "$OPERATOR" '[1,2]'
expect 400 POST /api/v1/smart-meters "$OPERATOR" '{"meter_id":'
[ "$(jf 'd["error"]["code"]')" = malformed_json ] || fail "malformed JSON code"
expect 415 POST /api/v1/smart-meters "$OPERATOR" 'meter_id=X' 'application/x-www-form-urlencoded'
expect 200 GET /api/v1/smart-meters/SM-A "$VIEWER"
[ "$(jf 'd["manufacturer"]')" = Landis ] || fail "get meter"
expect 404 GET /api/v1/smart-meters/NOPE "$VIEWER"
[ "$(jf 'd["error"]["code"]')" = not_found ] || fail "404 code"

# status moves: maintenance -> active ok; active -> pending forbidden (409)
expect 200 PUT /api/v1/smart-meters/SM-B "$OPERATOR" '{"status":"active","model":"X1"}'
[ "$(jf 'd["status"]+d["model"]+d["manufacturer"]')" = activeX1Itron ] || fail "partial update"
expect 409 PUT /api/v1/smart-meters/SM-B "$OPERATOR" '{"status":"pending"}'
[ "$(jf 'd["error"]["code"]')" = invalid_transition ] || fail "transition code"
expect 422 PUT /api/v1/smart-meters/SM-B "$OPERATOR" '{"meter_id":"SM-Z"}'
expect 404 PUT /api/v1/smart-meters/NOPE "$OPERATOR" '{"model":"x"}'

# search: filters, radius, bbox, paging, sorting
expect 200 GET "/api/v1/smart-meters?manufacturer=landis" "$VIEWER"
[ "$(jf 'd["total"]')" = 2 ] || fail "manufacturer filter (any case)"
expect 200 GET "/api/v1/smart-meters?lat=52.52&lon=13.405&radius_km=30" "$VIEWER"
[ "$(jf '",".join(m["meter_id"] for m in d["items"])')" = "SM-A,SM-C" ] || fail "radius: $(cat "$T/out")"
expect 200 GET "/api/v1/smart-meters?lat=52.52&lon=13.405&radius_km=5" "$VIEWER"
[ "$(jf 'd["total"]')" = 1 ] || fail "small radius"
expect 200 GET "/api/v1/smart-meters?bbox=11,48,12,49" "$VIEWER"
[ "$(jf 'd["items"][0]["meter_id"]')" = SM-B ] || fail "bbox"
expect 200 GET "/api/v1/smart-meters?type=commercial" "$VIEWER"
[ "$(jf 'd["total"]')" = 1 ] || fail "type filter"
expect 200 GET "/api/v1/smart-meters?grid_operator=TSO-1" "$VIEWER"
[ "$(jf 'd["total"]')" = 1 ] || fail "operator filter"
expect 200 GET "/api/v1/smart-meters?page=2&page_size=2&sort=meter_id&order=desc" "$VIEWER"
[ "$(jf 'd["total"],d["items"][0]["meter_id"],d["has_previous"],d["has_next"]')" = "(3, 'SM-A', True, False)" ] || fail "paging: $(cat "$T/out")"
expect 400 GET "/api/v1/smart-meters?page_size=1001" "$VIEWER"
[ "$(jf 'd["error"]["code"]')" = bad_parameter ] || fail "bad_parameter"
expect 400 GET "/api/v1/smart-meters?page=abc" "$VIEWER"
expect 400 GET "/api/v1/smart-meters?status=broken" "$VIEWER"
expect 400 GET "/api/v1/smart-meters?lat=52" "$VIEWER"
expect 400 GET "/api/v1/smart-meters?bbox=1,2,3" "$VIEWER"
expect 400 GET "/api/v1/smart-meters?colour=red" "$VIEWER"

# ---- readings ----
now=$(date -u +%s)
day=$(( (now / 86400 - 3) * 86400 ))
batch=$(python3 - "$day" <<'PY'
import json, sys, datetime
day = int(sys.argv[1])
rows = []
for i in range(96):
    if 40 <= i < 44:      # a one-hour gap: estimated by interpolation
        continue
    t = datetime.datetime.fromtimestamp(day + 900 * i, datetime.timezone.utc)
    rows.append({"timestamp": t.strftime("%Y-%m-%dT%H:%M:%SZ"), "consumption_kwh": 0.25 + (i % 4) * 0.01, "voltage_v": 231.0})
rows.append({"timestamp": "yesterday", "consumption_kwh": 1})
rows.append({"timestamp": rows[0]["timestamp"], "consumption_kwh": "lots"})
rows.append({"meter_id": "SM-B", "timestamp": rows[0]["timestamp"], "consumption_kwh": 1})
print(json.dumps(rows))
PY
)
expect 207 POST /api/v1/smart-meters/SM-A/readings "$OPERATOR" "$batch"
[ "$(jf 'd["accepted"],d["rejected"],d["estimated"]')" = "(92, 3, 4)" ] || fail "ingest counts: $(cat "$T/out")"
[ "$(jf '",".join(r["rule"] for r in d["rejections"])')" = "timestamp,number,value" ] || fail "reject reasons: $(cat "$T/out")"
[ "$(jf 'd["rejections"][0]["line"]')" = 93 ] || fail "reject line"
# the same batch again: duplicates, nothing new
expect 207 POST /api/v1/smart-meters/SM-A/readings "$OPERATOR" "$batch"
[ "$(jf 'd["duplicates"]')" = 92 ] || fail "re-delivery is not a duplicate: $(cat "$T/out")"
from=$(date -u -d "@$day" +%Y-%m-%dT%H:%M:%SZ)
to=$(date -u -d "@$((day + 86400))" +%Y-%m-%dT%H:%M:%SZ)
expect 200 GET "/api/v1/smart-meters/SM-A/readings?from=$from&to=$to" "$VIEWER"
[ "$(jf 'd["count"]')" = 96 ] || fail "raw readings count: $(head -c 300 "$T/out")"
[ "$(jf 'sum(1 for r in d["readings"] if r["quality"]=="estimated_interpolation")')" = 4 ] || fail "estimates not marked"
[ "$(jf 'd["readings"][0]["quality_code"],d["readings"][0]["voltage_v"]')" = "(0, 231)" ] || fail "raw fields"
expect 200 GET "/api/v1/smart-meters/SM-A/readings?from=$from&to=$to&resolution=hourly" "$VIEWER"
[ "$(jf 'd["count"],d["readings"][10]["estimated"]')" = "(24, 4)" ] || fail "hourly: $(head -c 300 "$T/out")"
expect 200 GET "/api/v1/smart-meters/SM-A/readings?from=$from&to=$to&resolution=daily" "$VIEWER"
[ "$(jf 'd["count"],d["readings"][0]["received"],d["readings"][0]["estimated"]')" = "(1, 92, 4)" ] || fail "daily: $(cat "$T/out")"
expect 400 GET "/api/v1/smart-meters/SM-A/readings?resolution=weekly" "$VIEWER"
expect 400 GET "/api/v1/smart-meters/SM-A/readings?from=2024-13-01" "$VIEWER"
expect 400 GET "/api/v1/smart-meters/SM-A/readings?from=$to&to=$from" "$VIEWER"
expect 404 GET "/api/v1/smart-meters/NOPE/readings" "$VIEWER"
# NDJSON for many meters, with a bad line
nd=$(printf '{"meter_id":"SM-C","timestamp":"%s","consumption_kwh":0.1}\nnot json\n\n{"meter_id":"SM-NEW","timestamp":"%s","consumption_kwh":0.2}\n' "$from" "$from")
expect 207 POST /api/v1/readings "$OPERATOR" "$nd" application/x-ndjson
[ "$(jf 'd["accepted"],d["rejected"],d["new_meters"],d["rejections"][0]["line"],d["rejections"][0]["rule"]')" = "(2, 1, 1, 2, 'parse.json')" ] || fail "ndjson: $(cat "$T/out")"
expect 200 POST /api/v1/readings "$OPERATOR" "{\"readings\":[{\"meter_id\":\"SM-C\",\"timestamp\":\"$to\",\"consumption_kwh\":0.1}]}"
expect 400 POST /api/v1/readings "$OPERATOR" '[{"meter_id":"SM-C",'
expect 422 POST /api/v1/readings "$OPERATOR" '[]'
expect 422 POST /api/v1/readings "$OPERATOR" '"hello"'
expect 415 POST /api/v1/readings "$OPERATOR" 'a,b' text/csv
# oversized body (limit 64k): 413 before anything is stored
python3 -c 'import json; print(json.dumps([{"meter_id":"SM-BIG","timestamp":"2024-01-01T00:00:00Z","consumption_kwh":1}]*2000))' >"$T/big.json"
expect 413 POST /api/v1/readings "$OPERATOR" "@$T/big.json"
[ "$(jf 'd["error"]["code"]')" = payload_too_large ] || fail "413 code"
expect 404 GET /api/v1/smart-meters/SM-BIG "$VIEWER"
# the rejects are in the quarantine with the request id as source
expect 200 GET "/api/v1/quarantine?kind=readings" "$VIEWER"
[ "$(jf 'sum(1 for q in d["items"] if q["source"].startswith("http:"))')" -ge 7 ] || fail "quarantine: $(head -c 400 "$T/out")"

# meter analytics and quality
expect 200 GET "/api/v1/smart-meters/SM-A/analytics?from=$from&to=$to" "$VIEWER"
[ "$(jf 'd["total_readings"],d["estimated_readings"],d["avg_voltage"]')" = "(96, 4, 231)" ] || fail "analytics: $(cat "$T/out")"
expect 200 GET "/api/v1/smart-meters/SM-A/quality?days=true" "$VIEWER"
[ "$(jf 'd["days"],d["received"],d["estimated"],len(d["daily"])')" = "(1, 92, 4, 1)" ] || fail "quality: $(cat "$T/out")"
expect 200 GET "/api/v1/smart-meters?quality_tier=unknown" "$VIEWER"
[ "$(jf 'sorted(m["meter_id"] for m in d["items"])')" = "['SM-B']" ] || fail "tier filter: $(cat "$T/out")"

# decommission: then its readings are quarantined
expect 200 DELETE /api/v1/smart-meters/SM-C "$OPERATOR"
[ "$(jf 'd["status"]')" = decommissioned ] || fail "delete"
expect 409 DELETE /api/v1/smart-meters/SM-C "$OPERATOR"
expect 207 POST /api/v1/smart-meters/SM-C/readings "$OPERATOR" "[{\"timestamp\":\"$to\",\"consumption_kwh\":1}]"
[ "$(jf 'd["rejections"][0]["rule"]')" = meter.decommissioned ] || fail "decommissioned meter accepted readings"

# ---- grid operators and weather stations ----
expect 201 POST /api/v1/grid-operators "$OPERATOR" '{"operator_id":"TSO-1","name":"North","type":"TSO","capacity_mw":1000,"voltage_kv":380}'
expect 409 POST /api/v1/grid-operators "$OPERATOR" '{"operator_id":"TSO-1"}'
expect 200 PUT /api/v1/grid-operators/TSO-1 "$OPERATOR" '{"region":"north","status":"maintenance"}'
[ "$(jf 'd["region"]+d["status"]+d["name"]')" = northmaintenanceNorth ] || fail "operator update"
expect 200 GET /api/v1/grid-operators/TSO-1 "$VIEWER"
expect 200 GET "/api/v1/grid-operators?status=maintenance" "$VIEWER"
[ "$(jf 'd["total"]')" = 1 ] || fail "operator list"
gs=$(python3 - "$day" <<'PY'
import json, sys, datetime
day = int(sys.argv[1]); rows = []
for i in range(8):
    t = datetime.datetime.fromtimestamp(day + 900 * i, datetime.timezone.utc).strftime("%Y-%m-%dT%H:%M:%SZ")
    rows.append({"timestamp": t, "frequency_hz": 50.0, "voltage_kv": 380, "load_mw": 500 + 10 * i, "capacity_mw": 1000, "stability": 0.9 - 0.01 * i})
print(json.dumps({"statuses": rows}))
PY
)
expect 200 POST /api/v1/grid-operators/TSO-1/status "$OPERATOR" "$gs"
[ "$(jf 'd["accepted"]')" = 8 ] || fail "grid ingest"
expect 200 GET "/api/v1/grid-operators/TSO-1/status?from=$from&to=$to" "$VIEWER"
[ "$(jf 'len(d["items"])')" = 8 ] || fail "grid history"
expect 200 GET "/api/v1/grid-operators/TSO-1/analytics?from=$from&to=$to" "$VIEWER"
[ "$(jf 'd["peak_load_mw"],d["peak_load_time"][11:16],round(d["min_stability"],2)')" = "(570, '01:45', 0.83)" ] || fail "grid analytics: $(cat "$T/out")"
expect 404 POST /api/v1/grid-operators/NOPE/status "$OPERATOR" "$gs"
expect 201 POST /api/v1/weather/stations "$OPERATOR" '{"station_id":"WS-1","name":"Berlin","latitude":52.5,"longitude":13.4}'
expect 200 PUT /api/v1/weather/stations/WS-1 "$OPERATOR" '{"elevation_m":34}'
expect 200 GET /api/v1/weather/stations/WS-1 "$VIEWER"
[ "$(jf 'd["elevation_m"]')" = 34 ] || fail "station update"
expect 200 GET /api/v1/weather/stations "$VIEWER"
expect 200 POST /api/v1/weather/stations/WS-1/observations "$OPERATOR" \
  "[{\"timestamp\":\"$from\",\"temperature_c\":4.5,\"precipitation_mm\":1.5},{\"timestamp\":\"$to\",\"temperature_c\":-2,\"precipitation_mm\":0.5}]"
expect 200 GET "/api/v1/weather/stations/WS-1/observations?from=$from" "$VIEWER"
[ "$(jf 'len(d["items"])')" = 2 ] || fail "observations"
expect 200 GET "/api/v1/weather/stations/WS-1/analytics?from=$from" "$VIEWER"
[ "$(jf 'd["min_temperature_c"],d["max_temperature_c"],d["total_precipitation_mm"]')" = "(-2, 4.5, 2)" ] || fail "weather analytics: $(cat "$T/out")"

# ---- analytics ----
expect 200 GET "/api/v1/analytics/overview?period=30d" "$VIEWER"
[ "$(jf 'd["store"]["meters"] >= 3 and d["data_quality"]["meters"] >= 1')" = True ] || fail "overview: $(cat "$T/out")"
expect 200 GET "/api/v1/analytics/energy-consumption?period=30d&group_by=grid_operator" "$VIEWER"
[ "$(jf '[round(i["kwh"],2) for i in d["items"] if i["grid_operator"]=="TSO-1"]')" = "[25.44]" ] || fail "energy by operator: $(cat "$T/out")"
expect 200 GET "/api/v1/analytics/energy-consumption?from=$from&to=$to&group_by=meter&meter_id=SM-A" "$VIEWER"
[ "$(jf 'len(d["items"]),d["items"][0]["meter_days"]')" = "(1, 1)" ] || fail "energy per meter: $(cat "$T/out")"
expect 200 GET "/api/v1/analytics/anomalies?period=30d" "$VIEWER"
[ "$(jf 'd["by_type"].get("gap",0) >= 1')" = True ] || fail "anomalies: $(cat "$T/out")"
expect 200 GET "/api/v1/analytics/anomalies?period=30d&source=readings&level=low&type=gap&limit=5" "$VIEWER"
expect 400 GET "/api/v1/analytics/anomalies?type=nonsense" "$VIEWER"
expect 200 GET "/api/v1/analytics/data-quality?period=30d" "$VIEWER"
expect 200 GET "/api/v1/analytics/reports/daily?date=$(date -u -d "@$day" +%F)" "$VIEWER"
[ "$(jf 'd["summary"]["meters"] >= 1')" = True ] || fail "daily report: $(cat "$T/out")"
expect 400 GET "/api/v1/analytics/reports/daily?date=yesterday" "$VIEWER"

# ---- admin ----
expect 201 POST /api/v1/admin/keys "$ADMIN" '{"role":"viewer","name":"temp"}'
newkey=$(jf 'd["key"]'); newid=$(jf 'd["key_id"]')
expect 200 GET /health "$newkey"
expect 200 GET /api/v1/admin/keys "$ADMIN"
grep -q "$newid" "$T/out" || fail "key list"
grep -q "$newkey" "$T/out" && fail "the key list shows a secret"
expect 204 DELETE "/api/v1/admin/keys/$newid" "$ADMIN"
sleep 1.2 # the per-thread key cache lives 1 s
expect 401 GET /health "$newkey"
expect 404 DELETE /api/v1/admin/keys/nope "$ADMIN"
expect 422 POST /api/v1/admin/keys "$ADMIN" '{"role":"root"}'
expect 200 POST /api/v1/admin/maintenance/check "$ADMIN"
[ "$(jf 'd["ok"]')" = True ] || fail "store check: $(cat "$T/out")"

# ---- routing ----
expect 404 GET /api/v1/nope "$VIEWER"
[ "$(jf 'd["error"]["code"]')" = route_not_found ] || fail "unknown route code"
expect 405 PATCH /api/v1/smart-meters "$ADMIN"
grep -qi '^allow: GET, POST' "$T/hdr" || fail "405 without Allow: $(cat "$T/hdr")"
expect 200 GET /api/v1/smart-meters/ "$VIEWER" # trailing slash

# ---- request ids, CORS, access log, metrics ----
curl -s -D "$T/hdr" -o /dev/null -H "X-Request-ID: trace-42" -H "X-API-Key: $VIEWER" \
  -H "Origin: https://ui.example" "$BASE/ready"
grep -qi '^x-request-id: trace-42' "$T/hdr" || fail "request id not echoed"
grep -qi '^access-control-allow-origin: https://ui.example' "$T/hdr" || fail "CORS header"
curl -s -D "$T/hdr" -o /dev/null -H "X-API-Key: $VIEWER" -H "Origin: https://evil.example" "$BASE/ready"
grep -qi '^access-control-allow-origin' "$T/hdr" && fail "CORS header for an origin not allowed"
curl -s -D "$T/hdr" -o /dev/null -H "X-API-Key: $VIEWER" -H "X-Request-ID: bad id with spaces" "$BASE/ready"
grep -qi '^x-request-id: [0-9a-f]*-[0-9a-f]*' "$T/hdr" || fail "request id not generated"
code=$(curl -s -D "$T/hdr" -o /dev/null -w '%{http_code}' -X OPTIONS -H "Origin: https://ui.example" \
  -H "Access-Control-Request-Method: POST" "$BASE/api/v1/smart-meters")
[ "$code" = 204 ] || fail "CORS preflight: $code"
grep -qi '^access-control-allow-methods: GET, POST' "$T/hdr" || fail "preflight methods: $(cat "$T/hdr")"
expect 200 GET /metrics "$VIEWER"
grep -q 'metrify_http_requests_total{route="/api/v1/smart-meters",method="POST",status="201"} 3' "$T/out" || fail "request counter: $(grep smart-meters\" "$T/out" | head)"
grep -q 'metrify_http_request_duration_seconds_bucket{route="/health",method="GET",status="200",le="+Inf"}' "$T/out" || fail "histogram"
grep -q 'metrify_rule_hits_total{rule="timestamp",action="quarantine"} [1-9]' "$T/out" || fail "rejects by rule"
grep -q 'metrify_ingested_records_total{kind="readings"} [1-9]' "$T/out" || fail "ingested counter"
grep -q '^metrify_anomalies{type="gap"} [1-9]' "$T/out" || fail "anomalies by type"
grep -q '^metrify_store_bytes [1-9]' "$T/out" || fail "store size"
sleep 1.1
curl -s -o /dev/null -H "X-API-Key: $VIEWER" "$BASE/ready" # flushes the buffered log (>1 s)
python3 - "$T/access.log" <<'PY' || fail "access log"
import json, sys
lines = [json.loads(l) for l in open(sys.argv[1])]
assert len(lines) > 100, len(lines)
for l in lines:
    for k in ("time", "method", "path", "status", "bytes", "duration_ms", "request_id"):
        assert k in l, (k, l)
assert any(l["request_id"] == "trace-42" for l in lines)
PY

# ---- JWT ----
tok=$(python3 - <<'PY'
import base64, hashlib, hmac, json, os, time
b = lambda x: base64.urlsafe_b64encode(x).rstrip(b"=").decode()
def jwt(claims, secret=os.environ["JWT_SECRET"]):
    m = b(json.dumps({"alg": "HS256", "typ": "JWT"}).encode()) + "." + b(json.dumps(claims).encode())
    return m + "." + b(hmac.new(secret.encode(), m.encode(), hashlib.sha256).digest())
now = int(time.time())
print(jwt({"sub": "svc", "role": "operator", "exp": now + 600}), jwt({"sub": "svc", "role": "operator", "exp": now - 5}),
      jwt({"sub": "svc", "role": "admin", "exp": now + 600}, "wrong-secret-wrong-secret"), jwt({"sub": "v", "role": "viewer", "exp": now + 600}))
PY
)
read -r good expired forged viewerjwt <<<"$tok"
expect 201 POST /api/v1/smart-meters "$good" '{"meter_id":"SM-JWT"}'
expect 401 GET /health "$expired"
expect 401 GET /health "$forged"
expect 403 POST /api/v1/smart-meters "$viewerjwt" '{"meter_id":"SM-JWT2"}'

# ---- rate limit: a second server on the same store ----
api_stop
api_start --rate-limit 5/s
codes=""
for _ in $(seq 1 12); do
  c=$(req GET /ready "$VIEWER")
  codes="$codes $c"
  # keep the first 429 itself: on a slow machine a later request may find the bucket refilled
  [ "$c" = 429 ] && [ ! -f "$T/hdr429" ] && cp "$T/hdr" "$T/hdr429" && cp "$T/out" "$T/out429"
done
case "$codes" in *429*) ;; *) fail "no 429 after 12 requests at 5/s: $codes";; esac
grep -qi '^retry-after: [1-9]' "$T/hdr429" || fail "429 without Retry-After"
cp "$T/out429" "$T/out"
[ "$(jf 'd["error"]["code"]')" = rate_limited ] || fail "429 body"
expect 200 GET /ready "$OPERATOR" # per key
api_stop
echo "api routes: ok"
