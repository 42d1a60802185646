#!/usr/bin/env bash
# MQTT ingest worker against a real mosquitto broker (loopback, free port, persistence in a temp
# dir): a QoS 1 publisher (tests/tools/mqtt_pub.c) sends readings to metrify/<meter>/readings
# (the meter id only in the topic for half of them) plus bad messages; the broker is restarted in
# the middle of the stream. Asserts every reading stored exactly once (count, rollups), the bad
# messages quarantined with their rule and the topic as source, exit 0 on SIGTERM.
source "$(dirname "$0")/../harness/lib.sh"
MOSQ=$(command -v mosquitto || echo /usr/sbin/mosquitto)
[ -x "$MOSQ" ] || { echo "skip: mosquitto broker not found (scripts/deps.sh installs it)"; exit 77; }
command -v sqlite3 >/dev/null || { echo "skip: sqlite3 CLI not found"; exit 77; }
PUB=$TOP/build/asan/tools/mqtt_pub
make -s -C "$TOP" build/asan/tools/mqtt_pub >/dev/null || fail "cannot build $PUB"
export ASAN_OPTIONS=${ASAN_OPTIONS:-detect_leaks=1}
pids=()
broker=""
stop_broker() { # graceful: mosquitto saves its persistence file on SIGTERM
  [ -n "$broker" ] || return 0
  kill -TERM "$broker" 2>/dev/null || true
  for _ in $(seq 100); do kill -0 "$broker" 2>/dev/null || break; sleep 0.1; done
  broker=""
}
cleanup() {
  stop_broker
  for p in "${pids[@]}"; do kill -9 "$p" 2>/dev/null || true; done
  wait 2>/dev/null || true
  rm -rf "$T"
}
trap cleanup EXIT
# waits (bounded) for a background worker to exit; returns its exit status
wait_exit() { # PID SECONDS
  for _ in $(seq $(($2 * 10))); do kill -0 "$1" 2>/dev/null || break; sleep 0.1; done
  kill -0 "$1" 2>/dev/null && fail "process $1 still running after $2 s"
  wait "$1"
}

port=$(python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])')
mkdir -p "$T/persist"
cat >"$T/mosquitto.conf" <<EOF
listener $port 127.0.0.1
allow_anonymous true
persistence true
persistence_location $T/persist/
max_queued_messages 0
user $(id -un)
EOF
start_broker() {
  "$MOSQ" -c "$T/mosquitto.conf" >>"$T/broker.log" 2>&1 &
  broker=$!
  disown "$broker" # no job notice when it stops
  for _ in $(seq 50); do
    python3 -c "import socket; socket.create_connection(('127.0.0.1', $port), 0.2)" 2>/dev/null && return 0
    sleep 0.1
  done
  fail "mosquitto did not start: $(tail -5 "$T/broker.log")"
}
start_broker
DB=$T/m.db
stored() { "$METRIFY_BIN" -q --db "$DB" sql "select count(*) from readings where raw_kwh is not null" 2>/dev/null || echo 0; }

"$M" --db "$DB" worker ingest --mqtt "127.0.0.1:$port" --batch 50 --batch-ms 100 --json \
  --metrics-file "$T/w.prom" >"$T/w.json" 2>"$T/w.err" &
W=$!; pids+=($W)
sleep 1 # the persistent session and its subscription exist before the first publish
"$PUB" 127.0.0.1 "$port" 20 60 10 2 >"$T/pub.json" 2>"$T/pub.err" &
P=$!; pids+=($P)

# restart the broker once a part of the stream is stored
for _ in $(seq 300); do [ "$(stored)" -ge 300 ] && break; sleep 0.1; done
[ "$(stored)" -ge 300 ] || fail "worker stored nothing before the restart: $(tail -5 "$T/w.err")"
stop_broker
at_restart=$(stored)
sleep 2
start_broker

wait_exit "$P" 120 || fail "publisher failed: $(cat "$T/pub.err")"
expect_eq "$(json "$T/pub.json" 'd["readings"]')" 1200 "readings published"
[ "$at_restart" -lt 1200 ] || fail "the restart was not in the middle of the stream"
for _ in $(seq 300); do [ "$(stored)" -ge 1200 ] && break; sleep 0.1; done
sleep 1
kill -TERM "$W"
wait_exit "$W" 30 || fail "worker did not exit 0 on SIGTERM: $(tail -5 "$T/w.err")"

expect_eq "$(stored)" 1200 "every QoS 1 reading stored across the broker restart"
expect_eq "$("$METRIFY_BIN" -q --db "$DB" sql 'select count(*) from readings')" 1200 "no extra rows"
expect_eq "$(sqlite3 "$DB" 'select sum(n_valid + n_flagged + n_estimated) from rollup_daily')" 1200 \
  "rollups count every reading once"
expect_eq "$(sqlite3 "$DB" "select count(*) from meters where meter_id like 'MQ%'")" 20 "meters from topics"
expect_eq "$(sqlite3 "$DB" "select count(distinct raw) from quarantine where rule = 'parse.json' and source like 'metrify/MQ%/readings'")" 5 "invalid JSON quarantined"
expect_eq "$(sqlite3 "$DB" "select count(distinct raw) from quarantine where rule = 'number' and source like 'metrify/MQ%/readings'")" 5 "bad numbers quarantined"
grep -q "connection lost" "$T/w.err" || fail "the worker never saw the broker go away"
[ "$(json "$T/w.json" 'd["resets"]')" -ge 1 ] || fail "no reconnect counted"
echo "ok: 1200 QoS 1 readings stored once across a broker restart (at $at_restart); 10 bad messages quarantined"
