#!/usr/bin/env python3
"""Writes N synthetic readings rows in the default CSV layout to stdout (for bench/parse_bench).
usage: bench/gen_readings.py [N=3000000] > readings.csv"""
import random
import sys

n = int(sys.argv[1]) if len(sys.argv) > 1 else 3_000_000
rnd = random.Random(42)
out = sys.stdout
out.write("meter_id,timestamp,consumption_kwh,voltage_v,current_a,power_factor,frequency_hz\n")
t0 = 1767225600  # 2026-01-01T00:00:00Z
buf = []
for i in range(n):
    m, k = i % 1000, i // 1000
    t = t0 + k * 900
    d, s = divmod(t - t0, 86400)
    hh, rem = divmod(s, 3600)
    buf.append("SM%06d,2026-%02d-%02dT%02d:%02d:00Z,%.3f,%.1f,%.2f,%.2f,%.3f\n" % (
        m, 1 + d // 28 % 12, 1 + d % 28, hh, rem // 60, rnd.random() * 2, 225 + rnd.random() * 10,
        rnd.random() * 20, 0.8 + rnd.random() * 0.2, 49.95 + rnd.random() * 0.1))
    if len(buf) == 10000:
        out.write("".join(buf))
        buf = []
out.write("".join(buf))
