#!/usr/bin/env bash
# api_snapshot.sh - the server's worker threads answer GETs from a read snapshot held across an
# event-loop pass (src/api/server.c); what a GET sees must still be fresh. Under a background
# load of GETs on every worker (so that snapshots are held while writes land):
#   1. a reading POSTed on one keep-alive connection is in the very next GET on another one,
#      whichever thread serves it (300 rounds);
#   2. a reading stored by another process (`metrify ingest`) is in the next GET (20 rounds).
source "$(dirname "$0")/../harness/lib.sh"
source "$TOP/tests/harness/api.sh"
api_start --threads 4
day=$(( ($(date -u +%s) / 86400 - 6) * 86400 ))
python3 - "$BASE" "$OPERATOR" "$VIEWER" "$day" "$M" "$DB" "$T" <<'PY' || fail "a GET missed a stored reading"
import datetime, http.client, json, subprocess, sys, threading, urllib.parse
base, op, viewer, day, m, db, tmp = sys.argv[1], sys.argv[2], sys.argv[3], int(sys.argv[4]), sys.argv[5], sys.argv[6], sys.argv[7]
host, port = urllib.parse.urlparse(base).hostname, urllib.parse.urlparse(base).port
iso = lambda t: datetime.datetime.fromtimestamp(t, datetime.timezone.utc).strftime("%Y-%m-%dT%H:%M:%SZ")
rng = f"from={iso(day)}&to={iso(day + 4 * 86400)}"  # 300 intervals of 15 min

def conn():
    return http.client.HTTPConnection(host, port, timeout=30)

def get(c, meter, key=viewer):
    c.request("GET", f"/api/v1/smart-meters/{meter}/readings?{rng}", headers={"Authorization": "Bearer " + key})
    r = c.getresponse()
    body = r.read()
    assert r.status in (200, 404), (r.status, body[:300])
    return {x["timestamp"] for x in json.loads(body)["readings"]} if r.status == 200 else set()

# a first reading of each meter, so that both exist before the load starts
c = conn()
for meter in ("SNAP-A", "SNAP-B"):
    c.request("POST", "/api/v1/readings", body=json.dumps([{"meter_id": meter, "timestamp": iso(day), "consumption_kwh": 0.5}]),
              headers={"Authorization": "Bearer " + op, "Content-Type": "application/json"})
    r = c.getresponse(); r.read(); assert r.status == 200, r.status

stop = threading.Event()
loads = [0] * 8
def load(i):
    lc = conn()
    while not stop.is_set():
        get(lc, "SNAP-A" if i % 2 else "SNAP-B")
        loads[i] += 1
threads = [threading.Thread(target=load, args=(i,)) for i in range(8)]
for t in threads:
    t.start()
try:
    writer, readers = conn(), [conn() for _ in range(4)]
    for i in range(1, 301):
        ts = iso(day + 900 * i)
        writer.request("POST", "/api/v1/smart-meters/SNAP-A/readings",
                       body=json.dumps([{"timestamp": ts, "consumption_kwh": 0.25 + i / 1000}]),
                       headers={"Authorization": "Bearer " + op, "Content-Type": "application/json"})
        r = writer.getresponse(); d = json.loads(r.read())
        assert r.status == 200 and d["accepted"] == 1, (r.status, d)
        seen = get(readers[i % 4], "SNAP-A")
        assert ts in seen, f"round {i}: {ts} was acknowledged but the next GET did not see it"
    for i in range(1, 21):
        ts = iso(day + 900 * i)
        with open(f"{tmp}/one.csv", "w") as f:
            f.write(f"meter_id,timestamp,consumption_kwh\nSNAP-B,{ts},{0.3 + i / 1000}\n")
        subprocess.run([m, "--db", db, "-q", "ingest", "readings", f"{tmp}/one.csv"], check=True)
        seen = get(readers[i % 4], "SNAP-B")
        assert ts in seen, f"round {i}: {ts} was stored by another process but the next GET did not see it"
finally:
    stop.set()
    for t in threads:
        t.join()
assert min(loads) > 0, loads
print("background GETs:", sum(loads))
PY
api_stop
echo "api snapshot: ok (320 writes, each in the next GET under load)"
