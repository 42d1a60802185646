#!/usr/bin/env bash
# lake_s3.sh - `metrify export lake --to s3://...` against a real S3-compatible server on
# loopback: s3rver (npm) behind tests/js/s3_server.mjs, a proxy that verifies every request's
# AWS Signature V4 and payload hash independently of curl and injects faults. Checks: the export
# survives injected 500s and a dropped connection by retrying (and reports the retries),
# multipart uploads happen and complete, a listing shows the Hive layout, the downloaded objects
# pass the same DuckDB check as a local lake (schema, statistics, rows equal the store), a re-run
# uploads nothing, wrong credentials are refused (exit 3, watermark unchanged), session tokens and
# ~/.aws/credentials profiles work, and an upload
# that keeps failing fails the run without advancing the watermark.
set -uo pipefail
if [ -z "${METRIFY_BIN:-}" ] || [ ! -x "${METRIFY_BIN:-}" ]; then
  echo "METRIFY_BIN is not set or not executable; build metrify first"
  exit 77
fi
root=$(cd "$(dirname "$0")/../.." && pwd)
. "$root/tests/harness/js_deps.sh" || exit $?
tmp=$(mktemp -d)
server=
cleanup() { [ -n "$server" ] && kill "$server" 2>/dev/null; wait 2>/dev/null; rm -rf "$tmp"; }
trap cleanup EXIT
fail() { echo "FAIL: $*"; exit 1; }
jfield() { python3 -c "import json,sys; d=json.load(open(sys.argv[1])); print($2)" "$1"; }

mkdir -p "$tmp/data"
node "$JS/s3_server.mjs" "$tmp/data" lake "$tmp/port" >"$tmp/server.log" 2>&1 &
server=$!
for _ in $(seq 100); do [ -s "$tmp/port" ] && break; sleep 0.1; done
[ -s "$tmp/port" ] || { cat "$tmp/server.log"; fail "the S3 server did not start"; }
EP="http://127.0.0.1:$(cat "$tmp/port")"
# the proxy's control endpoints, with python3 (the curl program is not a dependency)
get() { python3 -c "import sys, urllib.request; print(urllib.request.urlopen(sys.argv[1]).read().decode())" "$1"; }
stat() { get "$EP/__stats" | python3 -c "import json,sys; print(json.load(sys.stdin)['$1'])"; }

m() { "$METRIFY_BIN" --quiet --db "$tmp/s.db" "$@"; }
"$METRIFY_BIN" --quiet simulate --meters 30 --days 3 --seed 5 --out "$tmp/r.csv" \
  --grid "$tmp/g.csv" --weather "$tmp/w.csv" --master "$tmp/m" || fail "simulate"
m import meters "$tmp/m/meters.csv" && m import operators "$tmp/m/operators.csv" &&
  m import stations "$tmp/m/stations.csv" || fail "import"
m ingest readings "$tmp/r.csv"; m ingest grid "$tmp/g.csv"; m ingest weather "$tmp/w.csv"
m export schema --json >"$tmp/schema.json"
m rules --json >"$tmp/rules.json"
export AWS_ACCESS_KEY_ID=S3RVER AWS_SECRET_ACCESS_KEY=S3RVER AWS_SESSION_TOKEN= AWS_PROFILE=
export HOME="$tmp" # no ~/.aws of the machine's user
s3() { m export lake --to s3://lake/metrify --s3-endpoint "$EP" --s3-region eu-central-1 \
  --multipart-threshold 16384 --part-size 16384 --json "$@"; }

# wrong credentials: refused by the signature check, nothing exported
AWS_SECRET_ACCESS_KEY=wrong s3 >"$tmp/bad.json" 2>"$tmp/bad.err"
rc=$?
[ $rc -eq 3 ] || fail "wrong secret: exit $rc, expected 3"
grep -q SignatureDoesNotMatch "$tmp/bad.err" || fail "wrong secret: $(cat "$tmp/bad.err")"
[ "$(stat bad_signatures)" -ge 1 ] || fail "the proxy saw no bad signature"

# 2 injected 500s and 1 dropped connection: retried, the export succeeds
get "$EP/__faults?status=2&drop=1" >/dev/null
s3 >"$tmp/e1.json" || fail "export with injected faults exited $?"
[ "$(jfield "$tmp/e1.json" "d['retries']")" -ge 2 ] || fail "retries not reported: $(cat "$tmp/e1.json")"
[ "$(stat failed)" = 2 ] && [ "$(stat dropped)" = 1 ] || fail "faults not all injected: $(get "$EP/__stats")"
[ "$(stat bad_signatures)" = 1 ] || fail "a request of the export had a bad signature"
[ "$(stat unsigned)" = 0 ] || fail "unsigned requests"
[ "$(stat multipart_completes)" -ge 1 ] || fail "no multipart upload completed"

