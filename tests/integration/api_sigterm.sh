#!/usr/bin/env bash
# api_sigterm.sh - SIGTERM during ingest loses nothing acknowledged: (1) a large batch is in
# flight when the server gets SIGTERM: it is finished, committed and answered, and the server
# exits 0; (2) a client posts batches back to back while the server is stopped: every batch that
# was answered 200 is in the store, in full, and the server exits 0.
source "$(dirname "$0")/../harness/lib.sh"
source "$TOP/tests/harness/api.sh"
command -v sqlite3 >/dev/null || { echo "skip: sqlite3 is not installed"; exit 77; }
start=$(( ($(date -u +%s) / 86400 - 20) * 86400 ))

# (1) one big batch: 50 meters x 960 intervals as NDJSON
python3 - "$start" >"$T/big.ndjson" <<'PY'
import sys, datetime
start = int(sys.argv[1])
for i in range(960):
    ts = datetime.datetime.fromtimestamp(start + 900 * i, datetime.timezone.utc).strftime("%Y-%m-%dT%H:%M:%SZ")
    for m in range(50):
        print('{"meter_id":"BIG-%d","timestamp":"%s","consumption_kwh":%.3f}' % (m, ts, 0.1 + 0.01 * ((i + m) % 13)))
PY
api_start --max-body 64m
curl -s -o "$T/big.out" -w '%{http_code}' -X POST -H "Authorization: Bearer $OPERATOR" \
  -H 'Content-Type: application/x-ndjson' --data-binary "@$T/big.ndjson" "$BASE/api/v1/readings" \
  >"$T/big.code" &
cpid=$!
# wait until the request is being served, then stop the server
for _ in $(seq 1 100); do
  inflight=$(curl -s -H "X-API-Key: $VIEWER" "$BASE/metrics" | awk '/^metrify_http_requests_in_flight/ {print $2}')
  [ "${inflight:-0}" -ge 2 ] && break # this scrape + the batch
  sleep 0.05
done
[ "${inflight:-0}" -ge 2 ] || fail "the batch never was in flight"
kill -TERM "$SPID"
wait "$cpid" || true
rc=0
wait "$SPID" || rc=$?
SPID=""
[ "$rc" = 0 ] || fail "serve exited $rc after SIGTERM: $(tail -5 "$T/serve.err")"
grep -q "stopped (signal 15)" "$T/serve.err" || fail "no orderly stop: $(tail -3 "$T/serve.err")"
[ "$(cat "$T/big.code")" = 200 ] || fail "the in-flight batch was not answered 200: $(cat "$T/big.code") $(head -c 300 "$T/big.out")"
acc=$(python3 -c "import json; print(json.load(open('$T/big.out'))['accepted'])")
[ "$acc" = 48000 ] || fail "accepted $acc of 48000"
n=$(sqlite3 "$DB" "SELECT count(*) FROM readings r JOIN meters m USING (meter_key) WHERE m.meter_id LIKE 'BIG-%' AND raw_kwh IS NOT NULL")
[ "$n" = 48000 ] || fail "acknowledged 48000 readings, the store has $n"

# (2) back-to-back batches while the server stops
api_start
python3 - "$BASE" "$OPERATOR" "$start" "$T/acked" <<'PY' &
import http.client, json, sys, datetime, time, urllib.parse
base, key, start, acked = sys.argv[1], sys.argv[2], int(sys.argv[3]), sys.argv[4]
u = urllib.parse.urlparse(base)
with open(acked, "w") as out:
    for b in range(100000):
        rows = [{"meter_id": "SEQ-%d" % (b % 5), "consumption_kwh": 0.3,
                 "timestamp": datetime.datetime.fromtimestamp(start + 900 * (b // 5 * 100 + i), datetime.timezone.utc).strftime("%Y-%m-%dT%H:%M:%SZ")}
                for i in range(100)]
        try:
            c = http.client.HTTPConnection(u.hostname, u.port, timeout=30)
            c.request("POST", "/api/v1/readings", json.dumps(rows), {"Authorization": "Bearer " + key, "Content-Type": "application/json"})
            r = c.getresponse(); body = r.read(); c.close()
        except OSError:
            break  # the server has stopped listening
        if r.status == 200:
            d = json.loads(body)
            assert d["accepted"] == 100, d
            print(b, file=out, flush=True)
PY
ppid=$!
sleep 3
kill -TERM "$SPID"
rc=0
wait "$SPID" || rc=$?
SPID=""
wait "$ppid" || fail "the posting client failed"
[ "$rc" = 0 ] || fail "serve exited $rc after SIGTERM (2)"
nb=$(wc -l <"$T/acked")
[ "$nb" -ge 3 ] || fail "only $nb batches acknowledged before the stop"
python3 - "$DB" "$T/acked" "$start" <<'PY' || fail "an acknowledged batch is missing from the store"
import sqlite3, sys
db, acked, start = sqlite3.connect(sys.argv[1]), sys.argv[2], int(sys.argv[3])
for line in open(acked):
    b = int(line)
    n = db.execute("SELECT count(*) FROM readings r JOIN meters m USING (meter_key) WHERE m.meter_id = ?"
                   " AND ts >= ? AND ts < ? AND raw_kwh IS NOT NULL",
                   ("SEQ-%d" % (b % 5), start + 900 * (b // 5 * 100), start + 900 * (b // 5 * 100 + 100))).fetchone()[0]
    assert n == 100, (b, n)
PY
echo "api sigterm: ok ($nb batches acknowledged during the stop, all stored)"
