#!/usr/bin/env bash
# simulate.sh - `metrify simulate` end to end: determinism (byte-identical reruns), CSV headers,
# row counts (meters x intervals - gap intervals), a well-formed labels file, --master headers
# equal to the reference CSVs (when ../shared is present), and usage errors (exit 2).
set -uo pipefail
if [ -z "${METRIFY_BIN:-}" ] || [ ! -x "${METRIFY_BIN:-}" ]; then
  echo "METRIFY_BIN is not set or not executable; build metrify first"
  exit 77
fi
root=$(git -C "$(dirname "$0")" rev-parse --show-toplevel 2>/dev/null || echo "$(dirname "$0")/../..")
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
fail() { echo "FAIL: $*"; exit 1; }
sim() { "$METRIFY_BIN" --quiet simulate "$@"; }

# determinism: two runs, every output byte-identical
for run in a b; do
  mkdir -p "$tmp/$run"
  sim --meters 40 --days 5 --seed 9 --fault-rate 3 --out "$tmp/$run/r.csv" \
    --labels "$tmp/$run/l.csv" --grid "$tmp/$run/g.csv" --weather "$tmp/$run/w.csv" \
    --master "$tmp/$run/m" || fail "simulate exited $?"
done
for f in r.csv l.csv g.csv w.csv m/meters.csv m/operators.csv m/stations.csv; do
  cmp -s "$tmp/a/$f" "$tmp/b/$f" || fail "$f differs between two identical runs"
done
sim --meters 40 --days 5 --seed 10 --fault-rate 3 --out "$tmp/c.csv" || fail "seed 10 run"
cmp -s "$tmp/a/r.csv" "$tmp/c.csv" && fail "different seeds gave identical readings"

# headers
[ "$(head -1 "$tmp/a/r.csv")" = "meter_id,timestamp,consumption_kwh,voltage_v,current_a,power_factor,frequency_hz" ] ||
  fail "readings header: $(head -1 "$tmp/a/r.csv")"
[ "$(head -1 "$tmp/a/l.csv")" = "meter_id,fault,start,end" ] || fail "labels header"
[ "$(head -1 "$tmp/a/g.csv")" = "operator_id,timestamp,frequency_hz,voltage_kv,load_mw,capacity_mw,stability" ] ||
  fail "grid header"
[ "$(head -1 "$tmp/a/w.csv")" = "station_id,timestamp,temperature_c,humidity_pct,pressure_hpa,wind_speed_ms,wind_direction_deg,precipitation_mm,cloud_cover_pct" ] ||
  fail "weather header"
sed -n 2p "$tmp/a/r.csv" | grep -Eq '^SM000000,2026-01-01T00:00:00Z,[0-9]+\.[0-9]{4},[0-9]+\.[0-9],[0-9]+\.[0-9]{2},0\.[0-9]{3},[0-9]{2}\.[0-9]{3}$' ||
  fail "first reading malformed: $(sed -n 2p "$tmp/a/r.csv")"

# row counts: 40 meters x 5 days x 96 intervals minus the intervals inside gap labels
gap_intervals=$(awk -F, 'NR > 1 && $2 == "gap" {
    cmd = "date -u -d " $3 " +%s"; cmd | getline s; close(cmd)
    cmd = "date -u -d " $4 " +%s"; cmd | getline e; close(cmd)
    n += (e - s) / 900 + 1 } END { print n + 0 }' "$tmp/a/l.csv")
rows=$(($(wc -l <"$tmp/a/r.csv") - 1))
[ "$rows" -eq $((40 * 5 * 96 - gap_intervals)) ] || fail "rows $rows != 19200 - $gap_intervals gap intervals"
[ "$(($(wc -l <"$tmp/a/g.csv") - 1))" -eq $((4 * 5 * 96)) ] || fail "grid rows"
[ "$(($(wc -l <"$tmp/a/w.csv") - 1))" -eq $((20 * 5 * 24)) ] || fail "weather rows"

# labels: known fault names, known meters, start <= end, ISO UTC, never in the first day
awk -F, 'NR > 1 {
    if ($2 !~ /^(gap|spike|zero_run|counter_reset|frozen|voltage_sag|frequency_excursion)$/) { print "bad fault " $2; bad = 1 }
    if ($1 !~ /^SM0000[0-3][0-9]$/) { print "bad meter " $1; bad = 1 }
    if ($3 !~ /^2026-01-0[1-6]T[0-9][0-9]:[0-9][0-9]:00Z$/ || $4 !~ /^2026-01-0[1-6]T[0-9][0-9]:[0-9][0-9]:00Z$/) { print "bad time " $0; bad = 1 }
    if ($3 > $4) { print "start after end " $0; bad = 1 }
    if ($3 < "2026-01-02") { print "fault in the first day " $0; bad = 1 }
    n++ } END { if (n < 10) { print "too few labels: " n; bad = 1 } exit bad }' "$tmp/a/l.csv" ||
  fail "labels file malformed"
