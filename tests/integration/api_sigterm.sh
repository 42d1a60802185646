#!/usr/bin/env bash
# api_sigterm.sh - SIGTERM during ingest loses nothing acknowledged: (1) a large batch is in
# flight when the server gets SIGTERM: it is finished, committed and answered, and the server
# exits 0; (2) a client posts batches back to back while the server is stopped: every batch that
# was answered 200 is in the store, in full, and the server exits 0.
source "$(dirname "$0")/../harness/lib.sh"
source "$TOP/tests/harness/api.sh"
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
# counted after (2), through a fresh server: the readings live in blocks only metrify reads

# (2) back-to-back batches while the server stops
start2=$(( ($(date -u +%s) / 86400 - 60) * 86400 ))
api_start
python3 - "$BASE" "$OPERATOR" "$start2" "$T/acked" <<'PY' &
import http.client, json, sys, datetime, time, urllib.parse
base, key, start, acked = sys.argv[1], sys.argv[2], int(sys.argv[3]), sys.argv[4]
u = urllib.parse.urlparse(base)
with open(acked, "w") as out:
    for b in range(100000):
        # 200 meters from 60 days back, each batch the next 100 intervals of one: 11,000 batches
        # fit before now
        rows = [{"meter_id": "SEQ-%d" % (b % 200), "consumption_kwh": 0.3,
                 "timestamp": datetime.datetime.fromtimestamp(start + 900 * (b // 200 * 100 + i), datetime.timezone.utc).strftime("%Y-%m-%dT%H:%M:%SZ")}
                for i in range(100)]
        try:
            c = http.client.HTTPConnection(u.hostname, u.port, timeout=30)
            c.request("POST", "/api/v1/readings", json.dumps(rows), {"Authorization": "Bearer " + key, "Content-Type": "application/json"})
            r = c.getresponse(); body = r.read(); c.close()
        except OSError:
            break  # the server has stopped listening
        assert r.status == 200, (r.status, body[:300])  # every batch is good data
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
api_start
python3 - "$BASE" "$VIEWER" "$T/acked" "$start" "$start2" <<'PY' || fail "acknowledged readings are missing from the store"
import json, sys, urllib.request, datetime
base, key, acked, start, start2 = sys.argv[1], sys.argv[2], sys.argv[3], int(sys.argv[4]), int(sys.argv[5])
iso = lambda t: datetime.datetime.fromtimestamp(t, datetime.timezone.utc).strftime("%Y-%m-%dT%H:%M:%SZ")
def measured(meter, lo, hi):
    url = f"{base}/api/v1/smart-meters/{meter}/readings?from={iso(lo)}&to={iso(hi)}"
    d = json.load(urllib.request.urlopen(urllib.request.Request(url, headers={"Authorization": "Bearer " + key})))
    return sum(1 for r in d["readings"] if r["raw_kwh"] is not None)
big = sum(measured("BIG-%d" % m, start, start + 900 * 960) for m in range(50))
assert big == 48000, ("in-flight batch", big)
for line in open(acked):
    b = int(line)
    lo = start2 + 900 * (b // 200 * 100)
    n = measured("SEQ-%d" % (b % 200), lo, lo + 900 * 100)
    assert n == 100, (b, n)
PY
api_stop
echo "api sigterm: ok ($nb batches acknowledged during the stop, all stored)"
