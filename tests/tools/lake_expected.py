#!/usr/bin/env python3
"""lake_expected.py - dumps what a Metrify store holds, for the lake export tests: one CSV per
dataset (readings, grid, weather, daily) with the columns the exporter compares, straight from the
SQLite file (an independent path: plain SQL, and a Python decoder of the meter-day reading blocks
written from the format described in src/adapters/sqlite/block_codec.h, not metrify's code).
Doubles are written with repr() so they round-trip exactly; NULL is an empty field.
usage: lake_expected.py STORE.db OUTDIR RULES.json   (RULES.json: `metrify rules --json`, whose
order is the bit order of the flags word; it gives the ALERT rules of the derived score)"""
import csv
import json
import os
import sqlite3
import struct
import sys

READINGS_HEADER = ["meter_id", "ts", "interval_s", "kwh", "raw_kwh", "voltage_v", "current_a",
                   "power_factor", "frequency_hz", "active_power_kw", "reactive_power_kvar",
                   "quality_code", "flags", "score", "ingested_at", "seq"]


def varint(b, i):
    x, shift = 0, 0
    while True:
        c = b[i]
        i += 1
        x |= (c & 0x7F) << shift
        if not c & 0x80:
            return x, i
        shift += 7


def reading_score(code, flags, alert_mask):
    """core/quality.c's reading score: by quality code, 0.1 less with an anomaly flag."""
    s = {0: 1.0, 7: 1.0, 9: 0.8, 8: 0.6}.get(code, 0.2)
    if flags & alert_mask:
        s -= 0.1
    return max(s, 0.0)


def unzigzag(z):
    return (z >> 1) ^ -(z & 1)


def decode_v1(data, i, n, day, alert_mask):
    ts, ing = day, 0
    for _ in range(n):
        dts, i = varint(data, i)
        iv, i = varint(data, i)
        code = data[i]
        i += 1
        flags, i = varint(data, i)
        ding, i = varint(data, i)
        mask = data[i] | data[i + 1] << 8
        i += 2
        ts += dts
        ing += unzigzag(ding)
        v = [None] * 8
        for k in range(8):
            if mask & (1 << k):
                v[k] = struct.unpack_from("<d", data, i)[0]
                i += 8
        if mask & 0x100:
            v[1] = v[0]
        if mask & 0x200:
            score = struct.unpack_from("<d", data, i)[0]
            i += 8
        else:
            score = reading_score(code, flags, alert_mask)
        yield i, (ts, iv, code, flags, ing, v, score)


def decode_v2(data, i, n, day, alert_mask):
    """Control byte of what changed, then decimal mantissas delta-coded per field."""
    ts, iv, code, flags, ing, mask = day, 0, 0, 0, 0, 0
    mant, scale = [0] * 8, [None] * 8
    for _ in range(n):
        ctl = data[i]
        i += 1
        step = iv
        if ctl & 1:
            step, i = varint(data, i)
        ts += step
        if ctl & 2:
            iv, i = varint(data, i)
        if ctl & 4:
            code = data[i]
            flags, i = varint(data, i + 1)
        if ctl & 8:
            d, i = varint(data, i)
            ing += unzigzag(d)
        if ctl & 16:
            mask = data[i] | data[i + 1] << 8
            i += 2
        if mask & 0x200:
            score = struct.unpack_from("<d", data, i)[0]
            i += 8
        else:
            score = reading_score(code, flags, alert_mask)
        v = [None] * 8
        for k in range(8):
            if not mask & (1 << k):
                continue
            u, i = varint(data, i)
            if u & 1 and u >> 1 == 16:
                v[k] = struct.unpack_from("<d", data, i)[0]
                i += 8
                scale[k] = None
                continue
            if u & 1:
                scale[k] = u >> 1
                z, i = varint(data, i)
                mant[k] = unzigzag(z)
            else:
                mant[k] += unzigzag(u >> 1)
            v[k] = mant[k] / 10.0 ** scale[k]  # IEEE division: the double nearest the decimal
        if mask & 0x100:
            v[1] = v[0]
        yield i, (ts, iv, code, flags, ing, v, score)


def decode_block(data, day, alert_mask):
    """Yields (ts, interval_s, quality_code, flags, ingested_at, values[8], score) per reading."""
    if data[0] not in (1, 2):
        raise ValueError("unknown block version %d" % data[0])
    n, i = varint(data, 1)
    for i, reading in (decode_v1 if data[0] == 1 else decode_v2)(data, i, n, day, alert_mask):
        yield reading
    if i != len(data):
        raise ValueError("trailing bytes in a block")


def dump_readings(con, path, alert_mask):
    n = 0
    with open(path, "w", newline="") as f:
        w = csv.writer(f)
        w.writerow(READINGS_HEADER)
        for meter_id, day, data, seq in con.execute(
                "SELECT m.meter_id, b.day, b.data, b.seq FROM reading_blocks b"
                " JOIN meters m ON m.meter_key = b.meter_key"):
            for ts, iv, code, flags, ing, v, score in decode_block(data, day, alert_mask):
                raw, kwh = v[0], v[1]
                w.writerow([cell(x) for x in [meter_id, ts, iv, kwh, raw] + v[2:] +
                            [code, flags, score, ing or None, seq]])
                n += 1
    return n


QUERIES = {
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
    db, out, rules = sys.argv[1], sys.argv[2], sys.argv[3]
    alert_mask = 0
    for bit, rule in enumerate(json.load(open(rules))):
        if rule["action"] == "alert":
            alert_mask |= 1 << bit
    os.makedirs(out, exist_ok=True)
    con = sqlite3.connect(db)
    print("readings %d" % dump_readings(con, os.path.join(out, "readings.csv"), alert_mask))
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
