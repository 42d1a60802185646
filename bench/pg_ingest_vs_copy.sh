#!/usr/bin/env bash
# PostgreSQL ingest benchmark: 3,000,000 readings (10,000 meters x 300 intervals of 15 min, the
# default CSV layout, time-major, as bench/ingest_vs_import.sh makes them) through
# `metrify --db postgresql://... ingest readings` with every rule, scoring, detection, rollups
# into the store's keyed, partitioned meter-day rows (docs/postgres.md), versus `psql \copy` of
# the same raw CSV into a plain table (typed columns, no key, no checks), both on one throw-away
# server started here, in the same run. Prints both times, rows/s, the ratio, and where the time
# went: the CPU time of the metrify process and of the whole server (every server process, from
# /proc) during each load, and the server's time per statement (pg_stat_statements; a
# statement's time includes waits, e.g. for the client's COPY data).
#   bench/pg_ingest_vs_copy.sh [METERS] [INTERVALS]
# Environment: METRIFY_PG_BENCH_SOCKET=1 connects through the Unix socket instead of TCP;
# METRIFY_PG_BENCH_SETTINGS overrides the server settings (default: shared_buffers=1GB, so that
# the hot index pages of 10,000 meters stay in memory, and no checkpoint during the run).
set -euo pipefail
cd "$(dirname "$0")/.."
meters=${1:-10000}
intervals=${2:-300}
make -s build/release/metrify
M=$PWD/build/release/metrify
. tests/harness/pg_server.sh
W=$(mktemp -d)
# shellcheck disable=SC2086
pg_start shared_preload_libraries=pg_stat_statements \
  ${METRIFY_PG_BENCH_SETTINGS:-shared_buffers=1GB max_wal_size=4GB checkpoint_timeout=30min}
trap 'pg_stop; rm -rf "$W"' EXIT
chmod 755 "$W"
if [ "${METRIFY_PG_BENCH_SOCKET:-0}" = 1 ]; then
  base="postgresql://metrify@/%s?host=$PG_DIR&port=$PG_PORT"
else
  base="postgresql://metrify@127.0.0.1:$PG_PORT/%s"
fi
# shellcheck disable=SC2059
url() { printf "$base" "$1"; }
psql_() { "$PG_BIN/psql" -X -q -v ON_ERROR_STOP=1 "$@"; }
psql_ "$(url postgres)" -c "CREATE DATABASE raw" -c "CREATE DATABASE ingest"
psql_ "$(url ingest)" -c "CREATE EXTENSION pg_stat_statements"

days=$(( (intervals * 900 + 86399) / 86400 ))
"$M" -q simulate --meters "$meters" --days "$days" --seed 3 --out "$W/all.csv"
head -n $((meters * intervals + 1)) "$W/all.csv" > "$W/r.csv"
rm "$W/all.csv"
rows=$((meters * intervals))
psql_ "$(url raw)" -c "CREATE TABLE readings_raw(meter_id text, ts timestamptz, kwh float8,
  voltage_v float8, current_a float8, power_factor float8, frequency_hz float8)"

# CPU seconds of the server so far: the postmaster with its reaped children (ended backends)
# and every live child
server_cpu() {
  python3 - "$(head -1 "$PG_DIR/data/postmaster.pid")" <<'PY'
import os, sys
pm, tck = sys.argv[1], os.sysconf('SC_CLK_TCK')
def fields(pid):
    with open(f'/proc/{pid}/stat') as f:
        return f.read().rsplit(')', 1)[1].split()
t = sum(int(x) for x in fields(pm)[11:15])  # utime stime cutime cstime
for pid in os.listdir('/proc'):
    if pid.isdigit() and pid != pm:
        try:
            f = fields(pid)
            if f[1] == pm:
                t += int(f[11]) + int(f[12])
        except OSError:
            pass
print(t / tck)
PY
}

c0=$(server_cpu)
t0=$(date +%s.%N)
psql_ "$(url raw)" -c "\\copy readings_raw FROM '$W/r.csv' WITH (FORMAT csv, HEADER true)"
t1=$(date +%s.%N)
c1=$(server_cpu)
/usr/bin/time -f '%U %S %M' -o "$W/cpu" "$M" -q --db "$(url ingest)" ingest readings "$W/r.csv"
t2=$(date +%s.%N)
c2=$(server_cpu)

# the statement times first: counting the stored readings afterwards is a statement too
server=$(psql_ -At "$(url ingest)" -c "SELECT round(sum(total_exec_time)::numeric / 1000, 2)
  FROM pg_stat_statements WHERE dbid = (SELECT oid FROM pg_database WHERE datname = 'ingest')")
psql_ -P footer=off "$(url ingest)" -c "SELECT calls, round(total_exec_time::numeric / 1000, 2)
  AS seconds, regexp_replace(left(query, 60), '\s+', ' ', 'g') AS statement FROM pg_stat_statements
  WHERE dbid = (SELECT oid FROM pg_database WHERE datname = 'ingest')
  ORDER BY total_exec_time DESC LIMIT 8" >"$W/statements"
n_raw=$(psql_ -At "$(url raw)" -c "SELECT count(*) FROM readings_raw")
n_ing=$(psql_ -At "$(url ingest)" -c "SELECT count(*) FROM readings")
python3 - "$t0" "$t1" "$t2" "$rows" "$n_raw" "$n_ing" $(cat "$W/cpu") "$server" "$c0" "$c1" "$c2" <<'PY'
import sys
t0, t1, t2, rows, n_raw, n_ing, usr, sys_, rss, server, c0, c1, c2 = map(float, sys.argv[1:])
base, ours = t1 - t0, t2 - t1
print(f"rows                        {int(rows):,} (stored: raw {int(n_raw):,}, metrify {int(n_ing):,} incl. estimates)")
print(f"psql \\copy into plain table {base:6.2f} s  {rows / base:10,.0f} rows/s")
print(f"metrify ingest (PostgreSQL) {ours:6.2f} s  {rows / ours:10,.0f} rows/s")
print(f"ratio metrify / copy        {base / ours:6.2f}x  (target >= 0.8x)")
print(f"  baseline server CPU       {c1 - c0:6.2f} s (all server processes, during the copy)")
print(f"  metrify process CPU       {usr + sys_:6.2f} s (user {usr:.2f}, sys {sys_:.2f}; both threads), peak RSS {rss / 1024:.0f} MiB")
print(f"  server CPU                {c2 - c1:6.2f} s (all server processes, during the ingest)")
print(f"  CPU total / wall          {(usr + sys_ + c2 - c1) / ours:6.2f} cores busy on average (2 = both cores all the time)")
print(f"  server statement time     {server:6.2f} s (pg_stat_statements, all statements, waits included)")
PY
echo "server time of the ingest by statement (pg_stat_statements, top 8):"
cat "$W/statements"
