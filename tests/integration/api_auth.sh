#!/usr/bin/env bash
# api_auth.sh - the authorisation matrix over real HTTP: every operation of the served OpenAPI
# document (its x-required-role: public, viewer, operator, admin) x every kind of caller (no
# credentials, unknown key, malformed header, revoked key, viewer, operator, admin; keys sent as
# Authorization: Bearer and as X-API-Key). Below the required role: 401 without valid credentials,
# 403 with a valid but weaker key, both with the JSON error shape; at or above it: neither.
# Then --public-health opens /health, /ready and /metrics, and nothing else.
source "$(dirname "$0")/../harness/lib.sh"
source "$TOP/tests/harness/api.sh"
api_keys
REVOKED=$("$M" --db "$DB" -q apikey create --role admin --name revoked)
"$M" --db "$DB" -q apikey revoke "$(echo "$REVOKED" | cut -d_ -f2)"
"$M" --db "$DB" --json apikey list >"$T/keys.json"
grep -q '"revoked_at": "' "$T/keys.json" || fail "apikey list does not show the revocation"
grep -q "$(echo "$ADMIN" | cut -d_ -f3)" "$T/keys.json" && fail "apikey list shows a secret"
# on either store (a file or a PostgreSQL URL): four SHA-256 hashes, no key in clear
"$M" --db "$DB" sql "SELECT hash FROM api_keys" >"$T/hashes"
[ "$(grep -cE '^[0-9a-f]{64}$' "$T/hashes")" = 4 ] || fail "stored key hashes: $(cat "$T/hashes")"
grep -q "$ADMIN" "$T/hashes" && fail "a key is stored in clear"

matrix() { # $1 = 1 when health routes are public
  python3 - "$BASE" "$VIEWER" "$OPERATOR" "$ADMIN" "$REVOKED" "$1" <<'PY'
import json, sys, urllib.request, urllib.error
base, viewer, operator, admin, revoked, public_health = sys.argv[1:7]
rank = {"public": 0, "viewer": 1, "operator": 2, "admin": 3}
callers = [  # name, headers, rank (-1 = no valid credentials)
    ("none", {}, -1),
    ("unknown key", {"Authorization": "Bearer mtr_00000000_00000000000000000000000000000000"}, -1),
    ("basic auth", {"Authorization": "Basic dXNlcjpwYXNz"}, -1),
    ("revoked", {"Authorization": "Bearer " + revoked}, -1),
    ("viewer", {"Authorization": "Bearer " + viewer}, 1),
    ("viewer x-api-key", {"X-API-Key": viewer}, 1),
    ("operator", {"Authorization": "Bearer " + operator}, 2),
    ("operator x-api-key", {"X-API-Key": operator}, 2),
    ("admin", {"Authorization": "Bearer " + admin}, 3),
]
def call(method, path, headers, body):
    req = urllib.request.Request(base + path, method=method, headers=dict(headers), data=body)
    if body is not None:
        req.add_header("Content-Type", "application/json")
    try:
        with urllib.request.urlopen(req, timeout=30) as r:
            return r.status, r.read()
    except urllib.error.HTTPError as e:
        return e.code, e.read()
spec = json.loads(call("GET", "/openapi.json", {}, None)[1])
bad = checked = 0
for path, item in spec["paths"].items():
    for method, op in item.items():
        need = rank[op["x-required-role"]]
        if public_health == "1" and path in ("/health", "/ready", "/metrics"):
            need = 0
        url = path.replace("{meter_id}", "AUTH-M").replace("{operator_id}", "AUTH-O") \
                  .replace("{station_id}", "AUTH-S").replace("{key_id}", "nokey")
        body = b"{}" if "requestBody" in op else None
        for name, headers, have in callers:
            status, text = call(method.upper(), url, headers, body)
            checked += 1
            if need == 0 or have >= need:
                ok = status not in (401, 403)
                want = "not 401/403"
            elif have < 0:
                ok = status == 401 and json.loads(text)["error"]["code"] == "unauthorized"
                want = "401"
            else:
                ok = status == 403 and json.loads(text)["error"]["code"] == "forbidden"
                want = "403"
            if not ok:
                bad += 1
                print(f"FAIL {method.upper()} {path} as {name} (needs {op['x-required-role']}): {status}, want {want}: {text[:160]!r}")
print(f"{checked} requests, {bad} wrong")
sys.exit(1 if bad else 0)
PY
}
api_start
matrix 0 || fail "auth matrix"
api_stop
api_start --public-health
matrix 1 || fail "auth matrix with --public-health"
expect 200 GET /metrics ""
expect 401 GET /api/v1/smart-meters ""
api_stop
# the configuration decides when no flag does: api.public_health via METRIFY_API_PUBLIC_HEALTH
METRIFY_API_PUBLIC_HEALTH=true api_start
expect 200 GET /health ""
api_stop
METRIFY_API_PUBLIC_HEALTH=true api_start --no-public-health
expect 401 GET /health ""
echo "api auth: ok"