# listing: the Hive layout, and every object read back by DuckDB
node "$JS/s3_fetch.mjs" "$EP" lake metrify "$tmp/mirror" >"$tmp/all-keys" || fail "listing/download"
grep -Eq '^metrify/\.metrify-lake-id-[0-9a-f]{16} 0$' "$tmp/all-keys" || fail "no lake id object"
grep -v '/\.metrify-lake-id-' "$tmp/all-keys" >"$tmp/keys"
n=$(jfield "$tmp/e1.json" "d['files']")
[ "$(wc -l <"$tmp/keys")" = "$n" ] || fail "$(wc -l <"$tmp/keys") objects listed, $n files exported"
grep -Evq '^metrify/dataset=(readings|grid|weather|daily)/date=[0-9]{4}-[0-9]{2}-[0-9]{2}/part-[0-9]{4}\.parquet [0-9]+$' "$tmp/keys" &&
  fail "a key outside the layout: $(grep -Ev 'part-[0-9]{4}\.parquet' "$tmp/keys" | head -1)"
grep -q '^metrify/dataset=readings/date=2026-01-02/part-0000.parquet ' "$tmp/keys" || fail "readings partition missing"
python3 "$root/tests/tools/lake_expected.py" "$tmp/s.db" "$tmp/exp" "$tmp/rules.json" >/dev/null
node "$JS/check_lake.mjs" "$tmp/mirror" "$tmp/exp" "$tmp/schema.json" || fail "DuckDB check of the downloaded lake"

# re-run: nothing uploaded
puts=$(stat puts)
s3 >"$tmp/e2.json" || fail "re-run exited $?"
[ "$(jfield "$tmp/e2.json" "d['files']")" = 0 ] && [ "$(stat puts)" = "$puts" ] || fail "re-run uploaded"

# credentials from a session token, and from a profile of the shared credentials file
bad=$(stat bad_signatures)
AWS_SESSION_TOKEN=FQoGZXIvYXdzEXAMPLE m export lake --to s3://lake/token --s3-endpoint "$EP" \
  --datasets grid >/dev/null || fail "export with a session token"
mkdir -p "$tmp/.aws"
printf '[default]\naws_access_key_id = nobody\naws_secret_access_key = x\n[profile lake]\naws_access_key_id = S3RVER\naws_secret_access_key = S3RVER\n' >"$tmp/.aws/credentials"
env -u AWS_ACCESS_KEY_ID -u AWS_SECRET_ACCESS_KEY "$METRIFY_BIN" --quiet --db "$tmp/s.db" export lake \
  --to s3://lake/profile --s3-endpoint "$EP" --s3-profile lake --datasets grid >/dev/null ||
  fail "export with ~/.aws/credentials [profile lake]"
[ "$(stat bad_signatures)" = "$bad" ] || fail "token or profile requests were badly signed"

# an upload that keeps failing: exit 3, watermark unchanged, the next run exports the rows
m ingest readings "$tmp/r.csv" >/dev/null # re-delivery: duplicates, nothing new
printf 'meter_id,timestamp,consumption_kwh\nSM000000,2026-01-04T00:00:00Z,0.5\n' >"$tmp/new.csv"
m ingest readings "$tmp/new.csv"
get "$EP/__faults?status=50" >/dev/null
s3 --retries 2 >"$tmp/e3.json" 2>/dev/null
rc=$?
[ $rc -eq 3 ] || fail "persistent failure: exit $rc, expected 3"
get "$EP/__faults?status=0" >/dev/null
s3 >"$tmp/e4.json" || fail "export after the failure exited $?"
[ "$(jfield "$tmp/e4.json" "d['datasets']['readings']['rows']")" -ge 1 ] || fail "the failed run's rows were lost"
node "$JS/s3_fetch.mjs" "$EP" lake metrify "$tmp/mirror2" >/dev/null || fail "download 2"
python3 "$root/tests/tools/lake_expected.py" "$tmp/s.db" "$tmp/exp" "$tmp/rules.json" >/dev/null
node "$JS/check_lake.mjs" "$tmp/mirror2" "$tmp/exp" "$tmp/schema.json" || fail "DuckDB check after recovery"
echo "lake_s3: ok ($(stat puts) PUTs, $(stat failed) injected 500s, $(stat dropped) dropped, $(stat multipart_completes) multipart uploads)"
