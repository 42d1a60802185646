#!/usr/bin/env python3
"""lake_expected.py - dumps what a Metrify store holds, for the lake export tests: one CSV per
dataset (readings, grid, weather, daily) with the columns the exporter compares, straight from the
SQLite file (an independent path: plain SQL, not metrify). Doubles are written with repr() so they
round-trip exactly; NULL is an empty field. usage: lake_expected.py STORE.db OUTDIR"""
import csv
import os
import sqlite3
import sys

QUERIES = {
    "readings": "SELECT m.meter_id, r.ts, r.interval_s, r.kwh, r.raw_kwh, r.voltage_v, r.current_a,"
                " r.power_factor, r.frequency_hz, r.active_power_kw, r.reactive_power_kvar,"
                " r.quality_code, r.flags, r.score, r.ingested_at, r.seq"
                " FROM readings r JOIN meters m ON m.meter_key = r.meter_key",
    "grid": "SELECT operator_id, ts, frequency_hz, voltage_kv, load_mw, capacity_mw, stability,"
            " flags, score, seq FROM grid_status",
    "weather": "SELECT station_id, ts, temperature_c, humidity_pct, pressure_hpa, wind_speed_ms,"
               " wind_direction_deg, precipitation_mm, cloud_cover_pct, flags, score, seq"
               " FROM weather_observations",
    "daily": "SELECT m.meter_id, d.day, d.interval_s, d.kwh, d.peak_kwh, d.offpeak_kwh, d.min_kwh,"
             " d.max_kwh, d.n_valid, d.n_estimated, d.n_flagged, d.n_anomalous, d.first_ts,"
             " d.last_ts, d.timeliness_sum, d.seq"
             " FROM rollup_daily d JOIN meters m ON m.meter_key = d.meter_key",
}


def cell(v):
    if v is None:
        return ""
    if isinstance(v, float):
        return repr(v)
    return str(v)


def main():
    db, out = sys.argv[1], sys.argv[2]
    os.makedirs(out, exist_ok=True)
    con = sqlite3.connect(db)
    for name, sql in QUERIES.items():
        cur = con.execute(sql)
        with open(os.path.join(out, name + ".csv"), "w", newline="") as f:
            w = csv.writer(f)
            w.writerow([d[0] for d in cur.description])
            n = 0
            for row in cur:
                w.writerow([cell(v) for v in row])
                n += 1
        print(f"{name} {n}")


if __name__ == "__main__":
    main()
