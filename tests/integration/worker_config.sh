#!/usr/bin/env bash
# `metrify worker ingest` takes its settings from the configuration file (docs/configuration.md):
#   1. the transport rule without a broker: both kafka.brokers and mqtt.host named -> usage error
#      asking for --transport; neither -> usage error; --transport naming an unset broker; a
#      password in the file refused; --help documents the rule;
#   2. Kafka (librdkafka's mock cluster, topics site7.*): a worker started with only a
#      configuration file (brokers, group, client id, every topic, worker.ingest_batch) consumes
#      the configured readings topic, dead-letters to the configured topic and publishes to the
#      configured processed topic;
#   3. MQTT (a real mosquitto that wants a password): a worker started with only a configuration
#      file (host, port, topic filter site7/+/meter, client id, user name) and the password from
#      METRIFY_MQTT_PASSWORD stores every reading, the meter id taken from the configured filter;
#      without the password the broker refuses it.
source "$(dirname "$0")/../harness/lib.sh"
command -v sqlite3 >/dev/null || { echo "skip: sqlite3 CLI not found (scripts/deps.sh installs it)"; exit 77; }
K=$TOP/build/asan/tools/kafka_mock
PUB=$TOP/build/asan/tools/mqtt_pub
make -s -C "$TOP" build/asan/tools/kafka_mock build/asan/tools/mqtt_pub >/dev/null || fail "cannot build the tools"
export ASAN_OPTIONS=${ASAN_OPTIONS:-detect_leaks=1}
unset METRIFY_ENV METRIFY_KAFKA_BROKERS METRIFY_MQTT_HOST METRIFY_MQTT_PASSWORD
pids=()
broker=""
cleanup() {
  [ -z "$broker" ] || kill -TERM "$broker" 2>/dev/null || true
  for p in "${pids[@]}"; do kill -9 "$p" 2>/dev/null || true; done
  wait 2>/dev/null || true
  rm -rf "$T"
}
trap cleanup EXIT
cd "$T" || fail "cd $T"

# --- 1. the transport rule ---------------------------------------------------------------
usage_err() { # EXPECTED-MESSAGE ARGS...
  local want=$1
  shift
  set +e
  "$M" --db "$T/u.db" "$@" >/dev/null 2>"$T/u.err"
  local rc=$?
  set -e
  expect_eq "$rc" 2 "exit status of: $*"
  grep -qF -- "$want" "$T/u.err" || fail "'$*': no '$want' in: $(cat "$T/u.err")"
}
printf 'kafka:\n  brokers: 127.0.0.1:1\nmqtt:\n  host: 127.0.0.1\n' >both.yaml
printf 'mqtt:\n  host: 127.0.0.1\n' >mqtt-only.yaml
printf 'mqtt:\n  host: 127.0.0.1\n  password: hunter2\n' >secret.yaml
usage_err "choose with --transport kafka|mqtt" --config both.yaml worker ingest
usage_err "no broker: give --kafka BROKERS or --mqtt HOST:PORT" worker ingest
usage_err "--transport kafka: kafka.brokers is not set" --config mqtt-only.yaml worker ingest --transport kafka
usage_err "--transport mqtt contradicts --kafka" worker ingest --kafka 127.0.0.1:1 --transport mqtt
usage_err "--transport: kafka or mqtt" --config both.yaml worker ingest --transport amqp
usage_err "mqtt.password" --config secret.yaml worker ingest
"$M" worker ingest --help >help.txt || fail "--help"
for w in --transport kafka.topic_readings mqtt.host METRIFY_MQTT_PASSWORD worker.ingest_batch; do
  grep -qF -- "$w" help.txt || fail "--help does not mention $w"
done

# --- 2. Kafka from the configuration alone -----------------------------------------------
KAFKA_MOCK_PREFIX=site7 "$K" serve "$T/bootstrap" 2 >"$T/serve.log" 2>&1 &
pids+=($!)
for _ in $(seq 50); do [ -s "$T/bootstrap" ] && break; sleep 0.1; done
B=$(cat "$T/bootstrap") || fail "mock cluster did not start"
KAFKA_MOCK_PREFIX=site7 timeout 60 "$K" produce "$B" 10 20 3 >"$T/p.json" || fail "produce"
expect_eq "$(json "$T/p.json" 'd["readings"]')" 200 "readings produced to site7.readings"
cat >k.yaml <<EOF
kafka:
  brokers: $B
  group: site7-ingest
  client_id: site7-worker
  topic_readings: site7.readings
  topic_grid: site7.grid-status
  topic_weather: site7.weather
  topic_alerts: site7.alerts
  topic_dead_letter: site7.dead-letter
  topic_processed: site7.readings.processed
worker:
  ingest_batch: 40
  ingest_batch_ms: 200
EOF
timeout 90 "$M" --config k.yaml --db "$T/k.db" worker ingest -X session.timeout.ms=6000 \
  -X heartbeat.interval.ms=500 --idle-exit 8s --json >"$T/k.json" 2>"$T/k.err" ||
  fail "worker from k.yaml: $(tail -5 "$T/k.err")"
grep -qF "group site7-ingest, topics 'site7.readings' 'site7.grid-status' 'site7.weather'" "$T/k.err" ||
  fail "the worker did not take group and topics from k.yaml: $(head -3 "$T/k.err")"
