#!/usr/bin/env bash
# Weather impact on a simulated fleet with a known temperature response, through the CLI path
# (import, nearest-station linking, ingest of 15-minute readings and unsorted hourly weather with
# gaps, `metrify analytics weather-impact --json`). Each meter's daily kWh is
# b0 + bh * max(0, Th - T) [+ bc * max(0, T - Tc)] with T the day's mean of the emitted hourly
# temperatures, times 1 % noise, spread over 96 intervals. Operator OPA: 10 heating-only meters
# with Th 15.5 C; OPB: 6 meters with heating (Th 17 C) and cooling (Tc 21 C). Checks: every
# meter's and operator's fitted sensitivity (kWh per degC per day) within 5 % of the truth and its
# balance temperature within 1 degC; cooling slopes within 15 % and Tc within 1 degC.
. "$(dirname "$0")/../harness/lib.sh"
python3 - "$T" <<'PY'
import math, random, sys, time
t = sys.argv[1]
iso = lambda ts: time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime(ts))
rnd = random.Random(20260101)
DAYS, START = 150, 1767225600  # 2026-01-01T00:00:00Z
# hourly temperatures: seasonal ramp -6 -> 29 C, day-to-day noise, diurnal cycle
temps = []
for d in range(DAYS):
    base = -6 + 35 * d / (DAYS - 1) + rnd.gauss(0, 2.0)
    for h in range(24):
        temps.append(base + 4 * math.cos(2 * math.pi * (h - 15) / 24))
tday = [sum(temps[d * 24:(d + 1) * 24]) / 24 for d in range(DAYS)]
rows = [(START + i * 3600, v) for i, v in enumerate(temps)]
drop = set(range(30 * 24 + 5, 30 * 24 + 7)) | set(range(60 * 24 + 3, 60 * 24 + 9))  # 2 h, 6 h
rows = [r for i, r in enumerate(rows) if i not in drop]
rnd.shuffle(rows)
with open(f"{t}/weather.csv", "w") as f:
    f.write("station_id,timestamp,temperature_c\n")
    for ts, v in rows:
        f.write(f"SIMST,{iso(ts)},{v:.3f}\n")
with open(f"{t}/stations.csv", "w") as f:
    f.write("station_id,name,station_type,latitude,longitude,status,elevation_m\n"
            "SIMST,Sim,AUTOMATIC,52.0,13.0,ACTIVE,50\nOLD,Old,AUTOMATIC,52.01,13.01,INACTIVE,50\n")
truth, meters = [], []
for i in range(16):
    op = "OPA" if i < 10 else "OPB"
    m = {"id": f"SIM{i:03d}", "op": op, "b0": rnd.uniform(4, 14), "bh": rnd.uniform(0.2, 1.0),
         "th": 15.5 if op == "OPA" else 17.0, "bc": 0.0 if op == "OPA" else rnd.uniform(0.8, 1.5),
         "tc": None if op == "OPA" else 21.0}
    meters.append(m)
shape = [0.6 + 0.8 * math.sin(math.pi * k / 96) ** 2 for k in range(96)]
with open(f"{t}/meters.csv", "w") as f:
    f.write("meter_id,latitude,longitude,status,meter_type,operator_id\n")
    for m in meters:
        f.write(f"{m['id']},{52.0 + rnd.uniform(-0.2, 0.2):.4f},{13.0 + rnd.uniform(-0.2, 0.2):.4f},ACTIVE,residential,{m['op']}\n")
with open(f"{t}/readings.csv", "w") as f:
    f.write("meter_id,timestamp,consumption_kwh\n")
    for d in range(DAYS):
        for m in meters:
            T = tday[d]
            e = m["b0"] + m["bh"] * max(0, m["th"] - T) + (m["bc"] * max(0, T - m["tc"]) if m["tc"] else 0)
            e *= 1 + rnd.gauss(0, 0.01)
            w = [s * (1 + rnd.uniform(-0.3, 0.3)) for s in shape]
            sw = sum(w)
            day = iso(START + d * 86400)[:11]
            for k in range(96):
                f.write(f"{m['id']},{day}{k // 4:02d}:{k % 4 * 15:02d}:00Z,{e * w[k] / sw:.6f}\n")
import json
json.dump(meters, open(f"{t}/truth.json", "w"))
PY
"$M" --db "$T/s.db" --quiet import stations "$T/stations.csv"
"$M" --db "$T/s.db" --json import meters "$T/meters.csv" > "$T/im.json"
expect_eq "$(json "$T/im.json" 'd["station_linking"]["linked"]')" 16 "meters linked to SIMST"
"$M" --db "$T/s.db" --quiet --json ingest readings --interval 15m "$T/readings.csv" > "$T/ir.json"
"$M" --db "$T/s.db" --quiet ingest weather "$T/weather.csv"
"$M" --db "$T/s.db" --json analytics weather-impact > "$T/wi.json"
python3 - "$T/truth.json" "$T/wi.json" <<'PY' || fail "fitted response differs from the simulated truth"
import json, sys
truth = {m["id"]: m for m in json.load(open(sys.argv[1]))}
wi = json.load(open(sys.argv[2]))
bad = []
st = wi["stations"][0]
if (st["station_id"], st["interpolated_hours"], st["gaps_interpolated"], st["gaps_excluded"]) != ("SIMST", 2, 1, 1):
    bad.append(f"weather alignment {st}")