[ "$(awk -F, 'NR > 1 && $2 == "gap"' "$tmp/a/l.csv" | wc -l)" -gt 0 ] || fail "no gap labels"

# --no-faults: every row present, no labels
sim --meters 10 --days 2 --no-faults --out "$tmp/n.csv" --labels "$tmp/n.l" || fail "--no-faults"
[ "$(($(wc -l <"$tmp/n.csv") - 1))" -eq $((10 * 2 * 96)) ] || fail "--no-faults rows"
[ "$(wc -l <"$tmp/n.l")" -eq 1 ] || fail "--no-faults wrote labels"

# --interval 1h and stdout
[ "$(sim --meters 3 --days 1 --interval 1h | wc -l)" -eq $((3 * 24 + 1)) ] || fail "--interval 1h to stdout"

# --json summary
"$METRIFY_BIN" simulate --meters 5 --days 2 --out "$tmp/j.csv" --json >"$tmp/j.json" || fail "--json"
grep -q '"readings"' "$tmp/j.json" && grep -q '"frequency_excursion"' "$tmp/j.json" || fail "--json summary: $(cat "$tmp/j.json")"

# --master headers equal to the reference data, when it is present
ref="$root/../shared/data/metrify-reference"
for pair in meters.csv:smart_meters.csv operators.csv:grid_operators.csv stations.csv:weather_stations.csv; do
  ours=${pair%%:*} theirs=${pair##*:}
  [ -s "$tmp/a/m/$ours" ] || fail "--master did not write $ours"
  if [ -f "$ref/$theirs" ]; then
    want=$(head -1 "$ref/$theirs" | tr -d '\r')
    # meters.csv: the reference columns, then the meter's grid operator (the reference has none)
    [ "$ours" = meters.csv ] && want="$want,operator_id"
    [ "$(head -1 "$tmp/a/m/$ours" | tr -d '\r')" = "$want" ] ||
      fail "$ours header differs from reference $theirs"
  fi
done
[ "$(head -1 "$tmp/a/m/meters.csv" | awk -F, '{print $NF}')" = operator_id ] || fail "meters.csv lacks operator_id"

# every simulated meter (beyond the 1,000 of the reference data too) has a grid operator of
# operators.csv after import, the same whatever the fleet size
sim --meters 1003 --days 1 --no-faults --out /dev/null --master "$tmp/big" || fail "--master 1003"
sim --meters 2 --days 1 --no-faults --out /dev/null --master "$tmp/small" || fail "--master 2"
"$METRIFY_BIN" --db "$tmp/big.db" --quiet import operators "$tmp/big/operators.csv" || fail "import operators"
"$METRIFY_BIN" --db "$tmp/big.db" --quiet import meters "$tmp/big/meters.csv" || fail "import meters"
none=$("$METRIFY_BIN" --db "$tmp/big.db" sql "select count(*) from meters m where not exists
  (select 1 from grid_operators o where o.operator_id = m.operator_id)")
[ "$none" = 0 ] || fail "$none imported meters without a known grid operator"
nops=$("$METRIFY_BIN" --db "$tmp/big.db" sql "select count(distinct operator_id) from meters")
[ "$nops" = 4 ] || fail "meters spread over $nops operators, want the 4 reference TSOs"
[ "$(grep -c '' "$tmp/big/meters.csv")" -eq 1004 ] || fail "meters.csv rows (1003)"
for id in SM000000 SM000001; do
  a=$(grep "^$id," "$tmp/big/meters.csv" | awk -F, '{print $NF}')
  b=$(grep "^$id," "$tmp/small/meters.csv" | awk -F, '{print $NF}')
  [ -n "$a" ] && [ "$a" = "$b" ] || fail "$id: operator '$a' with 1003 meters, '$b' with 2"
done
[ "$(($(wc -l <"$tmp/a/m/meters.csv") - 1))" -eq 40 ] || fail "meters.csv rows"
grep -q '"(220, 240)"' "$tmp/a/m/meters.csv" || fail "voltage_range tuple not quoted"
[ -f "$ref/smart_meters.csv" ] || echo "note: reference data absent, master headers checked for presence only"

# usage errors exit 2
for bad in "--meters 0" "--meters x" "--days 0" "--interval 7m" "--interval 2h" "--seed -1" \
  "--start 2026-02-30" "--start tomorrow" "--fault-rate -1" "--bogus" "--labels -" "stray"; do
  # shellcheck disable=SC2086
  "$METRIFY_BIN" --quiet simulate $bad --out "$tmp/x.csv" 2>"$tmp/err"
  rc=$?
  [ "$rc" -eq 2 ] || fail "'$bad' exited $rc, want 2"
  [ -s "$tmp/err" ] || fail "'$bad' printed no message"
done
"$METRIFY_BIN" simulate --help | grep -q -- "--fault-rate" || fail "--help lacks --fault-rate"
echo "simulate: all checks passed"
