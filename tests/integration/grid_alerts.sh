#!/usr/bin/env bash
# Grid alerts on a simulated incident with known start and end: a frequency excursion
# (06:00-06:45), a load ramp past 95 % of capacity (17:00-17:45, critical), a low-stability spell
# that spans two files (one alert, open after the first file, closed by the second), and a
# voltage reported in the wrong unit (flagged grid.range.voltage against the operator's 380 kV,
# no voltage alert). Then the same through `metrify simulate`: every labelled frequency excursion
# is one grid.frequency_deviation alert with the label's start and end.
. "$(dirname "$0")/../harness/lib.sh"
cat > "$T/ops.csv" <<'CSV'
operator_id,name,operator_type,latitude,longitude,status,grid_capacity_mw,voltage_level_kv
TESTOP,Test TSO,TSO,52.0,13.0,ACTIVE,1000,380
CSV
"$M" --db "$T/g.db" --quiet import operators "$T/ops.csv"
python3 - "$T" <<'PY'
import sys
t = sys.argv[1]
def write(path, day, rows):
    with open(path, "w") as f:
        f.write("operator_id,timestamp,frequency_hz,voltage_kv,load_mw,capacity_mw,stability\n")
        for i in range(96):
            h, m = divmod(i * 15, 60)
            fr, v, load, st = rows(h, m)
            f.write(f"TESTOP,2026-01-{day:02d}T{h:02d}:{m:02d}:00Z,{fr},{v},{load},1000,{st}\n")
def day1(h, m):
    fr = 49.7 if h == 6 else 50.01
    load = {0: 910, 15: 930, 30: 960, 45: 970}[m] if h == 17 else 800
    v = 0.23 if (h, m) == (12, 0) else 395   # unit mix-up: kV given in MV
    st = 0.6 if h == 23 else 0.95
    return fr, v, load, st
def day2(h, m):
    st = 0.6 if (h == 0 and m < 45) else 0.95
    return 50.0, 395, 800, st
write(f"{t}/g1.csv", 5, day1)
write(f"{t}/g2.csv", 6, day2)
PY
"$M" --db "$T/g.db" --json ingest grid "$T/g1.csv" > "$T/i1.json" || true
expect_eq "$(json "$T/i1.json" 'd["accepted"], d["rejected"], d["flagged"]')" "96 0 1" "grid file 1"
"$M" --db "$T/g.db" --json anomalies --source grid > "$T/a1.json"
python3 - "$T/a1.json" <<'PY' || fail "alerts after file 1"
import json, sys
a = {x["type"]: x for x in json.load(open(sys.argv[1]))}
assert set(a) == {"grid.frequency_deviation", "grid.load_high", "grid.stability_low"}, a.keys()
f = a["grid.frequency_deviation"]
assert (f["start"], f["end"], f["intervals"], f["level"]) == ("2026-01-05T06:00:00Z", "2026-01-05T06:45:00Z", 4, "high"), f
assert f["detail"].startswith("closed: cleared at 2026-01-05T07:00:00Z"), f["detail"]
l = a["grid.load_high"]
assert (l["start"], l["end"], l["intervals"], l["level"]) == ("2026-01-05T17:00:00Z", "2026-01-05T17:45:00Z", 4, "critical"), l
assert abs(l["value"] - 0.97) < 1e-12, l
s = a["grid.stability_low"]
assert (s["start"], s["end"], s["level"]) == ("2026-01-05T23:00:00Z", "2026-01-05T23:45:00Z", "high"), s
assert s["detail"].startswith("open"), s["detail"]
PY
"$M" --db "$T/g.db" --json quarantine --source grid > "$T/q.json"
"$M" --db "$T/g.db" --json ingest grid "$T/g2.csv" > "$T/i2.json"
"$M" --db "$T/g.db" --json anomalies --source grid > "$T/a2.json"
python3 - "$T/a2.json" <<'PY' || fail "alerts after file 2"
import json, sys
al = json.load(open(sys.argv[1]))
s = [x for x in al if x["type"] == "grid.stability_low"]
assert len(s) == 1, s
s = s[0]
assert (s["start"], s["end"], s["intervals"]) == ("2026-01-05T23:00:00Z", "2026-01-06T00:30:00Z", 7), s
assert s["detail"].startswith("closed: cleared at 2026-01-06T00:45:00Z"), s["detail"]
assert len(al) == 3, al
PY

