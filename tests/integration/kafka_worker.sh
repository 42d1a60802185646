#!/usr/bin/env bash
# Kafka ingest worker against librdkafka's mock cluster (tests/tools/kafka_mock.c, one process
# that lives for the whole test; readings topic with 4 partitions), two workers in one group on
# one SQLite store:
#   1. crash window: a worker dies (SIGKILL, injected) after committing batches to the store but
#      before committing their offsets; the next worker gets them again and the store absorbs the
#      duplicates (counted as duplicates, nothing stored twice, rollups counted once);
#   2. rebalance and SIGKILL mid-stream: worker A runs while a paced producer writes, B joins
#      (rebalance), A is killed with SIGKILL and restarted; both stop on SIGTERM with exit 0;
#   3. decode-ahead: a slow worker C (its fetch thread a batch ahead) meets two rebalances (D
#      joins and leaves: C waits for its batch in flight, drops what it decoded ahead) and then
#      SIGTERM (finishes the batch in flight only); worker E takes everything over.
# Phase 1's crash also happens with batches decoded ahead (checked from the seam's message).
# Asserts: every produced reading stored exactly once (count, and rollup counts == readings),
# every poison message in the dead-letter topic with the metrify.* headers, rejects quarantined.
source "$(dirname "$0")/../harness/lib.sh"
command -v sqlite3 >/dev/null || { echo "skip: sqlite3 CLI not found (scripts/deps.sh installs it)"; exit 77; }
K=$TOP/build/asan/tools/kafka_mock
make -s -C "$TOP" build/asan/tools/kafka_mock >/dev/null || fail "cannot build $K"
export ASAN_OPTIONS=${ASAN_OPTIONS:-detect_leaks=1}
pids=()
cleanup() {
  for p in "${pids[@]}"; do kill -9 "$p" 2>/dev/null || true; done
  wait 2>/dev/null || true
  [ -n "${KEEP_T:-}" ] || rm -rf "$T"
}
trap cleanup EXIT
# waits (bounded) for a background worker to exit; returns its exit status
wait_exit() { # PID SECONDS
  for _ in $(seq $(($2 * 10))); do kill -0 "$1" 2>/dev/null || break; sleep 0.1; done
  kill -0 "$1" 2>/dev/null && fail "process $1 still running after $2 s"
  wait "$1"
}
[ -z "${KEEP_T:-}" ] || echo "keeping: $T"

"$K" serve "$T/bootstrap" 4 >"$T/serve.log" 2>&1 &
pids+=($!)
for _ in $(seq 50); do [ -s "$T/bootstrap" ] && break; sleep 0.1; done
B=$(cat "$T/bootstrap") || fail "mock cluster did not start"
DB=$T/m.db
KX=(-X session.timeout.ms=6000 -X heartbeat.interval.ms=500)
W() { exec "$M" --db "$DB" worker ingest --kafka "$B" "${KX[@]}" "$@"; }
stored() { "$METRIFY_BIN" -q --db "$DB" sql "select count(*) from readings where raw_kwh is not null" 2>/dev/null || echo 0; }
wait_stored() { # N SECONDS
  for _ in $(seq $(($2 * 5))); do [ "$(stored)" -ge "$1" ] && return 0; sleep 0.2; done
  fail "timed out waiting for $1 stored readings (have $(stored))"
}

# --- 1. crash between store commit and offset commit -------------------------------------
timeout 60 "$K" produce "$B" 40 100 10 0 0 >"$T/p1.json" || fail "produce phase 1"
expect_eq "$(json "$T/p1.json" 'd["readings"]')" 4000 "phase 1 readings produced"
set +e
{ METRIFY_WORKER_CRASH_AFTER=3 timeout 60 "$M" --db "$DB" worker ingest --kafka "$B" "${KX[@]}" \
  --batch 50 --json >"$T/crash.json" 2>"$T/crash.err"; } 2>/dev/null # no "Killed" job notice
rc=$?
set -e
expect_eq "$rc" 137 "injected crash exit status (SIGKILL)"
# the fetch thread had decoded batches ahead when the worker died: they were never acknowledged
ahead=$(sed -n 's/.*SIGKILL after batch 3, \([0-9]*\) messages decoded ahead.*/\1/p' "$T/crash.err")
[ "${ahead:-0}" -gt 0 ] || fail "no batch decoded ahead at the crash: $(tail -3 "$T/crash.err")"
after_crash=$(stored)
[ "$after_crash" -gt 0 ] || fail "the crashed worker stored nothing before dying"
timeout 90 "$M" --db "$DB" worker ingest --kafka "$B" "${KX[@]}" --batch 500 --idle-exit 20s \
  --json >"$T/y.json" 2>"$T/y.err" || { cat "$T/y.err"; fail "worker after the crash"; }
