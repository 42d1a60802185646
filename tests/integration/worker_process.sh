#!/usr/bin/env bash
# worker_process.sh - `metrify worker process` and `worker monitor` end to end on a simulated
# fleet: jobs run when due (`--once --now`), leave their effects (quality report file, command
# output, state file, counters), are not re-run after a restart, catch up after downtime; a failed
# command gives exit 1; monitor alerts land in the store and, with Kafka brokers configured, in
# the alerts topic of librdkafka's mock cluster; SIGTERM makes both workers exit 0.
source "$(dirname "$0")/../harness/lib.sh"
set +e # exit codes are checked one by one
cd "$T"
"$M" --quiet simulate --meters 12 --days 6 --start 2024-03-01 --interval 1h --seed 3 \
  --out r.csv --weather w.csv --master m || fail "simulate"
"$M" --quiet --db t.db import stations m/stations.csv || fail "import stations"
"$M" --quiet --db t.db ingest readings r.csv
"$M" --quiet --db t.db ingest weather w.csv
cat >c.yaml <<YAML
store:
  url: $T/t.db
worker:
  state_file: $T/state/worker.state
  jobs:
    - name: rollup_catchup
      schedule: "15 * * * *"
      days: 3
    - name: quality_report
      schedule: "30 0 * * *"
      dir: $T/reports
    - name: export
      type: command
      schedule: "0 2 * * *"
      command: echo ran >> $T/export.log
logging:
  format: json
YAML
W() { "$M" --config c.yaml worker "$@"; }

# first start: every job honours its latest slot
W process --once --now 2024-03-06T03:00:00Z --metrics-file m1.prom 2>log1.txt
expect_eq "$?" 0 "first run exit"
expect_eq "$(grep -c '"msg":"job finished"' log1.txt)" 3 "jobs run on first start"
[ -f reports/quality-2024-03-05.json ] || fail "no quality report for 2024-03-05: $(ls reports)"
expect_eq "$(json reports/quality-2024-03-05.json 'd["fleet"]["meters"]')" 12 "meters in report"
expect_eq "$(json reports/quality-2024-03-05.json 'len(d["meters"])')" 12 "meter rows in report"
expect_eq "$(wc -l <export.log)" 1 "command ran once"
expect_eq "$(wc -l <state/worker.state)" 3 "state lines"
grep -q '^metrify_worker_jobs_total{job="rollup_catchup",type="rollup_catchup",status="ok"} 1$' m1.prom ||
  fail "jobs counter: $(cat m1.prom)"
grep -q '^metrify_worker_last_items{job="rollup_catchup"} 36$' m1.prom || fail "12 meters x 3 days"

# a restart a little later runs nothing; after the next slots only those jobs run
W process --once --now 2024-03-06T03:10:00Z 2>log2.txt; expect_eq "$?" 0 "restart exit"
expect_eq "$(grep -c '"msg":"job finished"' log2.txt)" 0 "nothing re-run after a restart"
W process --once --now 2024-03-06T04:20:00Z 2>log3.txt
expect_eq "$(grep -c '"msg":"job finished"' log3.txt)" 1 "only the hourly job at 04:15"
grep -q '"job":"rollup_catchup"' log3.txt || fail "04:15 was not the rollup job"
# down for two days: each job runs once, the report for the latest slot
W process --once --now 2024-03-08T05:00:00Z 2>log4.txt
expect_eq "$(grep -c '"msg":"job finished"' log4.txt)" 3 "catch-up after downtime"
[ -f reports/quality-2024-03-07.json ] || fail "no catch-up report for 2024-03-07"
[ -f reports/quality-2024-03-06.json ] && fail "missed slots should collapse into one run"
expect_eq "$(wc -l <export.log)" 2 "command ran once more"

# a failing command: exit 1, logged as an error, counted
sed -i 's|command: echo ran >> .*|command: exit 3|' c.yaml
W process --once --run export --now 2024-03-08T06:00:00Z --metrics-file - >m2.prom 2>log5.txt
expect_eq "$?" 1 "--run of a failing job"
grep -q '"status":"failed"' log5.txt || fail "failed status not logged: $(cat log5.txt)"
grep -q '^metrify_worker_jobs_total{job="export",type="command",status="failed"} 1$' m2.prom ||
  fail "failed counter"
W process --once --now 2024-03-09T02:00:00Z 2>log6.txt; expect_eq "$?" 1 "--once with a failed job"

# usage errors
W process --now 2024-03-09T02:00:00Z 2>/dev/null; expect_eq "$?" 2 "--now without --once"
W process --once --now yesterday 2>/dev/null; expect_eq "$?" 2 "bad --now"
W process --run nosuch 2>/dev/null; expect_eq "$?" 2 "unknown job"