expect_eq "$("$METRIFY_BIN" -q --db "$T/k.db" sql 'select count(*) from readings where raw_kwh is not null')" 200 \
  "readings of site7.readings stored once"
msgs=$(json "$T/k.json" 'd["messages"]')
batches=$(json "$T/k.json" 'd["batches"]')
[ "$batches" -ge $(((msgs + 39) / 40)) ] || fail "$batches batches for $msgs messages: worker.ingest_batch 40 not used"
KAFKA_MOCK_PREFIX=site7 "$K" dead-letters "$B" >"$T/dl.json" || fail "read site7.dead-letter"
expect_eq "$(json "$T/dl.json" 'd["distinct_poison"]')" 3 "poison messages in site7.dead-letter"
expect_eq "$(json "$T/dl.json" 'd["missing_headers"]')" 0 "dead letters without metrify.* headers"
[ "$("$K" count "$B" site7.readings.processed)" -ge 200 ] || fail "processed readings not in site7.readings.processed"
# the flags still win over the file
timeout 60 "$M" --config k.yaml --db "$T/k2.db" worker ingest --group other-group --topic-readings site7.readings \
  --topic-grid '' --topic-weather '' -X session.timeout.ms=6000 --idle-exit 5s --json >"$T/k2.json" 2>"$T/k2.err" ||
  fail "worker with flags: $(tail -5 "$T/k2.err")"
grep -qF "group other-group, topics 'site7.readings' '' ''" "$T/k2.err" || fail "flags did not win: $(head -3 "$T/k2.err")"
expect_eq "$("$METRIFY_BIN" -q --db "$T/k2.db" sql 'select count(*) from readings where raw_kwh is not null')" 200 \
  "a new group reads the topic from the start"
echo "ok: kafka worker from the configuration alone (group, topics, batch, dead letters, outputs)"

# --- 3. MQTT from the configuration alone, the password from the environment -------------
MOSQ=$(command -v mosquitto || echo /usr/sbin/mosquitto)
MPW=$(command -v mosquitto_passwd || echo /usr/bin/mosquitto_passwd)
if [ ! -x "$MOSQ" ] || [ ! -x "$MPW" ]; then
  echo "note: mosquitto or mosquitto_passwd not found: MQTT part skipped (scripts/deps.sh installs them)"
  exit 0
fi
port=$(python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])')
"$MPW" -b -c "$T/passwd" site7 's3cret-pw' 2>/dev/null || fail "mosquitto_passwd"
cat >"$T/mosquitto.conf" <<EOF
listener $port 127.0.0.1
allow_anonymous false
password_file $T/passwd
user $(id -un)
EOF
"$MOSQ" -c "$T/mosquitto.conf" >>"$T/broker.log" 2>&1 &
broker=$!
disown "$broker"
for _ in $(seq 50); do
  python3 -c "import socket; socket.create_connection(('127.0.0.1', $port), 0.2)" 2>/dev/null && break
  sleep 0.1
done
cat >m.yaml <<EOF
mqtt:
  host: 127.0.0.1
  port: $port
  topic: site7/+/meter
  client_id: site7-ingest
  qos: 1
  username: site7
worker:
  ingest_batch: 10
  ingest_batch_ms: 100
EOF
# without the password the broker refuses the worker; nothing is stored
set +e
timeout 4 "$M" --config m.yaml --db "$T/m0.db" worker ingest >/dev/null 2>"$T/m0.err"
set -e
grep -q "connection refused" "$T/m0.err" || fail "no password, yet not refused: $(tail -3 "$T/m0.err")"
METRIFY_MQTT_PASSWORD='s3cret-pw' timeout 60 "$M" --config m.yaml --db "$T/m.db" worker ingest \
  --max-messages 40 --json >"$T/m.json" 2>"$T/m.err" &
W=$!
pids+=($W)
sleep 1 # the persistent session and its subscription exist before the first publish
MQTT_PUB_TOPIC='site7/+/meter' MQTT_PUB_USER=site7 MQTT_PUB_PASSWORD='s3cret-pw' \
  timeout 60 "$PUB" 127.0.0.1 "$port" 5 8 0 0 >"$T/pub.json" 2>"$T/pub.err" || fail "publisher: $(cat "$T/pub.err")"
wait "$W" || fail "mqtt worker from m.yaml: $(tail -5 "$T/m.err")"
grep -qF "filter site7/+/meter, client id site7-ingest, qos 1" "$T/m.err" || fail "mqtt settings not from m.yaml: $(head -3 "$T/m.err")"
expect_eq "$("$METRIFY_BIN" -q --db "$T/m.db" sql 'select count(*) from readings where raw_kwh is not null')" 40 \
  "readings from site7/+/meter stored"
expect_eq "$(sqlite3 "$T/m.db" "select count(*) from meters where meter_id like 'MQ%'")" 5 "meter ids from the topic level of the filter"
expect_eq "$(sqlite3 "$T/m.db" 'select count(*) from quarantine')" 0 "nothing quarantined"
echo "ok: mqtt worker from the configuration alone, password from METRIFY_MQTT_PASSWORD"