expect_eq "$(stored)" 4000 "phase 1 stored exactly once"
dups=$(json "$T/y.json" 'd["duplicates"]')
# batches 1-2 were acknowledged; batch 3 was stored but not acknowledged: re-delivered
[ "$dups" -gt 0 ] && [ "$dups" -lt "$after_crash" ] || fail "re-delivered batch not seen as duplicates ($dups, stored before the crash $after_crash)"
# 10 poison messages, one of them an array of 2: 12 records, each quarantined (re-delivered ones
# again, the same record). Which of them the crashed worker had acknowledged depends on how the
# partitions were fetched, so the restarted worker rejects the rest: between 1 and 12.
expect_eq "$(sqlite3 "$DB" "select count(*) from (select distinct source, rule, field, message,
  raw from quarantine)")" 12 "phase 1 poison records quarantined, each once"
rej=$(json "$T/y.json" 'd["rejected"]')
[ "$rej" -ge 1 ] && [ "$rej" -le 12 ] || fail "phase 1: the restarted worker rejected $rej records"

# --- 2. rebalance and SIGKILL mid-stream -------------------------------------------------
W --batch 100 --batch-ms 200 --json --metrics-file "$T/a.prom" >"$T/a1.json" 2>"$T/a1.err" &
A=$!; pids+=($A)
timeout 120 "$K" produce "$B" 40 100 15 100 10 600 >"$T/p2.json" &
P=$!; pids+=($P)
wait_stored 4200 60
W --batch 100 --batch-ms 200 --json --metrics-file "$T/b.prom" >"$T/b.json" 2>"$T/b.err" &
Bw=$!; pids+=($Bw)
# B must have its partitions (and be consuming) before A dies: two separate rebalances
for _ in $(seq 300); do
  grep -qs '^metrify_worker_messages_total{transport="kafka"} [1-9]' "$T/b.prom" && break; sleep 0.2
done
grep -qs '^metrify_worker_messages_total{transport="kafka"} [1-9]' "$T/b.prom" || fail "worker B never consumed"
kill -0 "$P" 2>/dev/null || echo "note: the producer finished before B joined"
kill -9 "$A"
{ wait "$A"; } 2>/dev/null || true
[ -s "$T/a.prom" ] || fail "no metrics file written by worker A"
grep -q '^metrify_worker_stored_total{transport="kafka"} [1-9]' "$T/a.prom" || fail "metrics: $(cat "$T/a.prom")"
W --batch 100 --batch-ms 200 --json >"$T/a2.json" 2>"$T/a2.err" &
A2=$!; pids+=($A2)
wait_exit "$P" 120 || fail "produce phase 2"
expect_eq "$(json "$T/p2.json" 'd["readings"]')" 4000 "phase 2 readings produced"
wait_stored 8000 120
sleep 3 # let the dead letters of the last batches be committed too
kill -TERM "$A2" "$Bw"
wait_exit "$A2" 30 || fail "worker A2 did not exit 0 on SIGTERM: $(tail -5 "$T/a2.err")"
wait_exit "$Bw" 30 || fail "worker B did not exit 0 on SIGTERM: $(tail -5 "$T/b.err")"
[ "$(json "$T/b.json" 'd["messages"]')" -gt 0 ] || fail "worker B (joined mid-stream) consumed nothing"
[ "$(json "$T/b.json" 'd["resets"]')" -ge 2 ] || fail "worker B saw no rebalance after joining"