# analytics grid: the same incident from the stored history, daily performance and health
"$M" --db "$T/g.db" --json analytics grid --now 2026-01-06T12:00:00Z > "$T/ag.json"
"$M" --db "$T/g.db" analytics grid --operator TESTOP --now 2026-01-06T12:00:00Z > "$T/ag.txt"
grep -q "^TESTOP: health" "$T/ag.txt" || fail "analytics grid text output: $(cat "$T/ag.txt")"
python3 - "$T/ag.json" <<'PY' || fail "analytics grid"
import json, sys
(o,) = json.load(open(sys.argv[1]))
assert o["operator_id"] == "TESTOP" and o["registered"] and o["voltage_level_kv"] == 380, o
assert o["records"] == 192 and o["flagged_records"] == 1, o
d1, d2 = o["windows"]
assert (d1["date"], d2["date"]) == ("2026-01-05", "2026-01-06"), (d1["date"], d2["date"])
# day 1: 4 of 96 records outside 49.8..50.2 Hz -> 95.833 %; warning records: 4 frequency + 4 load
# + 4 stability = 12 (12.5 %), critical: the two load records above 95 % (2.083 %) -> medium risk
assert abs(d1["stability_pct"] - 100 * 92 / 96) < 1e-9, d1["stability_pct"]
assert abs(d1["warning_pct"] - 12.5) < 1e-9 and abs(d1["critical_pct"] - 100 * 2 / 96) < 1e-9, d1
assert d1["risk"] == "medium" and d2["risk"] == "low", (d1["risk"], d2["risk"])
assert abs(d1["utilization_max"] - 0.97) < 1e-12, d1
# mean utilisation of day 1: (92 x 800 + 910 + 930 + 960 + 970) / 96 / 1000
assert abs(d1["utilization_mean"] - (92 * 800 + 3770) / 96 / 1000) < 1e-12, d1["utilization_mean"]
assert d2["stability_pct"] == 100 and d2["frequency_score"] == 100, d2
# voltage 395 kV vs 380 kV: +3.9 % -> voltage score 100; score = 0.3*100 + 0.3*100 + 0.4*stab %
assert d2["voltage_score"] == 100 and abs(d2["performance_score"] - 100) < 1e-9, d2
assert abs(d1["performance_score"] - (60 + 0.4 * 100 * 92 / 96)) < 1e-9, d1
assert o["health"] == "healthy", o["health"]
kinds = sorted((a["type"], a["start"], a["last"], a["cleared"]) for a in o["alerts"])
assert kinds == [("grid.frequency_deviation", "2026-01-05T06:00:00Z", "2026-01-05T06:45:00Z", "2026-01-05T07:00:00Z"),
                 ("grid.load_high", "2026-01-05T17:00:00Z", "2026-01-05T17:45:00Z", "2026-01-05T18:00:00Z"),
                 ("grid.stability_low", "2026-01-05T23:00:00Z", "2026-01-06T00:30:00Z", "2026-01-06T00:45:00Z")], kinds
PY
"$M" --db "$T/g.db" --json analytics grid --window 6h --from 2026-01-05 --to 2026-01-06 \
  --now 2026-01-06T12:00:00Z > "$T/ag6.json"
python3 - "$T/ag6.json" <<'PY' || fail "analytics grid --window 6h"
import json, sys
(o,) = json.load(open(sys.argv[1]))
w = o["windows"]
assert [x["start"][11:16] for x in w] == ["00:00", "06:00", "12:00", "18:00"], [x["start"] for x in w]
assert o["records"] == 96 and [x["records"] for x in w] == [24, 24, 24, 24], o["records"]
assert abs(w[1]["stability_pct"] - 100 * 20 / 24) < 1e-9 and w[0]["stability_pct"] == 100, w[1]
assert w[3]["critical_pct"] == 0 and abs(w[2]["critical_pct"] - 100 * 2 / 24) < 1e-9, w[2]  # the load ramp at 17:00
PY
"$M" --db "$T/g.db" --json analytics grid --now 2026-03-01 > "$T/ag2.json"
expect_eq "$(json "$T/ag2.json" 'd[0]["health"]')" inactive "health long after the last record"
"$M" --db "$T/g.db" analytics grid --operator NOPE 2>/dev/null && fail "unknown operator accepted"

# the simulator's labelled frequency excursions (labelled on every meter of the operator, so
# 60 meters cover all four operators; compared by start and end)
"$M" simulate --meters 60 --days 40 --fault-rate 3 --seed 7 --out "$T/r.csv" --labels "$T/l.csv" \
  --grid "$T/sg.csv" --master "$T/master" > /dev/null 2>&1
"$M" --db "$T/s.db" --quiet import operators "$T/master/operators.csv"
"$M" --db "$T/s.db" --quiet ingest grid "$T/sg.csv"
"$M" --db "$T/s.db" --json anomalies --source grid --type grid.frequency_deviation --limit 100000 > "$T/sa.json"
python3 - "$T/l.csv" "$T/sa.json" <<'PY' || fail "simulated excursions"
import csv, json, sys
want = {(r["start"], r["end"]) for r in csv.DictReader(open(sys.argv[1])) if r["fault"] == "frequency_excursion"}
al = json.load(open(sys.argv[2]))
got = {(a["start"], a["end"]) for a in al}
print(f"labelled excursions {len(want)}, alerts {len(al)}")
assert len(want) >= 3, want
assert got == want and len(al) == len(want), (sorted(want ^ got)[:6])
PY
echo "grid_alerts: all checks passed"
