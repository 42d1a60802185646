#!/usr/bin/env bash
# End to end through the CLI on files: the bad-input catalogue (every malformed record is
# quarantined with file:line and rule, every valid one stored, accepted + rejected = read),
# duplicates and revisions, gzip and NDJSON, exit codes, and --help on every command.
. "$(dirname "$0")/../harness/lib.sh"
DB="$T/m.db"
now=2026-06-01T00:00:00Z

printf '\xef\xbb\xbfmeter_id,timestamp,consumption_kwh,voltage_v,current_a,power_factor,frequency_hz\r\n' > "$T/bad.csv"
cat >> "$T/bad.csv" <<'CSV'
M1,2026-01-01T00:00:00Z,0.5,230,2.1,0.95,50.0
M1,2026-01-01T00:15:00+00:00,0.6,231,2.2,0.95,50.01
M1,2026-01-01 00:30:00,0.55,230,2.1,0.95,49.99
M1,2026-01-01T00:45:00.000Z,0.52,230,2.1,0.95,50.0
M1,2026-01-01T01:00:00Z,abc,230,2.1,0.95,50.0
M1,2026-01-01T01:15:00Z,NaN,230,2.1,0.95,50.0
M1,2026-01-01T01:30:00Z,inf,230,2.1,0.95,50.0
M1,2026-01-01T01:45:00Z,,230,2.1,0.95,50.0
M1,2026-01-01T02:00:00Z,0.5,230
M1,2026-13-01T02:00:00Z,0.5,230,2.1,0.95,50.0
M1,2026-02-30T02:00:00Z,0.5,230,2.1,0.95,50.0
M1,2026-01-01T25:00:00Z,0.5,230,2.1,0.95,50.0
M1,"2026-01-01T02:15:00Z,0.5,230,2.1,0.95,50.0
M1,2026-01-01T02:30:00Z,0.51,230,2.1,0.95,50.0
M1,2099-01-01T00:00:00Z,0.5,230,2.1,0.95,50.0
M1,2026-01-01T02:45:00Z,-0.4,230,2.1,0.95,50.0
CSV
printf 'M1,2026-01-01T03:00:00Z,0.5\xff,230,2.1,0.95,50.0\n' >> "$T/bad.csv"
python3 -c "import sys; sys.stdout.write('M1,2026-01-01T03:15:00Z,' + '9'*(10*1024*1024) + ',230,2.1,0.95,50.0\n')" >> "$T/bad.csv"
echo 'M1,2026-01-01T03:30:00Z,0.49,230,2.1,0.95,50.0' >> "$T/bad.csv"

set +e
"$M" --db "$DB" --json ingest readings --now $now "$T/bad.csv" > "$T/out.json" 2> "$T/err.txt"
rc=$?
set -e
expect_eq "$rc" 1 "exit code with rejected records"
read_n=$(json "$T/out.json" 'd["read"]'); acc=$(json "$T/out.json" 'd["accepted"]'); rej=$(json "$T/out.json" 'd["rejected"]')
expect_eq "$read_n" 19 "records read"
expect_eq "$((acc + rej))" "$read_n" "accepted + rejected = read"
expect_eq "$acc" 7 "accepted"
grep -q 'bad.csv:6: rejected \[number\] consumption_kwh' "$T/err.txt" || fail "no file:line for abc"
grep -q 'bad.csv:11: rejected \[timestamp\]' "$T/err.txt" || fail "month 13 not reported"
grep -q 'bad.csv:16: rejected \[time.future\]' "$T/err.txt" || fail "future not reported"
grep -q '\[parse.line_length\]' "$T/err.txt" || fail "10 MB line not reported"
grep -q '\[parse.encoding\]' "$T/err.txt" || fail "invalid UTF-8 not reported"
"$M" --db "$DB" --json quarantine > "$T/q.json"
expect_eq "$(json "$T/q.json" 'len(d)')" "$rej" "quarantine rows"
expect_eq "$(json "$T/q.json" 'sorted(set(x["rule"] for x in d))' | tr -d "[]' ")" \
  "number,parse.columns,parse.encoding,parse.line_length,parse.quote,required,time.future,timestamp" "rules"
# the negative reading is stored but flagged (kept out of analytics)
expect_eq "$(json "$T/out.json" 'd["flagged"]')" 1 "flagged"

# duplicates are no-ops, revisions are kept
cat > "$T/again.csv" <<'CSV'
meter_id,timestamp,consumption_kwh,voltage_v,current_a,power_factor,frequency_hz
M1,2026-01-01T00:00:00Z,0.5,230,2.1,0.95,50.0
M1,2026-01-01T00:15:00Z,0.65,231,2.2,0.95,50.01
CSV
gzip -c "$T/again.csv" > "$T/again.csv.gz"
"$M" --db "$DB" --json ingest readings --now $now "$T/again.csv.gz" > "$T/o2.json"
expect_eq "$(json "$T/o2.json" 'd["duplicates"]')" 1 "duplicates"
expect_eq "$(json "$T/o2.json" 'd["revisions"]')" 1 "revisions"

# NDJSON with the original envelope, to the same pipeline
printf '{"payload":{"meter_id":"M2","timestamp":"2026-01-01T00:00:00Z","consumption_kwh":1.5}}\n{"meter_id":"M2","timestamp":"2026-01-01T00:15:00Z","consumption_kwh":"x"}\nnot json\n' > "$T/r.ndjson"
set +e; "$M" --db "$DB" --json ingest readings --now $now "$T/r.ndjson" > "$T/o3.json" 2>/dev/null; set -e
expect_eq "$(json "$T/o3.json" 'd["accepted"], d["rejected"]')" "1 2" "ndjson counts"

# strict meters: unknown meters are quarantined
sed 's/M1/Z9/' "$T/again.csv" > "$T/z.csv"
set +e; "$M" --db "$DB" --json ingest readings --strict-meters --now $now "$T/z.csv" > "$T/o4.json" 2>/dev/null; rc=$?; set -e
expect_eq "$rc" 1 "strict exit"
expect_eq "$(json "$T/o4.json" 'd["by_rule"]["meter.unknown"]')" 2 "strict rejects"

# reports answer, and usage errors exit 2
"$M" --db "$DB" --json quality --meter M1 > "$T/qual.json"
expect_eq "$(json "$T/qual.json" '"expected_intervals" in d["fleet"]')" True "quality fields"
"$M" --db "$DB" --json anomalies > /dev/null
"$M" --db "$DB" --json analytics daily --meter M1 > /dev/null
"$M" --db "$DB" maintenance check > /dev/null
"$M" --db "$DB" maintenance backup "$T/b.db" > /dev/null
[ -s "$T/b.db" ] || fail "backup empty"
for c in import ingest quality anomalies analytics quarantine maintenance demo rules simulate; do
  "$M" "$c" --help > /dev/null || fail "$c --help"
done
set +e; "$M" --db "$DB" ingest lunch x.csv 2>/dev/null; rc=$?; set -e
expect_eq "$rc" 2 "usage error exit"
set +e; "$M" --db "$DB" ingest readings /nonexistent.csv 2>/dev/null; rc=$?; set -e
[ "$rc" -ne 0 ] || fail "missing file must fail"
echo "cli_ingest: all checks passed"