# --- 3. rebalances and SIGTERM while batches are decoded ahead ----------------------------
# Worker C stores slowly (a 250 ms pause after each store commit, before the offset commit), so
# its fetch thread is nearly always a batch ahead: D joining and leaving must make C wait for its
# batch in flight and drop what it decoded ahead; SIGTERM must finish C's current batch only;
# E then drains the topic.
metric() { # FILE NAME: the counter's value, 0 when not written yet
  sed -n "s/^metrify_worker_$2{transport=\"kafka\"} \([0-9-]*\)$/\1/p" "$1" 2>/dev/null | grep . || echo 0
}
wait_metric() { # FILE NAME MIN SECONDS
  for _ in $(seq $(($4 * 5))); do [ "$(metric "$1" "$2")" -ge "$3" ] && return 0; sleep 0.2; done
  fail "timed out waiting for $2 >= $3 in $1 (have $(metric "$1" "$2"))"
}
timeout 60 "$K" produce "$B" 40 200 5 200 25 >"$T/p3.json" || fail "produce phase 3"
(export METRIFY_WORKER_PAUSE_MS=250; W --batch 100 --batch-ms 200 --json --metrics-file "$T/c.prom" >"$T/c.json" 2>"$T/c.err") &
C=$!; pids+=($C)
wait_metric "$T/c.prom" batches_total 2 60
wait_metric "$T/c.prom" decoded_ahead 1 30
W --batch 100 --batch-ms 200 --json --metrics-file "$T/d.prom" >"$T/d.json" 2>"$T/d.err" &
D=$!; pids+=($D)
wait_metric "$T/d.prom" messages_total 1 60
kill -TERM "$D" # D leaves: a second rebalance for C, which gets every partition again
wait_exit "$D" 30 || fail "worker D did not exit 0 on SIGTERM: $(tail -5 "$T/d.err")"
# C's pipeline was a batch behind at these rebalances: it dropped what it had decoded ahead
wait_metric "$T/c.prom" dropped_ahead_total 1 30
# once C runs on every partition again (two more batches), stop it while it is a batch ahead
wait_metric "$T/c.prom" messages_total $(($(metric "$T/c.prom" messages_total) + 200)) 60
wait_metric "$T/c.prom" decoded_ahead 1 30
kill -TERM "$C"
wait_exit "$C" 30 || fail "worker C did not exit 0 on SIGTERM: $(tail -5 "$T/c.err")"
# it finished the batch in flight and left what it had decoded ahead unacknowledged
[ "$(json "$T/c.json" 'd["ahead"]')" -ge 1 ] || fail "worker C stopped with nothing decoded ahead"
[ "$(json "$T/c.json" 'd["resets"]')" -ge 3 ] || fail "worker C saw fewer than two rebalances"
# E takes over everything C and D left
timeout 120 "$M" --db "$DB" worker ingest --kafka "$B" "${KX[@]}" --batch 500 --idle-exit 15s \
  --json >"$T/e.json" 2>"$T/e.err" || fail "worker E: $(tail -5 "$T/e.err")"
expect_eq "$(json "$T/p3.json" 'd["readings"]')" 8000 "phase 3 readings produced"

# --- assertions over everything ----------------------------------------------------------
expect_eq "$(stored)" 16000 "every produced reading stored"
expect_eq "$("$METRIFY_BIN" -q --db "$DB" sql 'select count(*) from readings')" 16000 "no estimates or extra rows"
expect_eq "$("$METRIFY_BIN" -q --db "$DB" sql 'select count(*) from (select meter_key, ts from readings group by 1, 2 having count(*) > 1)')" 0 "no (meter, ts) twice"
expect_eq "$(sqlite3 "$DB" 'select sum(n_valid + n_flagged + n_estimated) from rollup_daily')" 16000 \
  "daily rollups count every reading once (no double counting after re-delivery)"
expect_eq "$(sqlite3 "$DB" 'select count(distinct meter_id) from meters')" 41 "40 meters + the poison meter"
"$K" dead-letters "$B" >"$T/dlq.json"
expect_eq "$(json "$T/dlq.json" 'd["distinct_poison"]')" 30 "every poison message dead-lettered"
expect_eq "$(json "$T/dlq.json" 'd["missing_headers"]')" 0 "dead letters carry metrify.rule/error/source"
for rule in parse.json required number time.ancient; do
  n=$(sqlite3 "$DB" "select count(*) from quarantine where rule = '$rule'")
  [ "$n" -gt 0 ] || fail "no quarantine entry with rule $rule"
done
n=$(sqlite3 "$DB" "select count(*) from quarantine where source like 'metrify.readings/%/%'")
[ "$n" -gt 0 ] || fail "quarantine source is not topic/partition/offset"
processed=$("$K" count "$B" metrify.readings.processed)
[ "$processed" -ge 16000 ] || fail "processed-readings topic has $processed < 16000 messages"
echo "ok: 16000 readings stored once across crash, rebalances, SIGKILL and SIGTERM with batches decoded ahead; 30 poison messages dead-lettered; $dups duplicates absorbed"
