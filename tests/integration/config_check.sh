#!/usr/bin/env bash
# config_check.sh - `metrify config check|show` end to end: the shipped environment files, errors
# naming file:line:column, key and problem (exit 2), secrets only from the environment and never
# printed, METRIFY_* overrides, and every command refusing an invalid configuration.
source "$(dirname "$0")/../harness/lib.sh"
set +e # exit codes are checked one by one
cd "$T"
mkdir -p config/environments
cp "$TOP"/config/environments/*.yaml config/environments/

# the three environments are valid; the file and its values show
for e in development staging production; do
  "$M" --env "$e" config check >"$T/$e.out" 2>"$T/$e.err" || fail "$e: exit $?: $(cat "$T/$e.err")"
  grep -q "^# config/environments/$e.yaml (environment $e)" "$T/$e.out" || fail "$e: no file line"
done
grep -q 'url: "postgresql://metrify@postgres:5432/metrify"' production.out || fail "production url"
grep -q 'brokers: ""' development.out || fail "development has kafka brokers"
METRIFY_ENV=staging "$M" config show --json >s.json || fail "METRIFY_ENV staging"
expect_eq "$(json s.json 'd["env"]')" staging "env from METRIFY_ENV"
expect_eq "$(json s.json 'd["config"]["kafka"]["group"]')" metrify-staging "kafka.group"
expect_eq "$(json s.json 'len(d["config"]["worker"]["jobs"])')" 4 "staging jobs"
expect_eq "$(json s.json 'd["config"]["worker"]["jobs"][2]["older_than_s"]')" $((90 * 86400)) "retention"

# errors: file:line:column: key: problem, exit 2
printf 'api:\n  threads: 2\n  thraeds: 3\n' >bad1.yaml
"$M" --config bad1.yaml config check >/dev/null 2>err.txt; rc=$?
expect_eq "$rc" 2 "unknown key exit"
grep -q "bad1.yaml:3:3: api.thraeds: unknown key" err.txt || fail "unknown key message: $(cat err.txt)"
printf 'monitor:\n  silent_hours: soon\n' >bad2.yaml
"$M" --config bad2.yaml config check --json >out.json 2>err.txt; rc=$?
expect_eq "$rc" 2 "wrong type exit"
expect_eq "$(json out.json 'd["ok"]')" False "json ok"
grep -q 'bad2.yaml:2:17: monitor.silent_hours: expected a number, got \\"soon\\"' out.json ||
  fail "wrong type message: $(cat out.json)"
printf 'api:\n  listen: [oops\n' >bad3.yaml
"$M" --config bad3.yaml config check 2>err.txt >/dev/null; expect_eq "$?" 2 "syntax exit"
grep -q "bad3.yaml:3:1: YAML syntax error" err.txt || fail "syntax message: $(cat err.txt)"
"$M" --config missing.yaml config check 2>err.txt >/dev/null; expect_eq "$?" 3 "missing file exit"
"$M" --env nowhere config check 2>err.txt >/dev/null; expect_eq "$?" 2 "bad env exit"

# secrets: an error in a file, taken from the environment, never printed
printf 'store:\n  password: hunter2\n' >secret.yaml
"$M" --config secret.yaml config check 2>err.txt >/dev/null; expect_eq "$?" 2 "secret in file"
grep -q "secret.yaml:2:3: store.password: is a secret: set it in the environment variable METRIFY_STORE_PASSWORD" err.txt ||
  fail "secret message: $(cat err.txt)"
printf 'store:\n  url: postgresql://metrify:hunter2@db/metrify\n' >secret2.yaml
"$M" --config secret2.yaml config check 2>err.txt >/dev/null; expect_eq "$?" 2 "password in url"
grep -q "store.url: contains a password" err.txt || fail "url password message"
METRIFY_STORE_PASSWORD=hunter2 METRIFY_API_JWT_SECRET=s3cr3t "$M" --env production config show \
  >shown.txt 2>&1 || fail "show with secrets"
grep -q "hunter2\|s3cr3t" shown.txt && fail "a secret was printed"
grep -q "  password: (set)" shown.txt || fail "store.password not shown as set"

# overrides from the environment, and their errors
METRIFY_API_LISTEN=0.0.0.0:9999 METRIFY_MONITOR_INTERVAL=2m "$M" --env staging config show --json >o.json ||
  fail "override"
expect_eq "$(json o.json 'd["config"]["api"]["listen"]')" 0.0.0.0:9999 "api.listen override"
expect_eq "$(json o.json 'd["config"]["monitor"]["interval"]')" 120 "monitor.interval override"
METRIFY_MQTT_QOS=3 "$M" config check 2>err.txt >/dev/null; expect_eq "$?" 2 "bad override exit"
grep -q "environment METRIFY_MQTT_QOS: mqtt.qos: 3 is outside 0..2" err.txt || fail "override msg"

# every command uses the configuration: invalid refuses to start, store.url picks the store
"$M" --config bad1.yaml rules >/dev/null 2>err.txt; expect_eq "$?" 2 "rules with a bad config"
grep -q "configuration: .*api.thraeds: unknown key" err.txt || fail "rules config message"
printf 'store:\n  url: %s/from-config.db\n' "$T" >store.yaml
"$M" --quiet --config store.yaml maintenance check >/dev/null || fail "maintenance with config"
[ -f from-config.db ] || fail "store.url was not used"
"$M" --quiet --config store.yaml --db "$T/flag.db" maintenance check >/dev/null || fail "--db"
[ -f flag.db ] || fail "--db does not take precedence over store.url"
echo "config_check: ok"