def rel(a, b): return abs(a - b) / abs(b)
def check(sid, mo, bh, th, bc, tc, kind):
    if mo is None or mo["kind"] != kind:
        bad.append(f"{sid}: model {mo and mo['kind']} != {kind}"); return
    if rel(mo["sensitivity_kwh_per_c_day"], bh) > 0.05: bad.append(f"{sid}: sensitivity {mo['sensitivity_kwh_per_c_day']:.4f} vs {bh:.4f}")
    if abs(mo["balance_heating_c"] - th) > 1: bad.append(f"{sid}: Th {mo['balance_heating_c']} vs {th}")
    if tc is not None:
        if rel(mo["cooling_slope"], bc) > 0.15: bad.append(f"{sid}: bc {mo['cooling_slope']:.4f} vs {bc:.4f}")
        if abs(mo["balance_cooling_c"] - tc) > 1: bad.append(f"{sid}: Tc {mo['balance_cooling_c']} vs {tc}")
    print(f"{sid:7s} {kind:8s} sensitivity {mo['sensitivity_kwh_per_c_day']:.4f} (truth {bh:.4f}) "
          f"Th {mo['balance_heating_c']:.1f} (truth {th})" + (f" bc {mo['cooling_slope']:.3f} (truth {bc:.3f}) Tc {mo['balance_cooling_c']:.1f}" if tc else ""))
for x in wi["meters"]:
    m = truth[x["id"]]
    check(x["id"], x["model"], m["bh"], m["th"], m["bc"], m["tc"], "both" if m["tc"] else "heating")
if len(wi["meters"]) != 16: bad.append(f"{len(wi['meters'])} meter series")
for x in wi["operators"]:
    ms = [m for m in truth.values() if m["op"] == x["id"]]
    bh = sum(m["bh"] for m in ms) / len(ms)
    bc = sum(m["bc"] for m in ms) / len(ms)
    m0 = ms[0]
    check(x["id"], x["model"], bh, m0["th"], bc, m0["tc"], "both" if m0["tc"] else "heating")
if {x["id"] for x in wi["operators"]} != {"OPA", "OPB"}: bad.append("operators")
for b in bad: print("MISMATCH", b)
sys.exit(1 if bad else 0)
PY
# day-ahead forecast for OPA after the data (2026-05-31): without a temperature forecast the
# profile alone, labelled; with 5 degC the day's total rises by the heating response, about
# mean(bh) x (15.5 - 5) kWh per meter above the warm days the profile comes from
"$M" --db "$T/s.db" --json forecast --operator OPA > "$T/f0.json"
expect_eq "$(json "$T/f0.json" 'd["forecast"]["method"], d["forecast"]["date"], d["meters"]')" \
  "profile_only 2026-05-31 10" "profile-only forecast"
[ -n "$(json "$T/f0.json" 'd["note"]')" ] || fail "profile-only forecast not labelled"
printf 'date,temperature_c\n2026-05-30,20\n2026-05-31,5.0\n' > "$T/tf.csv"
"$M" --db "$T/s.db" --json forecast --operator OPA --temperature-forecast "$T/tf.csv" > "$T/f1.json"
python3 - "$T/truth.json" "$T/f0.json" "$T/f1.json" <<'PY' || fail "weather forecast"
import json, sys
truth = [m for m in json.load(open(sys.argv[1])) if m["op"] == "OPA"]
f0, f1 = json.load(open(sys.argv[2])), json.load(open(sys.argv[3]))
assert f1["forecast"]["method"] == "weather" and f1["forecast"]["temperature_c"] == 5.0, f1["forecast"]
want = sum(m["bh"] for m in truth) / len(truth) * (15.5 - 5.0)
got = f1["forecast"]["day_kwh_per_meter"] - f0["forecast"]["day_kwh_per_meter"]
print(f"OPA forecast at 5 C: +{got:.3f} kWh per meter over the profile (model truth {want:.3f})")
assert abs(got - want) <= 0.05 * want, (got, want)
tot = f1["forecast"]["kwh_total"]
assert abs(sum(tot) - 10 * f1["forecast"]["day_kwh_per_meter"]) < 1e-6, sum(tot)
PY
"$M" --db "$T/s.db" forecast --meter SIM000 --backtest --days 30 > "$T/bt.txt"
grep -q seasonal_naive "$T/bt.txt" || fail "backtest text output"
echo "weather_sim_fleet: all checks passed"
