#!/usr/bin/env bash
# api_concurrency.sh - concurrent clients ingesting overlapping batches over HTTP: 8 clients post
# in parallel, each a window of intervals that overlaps its neighbours' on the same 3 meters.
# Afterwards the store holds every interval exactly once (no lost, no duplicated readings), each
# as the measured value (no estimate left behind by out-of-order arrival), the re-deliveries were
# counted as duplicates, and the rollups agree with the readings (maintenance check).
source "$(dirname "$0")/../harness/lib.sh"
source "$TOP/tests/harness/api.sh"
api_start --threads 4
start=$(( ($(date -u +%s) / 86400 - 10) * 86400 ))
python3 - "$T" "$start" <<'PY'
import json, sys
out, start = sys.argv[1], int(sys.argv[2])
for c in range(8):               # client c: intervals [50c, 50c + 200), batches of 50 per meter
    for b in range(4):
        rows = []
        for m in range(3):
            for i in range(50 * c + 50 * b, 50 * c + 50 * b + 50):
                rows.append({"meter_id": f"CC-{m}", "timestamp": start + 900 * i,
                             "consumption_kwh": round(0.2 + 0.01 * ((i * 7 + m) % 11), 3)})
        for r in rows:
            import datetime
            r["timestamp"] = datetime.datetime.fromtimestamp(r["timestamp"], datetime.timezone.utc).strftime("%Y-%m-%dT%H:%M:%SZ")
        json.dump(rows, open(f"{out}/c{c}b{b}.json", "w"))
PY
pids=()
for c in $(seq 0 7); do
  (
    for b in 0 1 2 3; do
      curl -s -o "$T/r$c-$b.json" -w '%{http_code}\n' -X POST -H "Authorization: Bearer $OPERATOR" \
        -H 'Content-Type: application/json' --data-binary "@$T/c${c}b$b.json" \
        "$BASE/api/v1/readings" >>"$T/codes$c"
    done
  ) &
  pids+=($!)
done
wait "${pids[@]}" # not a bare wait: the server is a background job too
codes=$(cat "$T"/codes* | sort | uniq -c | tr -s ' ')
[ "$codes" = " 32 200" ] || fail "not every batch was accepted: $codes $(cat "$T"/r*.json | head -c 600)"
python3 - "$T" <<'PY' || fail "response totals"
import json, glob, sys
acc = dup = 0
for f in glob.glob(sys.argv[1] + "/r*.json"):
    d = json.load(open(f)); acc += d["accepted"]; dup += d["duplicates"]; assert d["rejected"] == 0, d
assert acc == 8 * 4 * 150, acc
# 8 x 200 intervals delivered per meter over 550 distinct ones: 1050 re-deliveries per meter,
# minus those that arrived before the first delivery of the same interval was committed (none can:
# one writer at a time), so every re-delivery is a duplicate
assert dup == 3 * (1600 - 550), dup
PY
api_stop
# read everything back through a fresh server (the readings live in blocks only metrify reads)
api_start
python3 - "$BASE" "$VIEWER" "$start" <<'PY' || fail "the store does not hold every interval exactly once"
import json, sys, urllib.request, datetime
base, key, start = sys.argv[1], sys.argv[2], int(sys.argv[3])
iso = lambda t: datetime.datetime.fromtimestamp(t, datetime.timezone.utc).strftime("%Y-%m-%dT%H:%M:%SZ")
for m in range(3):
    url = f"{base}/api/v1/smart-meters/CC-{m}/readings?from={iso(start - 86400)}&to={iso(start + 900 * 600)}"
    d = json.load(urllib.request.urlopen(urllib.request.Request(url, headers={"Authorization": "Bearer " + key})))
    ts = [r["timestamp"] for r in d["readings"]]
    assert len(ts) == 550 and len(set(ts)) == 550, (m, len(ts), len(set(ts)))
    assert ts == [iso(start + 900 * i) for i in range(550)], m
    for i, r in enumerate(d["readings"]):
        assert r["raw_kwh"] == round(0.2 + 0.01 * ((i * 7 + m) % 11), 3), (m, i, r)
        assert r["quality"] in ("valid", "questionable"), (m, i, r)  # measured, never an estimate
PY
api_stop
"$M" --db "$DB" maintenance check >/dev/null || fail "rollups disagree with readings"
echo "api concurrency: ok (1650 distinct readings from 4800 delivered)"
