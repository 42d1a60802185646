#!/usr/bin/env bash
# Kafka worker benchmark: METERS x INTERVALS readings (default 1,000 x 1,000 = 1,000,000) produced
# into librdkafka's mock cluster (64 partitions: the mock keeps at most 5 MB per partition;
# plain objects, arrays of 5 and envelopes, keyed by
# meter), then consumed into SQLite by ONE `metrify worker ingest` (every rule, scoring, detection,
# rollups), measured from its first message to its last commit. Baselines in the same run:
#   - a raw librdkafka consume loop over the same topic (no decode, no store): the transport's cost;
#   - `metrify ingest readings` of the same records from an NDJSON file: the pipeline's cost.
# Also runs the worker with publishing of processed readings on (the default). Prints wall-clock
# rates, CPU-time rates (user+sys, all threads: the worker decodes on a second thread) and peak
# RSS: on a shared machine the store's fsyncs and other tenants make wall time noisy.
#   bench/kafka_consume.sh [METERS] [INTERVALS]
set -euo pipefail
cd "$(dirname "$0")/.."
meters=${1:-1000}
intervals=${2:-1000}
make -s build/release/metrify build/release/tools/kafka_mock
M=$PWD/build/release/metrify
K=$PWD/build/release/tools/kafka_mock
W=$(mktemp -d)
serve=""
trap '[ -z "$serve" ] || kill "$serve" 2>/dev/null; wait 2>/dev/null; rm -rf "$W"' EXIT
"$K" serve "$W/bootstrap" 64 >"$W/serve.log" 2>&1 &
serve=$!
for _ in $(seq 50); do [ -s "$W/bootstrap" ] && break; sleep 0.1; done
B=$(cat "$W/bootstrap")

t0=$(date +%s.%N)
"$K" produce "$B" "$meters" "$intervals" 0 >"$W/produce.json"
t1=$(date +%s.%N)
msgs=$(python3 -c "import json; print(json.load(open('$W/produce.json'))['messages'])")
readings=$((meters * intervals))

t2=$(date +%s.%N)
"$K" count "$B" metrify.readings >"$W/count"
t3=$(date +%s.%N)
[ "$(cat "$W/count")" -eq "$msgs" ] || { echo "mock cluster kept $(cat "$W/count") of $msgs messages"; exit 1; }

"$K" produce - "$meters" "$intervals" 0 >"$W/r.ndjson"
t4=$(date +%s.%N)
/usr/bin/time -f '%U %S %M' -o "$W/file.cpu" "$M" -q --db "$W/file.db" ingest readings "$W/r.ndjson" >/dev/null
t5=$(date +%s.%N)

/usr/bin/time -f '%U %S %M' -o "$W/w.cpu" "$M" -q --db "$W/w.db" --json worker ingest --kafka "$B" --group bench-store --no-publish \
  --batch 50000 --batch-ms 1000 --max-messages "$msgs" >"$W/w.json"
"$M" -q --db "$W/wp.db" --json worker ingest --kafka "$B" --group bench-publish \
  --batch 50000 --batch-ms 1000 --max-messages "$msgs" >"$W/wp.json"

python3 - "$W" "$readings" "$msgs" "$t0" "$t1" "$t2" "$t3" "$t4" "$t5" <<'PY'
import json, sys
w, readings, msgs = sys.argv[1], int(sys.argv[2]), int(sys.argv[3])
t0, t1, t2, t3, t4, t5 = map(float, sys.argv[4:])
ws = json.load(open(f"{w}/w.json")); wp = json.load(open(f"{w}/wp.json"))
cpu = lambda name: sum(map(float, open(f"{w}/{name}.cpu").read().split()[:2]))
rss = lambda name: int(open(f"{w}/{name}.cpu").read().split()[2]) / 1024
fcpu, wcpu = cpu("file"), cpu("w")
assert ws["stored"] == readings and wp["stored"] == readings, (ws, wp)
raw, file, worker, pub = t3 - t2, t5 - t4, ws["busy_s"], wp["busy_s"]
print(f"readings {readings:,} in {msgs:,} messages (produce {t1 - t0:.2f} s)")
print(f"raw librdkafka consume (no decode/store) {raw:7.2f} s {readings / raw:12,.0f} readings/s")
print(f"metrify ingest NDJSON file (baseline)    {file:7.2f} s {readings / file:12,.0f} readings/s")
print(f"worker ingest --kafka, no publish        {worker:7.2f} s {readings / worker:12,.0f} readings/s")
print(f"worker ingest --kafka, publishing        {pub:7.2f} s {readings / pub:12,.0f} readings/s"
      f" ({wp['published']:,} published)")
print(f"CPU (user+sys): file ingest {fcpu:.2f} s = {readings / fcpu:,.0f} readings/CPU-s; "
      f"worker {wcpu:.2f} s = {readings / wcpu:,.0f} readings/CPU-s (includes the group join)")
print(f"peak RSS: file ingest {rss('file'):.0f} MiB, worker {rss('w'):.0f} MiB")
print(f"ratio worker / file ingest               {file / worker:7.2f}x wall, {fcpu / wcpu:.2f}x CPU")
print(f"ratio worker / raw consume               {raw / worker:7.2f}x")
print(f"target 200,000 readings/s per worker:    {'met' if readings / worker >= 200000 else 'NOT met'}"
      f" ({readings / worker / 10000:.1f}x the original design's 10,000/s)")
PY