# monitor: the weather stops on 2024-03-06 at 23:00; at 2024-03-07T06:00 every station is stale
W monitor --once --now 2024-03-07T06:00:00Z --metrics-file mon.prom 2>mlog.txt
expect_eq "$?" 0 "monitor exit"
n=$(grep -c '"rule":"monitor.weather_stale"' mlog.txt)
[ "$n" -ge 1 ] || fail "no stale-weather alert: $(head -5 mlog.txt)"
grep -q '^metrify_monitor_store_up 1$' mon.prom || fail "store_up"
grep -q '^metrify_monitor_judged{entity="meter"} 12$' mon.prom || fail "meters judged"
"$M" --db t.db --json anomalies >a.json 2>/dev/null
stored=$(python3 -c "import json; d=json.load(open('a.json')); a=d if isinstance(d,list) else d.get('alerts',d.get('anomalies',[])); print(sum(1 for x in a if 'monitor.weather_stale' in json.dumps(x)))")
expect_eq "$stored" "$n" "stale alerts stored"
W monitor --once --now 2024-03-07T06:00:00Z 2>/dev/null
"$M" --db t.db --json anomalies >b.json 2>/dev/null
cmp -s a.json b.json || fail "a second pass added alerts instead of updating them"

# monitor -> Kafka (librdkafka's mock cluster): selected by the configuration (kafka.brokers,
# default topic metrify.alerts), then by flags (--kafka, --topic-alerts); the topic is read back
# and must hold exactly the alerts the monitor logged, keyed by entity id, as JSON
K=$TOP/build/asan/tools/kafka_mock
make -s -C "$TOP" build/asan/tools/kafka_mock >/dev/null || fail "cannot build $K"
"$K" serve "$T/bootstrap" 4 >kserve.log 2>&1 &
kpid=$!
trap 'kill $kpid 2>/dev/null; wait $kpid 2>/dev/null; rm -rf "$T"' EXIT
for _ in $(seq 50); do [ -s "$T/bootstrap" ] && break; sleep 0.1; done
B=$(cat "$T/bootstrap") || fail "mock cluster did not start"
{ cat c.yaml; printf 'kafka:\n  brokers: %s\n' "$B"; } >ck.yaml
"$M" --config ck.yaml worker monitor --once --now 2024-03-07T06:00:00Z --metrics-file kmon.prom 2>klog.txt
expect_eq "$?" 0 "monitor with Kafka exit"
grep -q '"kafka_topic":"metrify.alerts"' klog.txt || fail "Kafka sink not selected by kafka.brokers: $(head -2 klog.txt)"
grep -q '^metrify_monitor_sink_errors_total{sink="kafka"} 0$' kmon.prom || fail "kafka sink errors: $(grep sink_errors kmon.prom)"
"$K" dump "$B" metrify.alerts >alerts.ndjson || fail "read metrify.alerts"
check_alerts() { # LOG DUMP: the topic holds exactly the logged alerts, keyed and shaped
  python3 - "$1" "$2" <<'PY' || fail "alerts on Kafka differ from the logged ones"
import json, sys
logged = [json.loads(l) for l in open(sys.argv[1]) if '"msg":"alert"' in l]
sent = [json.loads(l) for l in open(sys.argv[2])]
assert logged, "no alert logged"
def key(a):
    return (a["entity_id"], a["rule" if "rule" in a else "type"], a["source"], a["start"], a["end"],
            a["alert_level" if "alert_level" in a else "level"], a["count"], a["detail"])
got = []
for m in sent:
    v = json.loads(m["value"])
    assert m["key"] == v["entity_id"], (m["key"], v)
    assert set(v) == {"source", "entity_id", "type", "level", "score", "start", "end", "count",
                      "value", "detail"}, v
    assert v["type"].startswith("monitor.") and v["detail"], v
    got.append(key(v))
want = sorted(key(a) for a in logged)
assert sorted(got) == want, (len(got), len(want), sorted(got)[:3], want[:3])
assert any(k[1] == "monitor.weather_stale" and k[2] == "weather" for k in got), "no stale station"
print(f"{len(got)} alerts on Kafka match the log")
PY
}
check_alerts klog.txt alerts.ndjson
# flags: another broker list / topic than the configuration's
"$M" --config c.yaml worker monitor --once --now 2024-03-07T06:00:00Z --kafka "$B" \
  --topic-alerts fleet.alerts -X client.id=monitor-test 2>klog2.txt
expect_eq "$?" 0 "monitor --kafka exit"
"$K" dump "$B" fleet.alerts >alerts2.ndjson || fail "read fleet.alerts"
check_alerts klog2.txt alerts2.ndjson
"$M" --config c.yaml worker monitor --once --kafka "$B" -X no.such.property=1 2>/dev/null
expect_eq "$?" 2 "a bad Kafka property is a usage error"

# SIGTERM: both workers stop cleanly with exit 0 and say so in their counters
sed -i 's|command: exit 3|command: sleep 1|' c.yaml
for w in process monitor; do
  rm -f "sig-$w.prom"
  "$M" --config c.yaml worker "$w" --metrics-file "sig-$w.prom" 2>"sig-$w.log" &
  pid=$!
  for _ in $(seq 1 120); do [ -s "sig-$w.prom" ] && break; sleep 0.25; done
  [ -s "sig-$w.prom" ] || { kill -KILL $pid; fail "$w wrote no metrics in 30 s"; }
  kill -TERM $pid
  wait $pid; rc=$?
  expect_eq "$rc" 0 "$w exit status after SIGTERM"
  grep -q "^metrify_worker_up{worker=\"$w\"} 0$" "sig-$w.prom" || fail "$w up gauge after stop"
  grep -q '"signal":true' "sig-$w.log" || fail "$w did not log the signal"
done
echo "worker_process: ok"
