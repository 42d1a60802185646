# api.sh - helpers sourced by the API integration tests (tests/integration/api_*.sh), after lib.sh:
# start a `metrify serve` on a free port with keys of each role, make requests, check answers.
#   api_start [serve options...]   sets BASE, SPID, ADMIN, OPERATOR, VIEWER, DB; the EXIT trap stops it
#   req METHOD PATH KEY [BODY [CONTENT-TYPE]]   prints the status; body in $T/out, headers $T/hdr
#   expect CODE METHOD PATH KEY [BODY [CT]]     fails unless the status is CODE
#   jf EXPR                                     python expression over the last JSON body `d`
SPID=""
DB=${METRIFY_API_TEST_DB:-$T/api.db} # a PostgreSQL URL runs the same tests on that store
# the configuration's default is a public /health; these tests start from keys everywhere
export METRIFY_API_PUBLIC_HEALTH=false
api_stop() {
  if [ -n "$SPID" ] && kill -0 "$SPID" 2>/dev/null; then
    kill -TERM "$SPID" 2>/dev/null || true
    for _ in $(seq 1 100); do kill -0 "$SPID" 2>/dev/null || break; sleep 0.1; done
    kill -KILL "$SPID" 2>/dev/null || true
  fi
  SPID=""
}
trap 'api_stop; rm -rf "$T"' EXIT
api_keys() {
  ADMIN=$("$M" --db "$DB" -q apikey create --role admin --name test-admin)
  OPERATOR=$("$M" --db "$DB" -q apikey create --role operator --name test-operator)
  VIEWER=$("$M" --db "$DB" -q apikey create --role viewer --name test-viewer)
}
api_start() {
  [ -n "${ADMIN:-}" ] || api_keys
  : >"$T/serve.err"
  "$M" --db "$DB" serve --listen 127.0.0.1:0 --access-log "$T/access.log" "$@" 2>"$T/serve.err" &
  SPID=$!
  for _ in $(seq 1 300); do
    grep -q "listening on" "$T/serve.err" 2>/dev/null && break
    kill -0 "$SPID" 2>/dev/null || { cat "$T/serve.err"; fail "serve exited at start"; }
    sleep 0.1
  done
  local port
  port=$(grep -o 'http://[0-9.]*:[0-9]*' "$T/serve.err" | head -1 | sed 's/.*://')
  [ -n "$port" ] || fail "serve did not print its port"
  BASE="http://127.0.0.1:$port"
}
req() {
  local method=$1 path=$2 key=$3 body=${4-} ct=${5:-application/json}
  local args=(-s -o "$T/out" -D "$T/hdr" -w '%{http_code}' -X "$method" --max-time 60)
  [ -n "$key" ] && args+=(-H "Authorization: Bearer $key")
  if [ -n "$body" ]; then
    args+=(--data-binary "$body") # "@FILE" sends a file
    args+=(-H "Content-Type: $ct")
  fi
  curl "${args[@]}" "$BASE$path"
}
expect() {
  local code=$1
  shift
  local got
  got=$(req "$@")
  [ "$got" = "$code" ] || fail "$1 $2: expected $code, got $got: $(head -c 400 "$T/out")"
}
jf() { python3 -c "import json,sys; d=json.load(open(sys.argv[1])); v=($1); print(v)" "$T/out"; }
