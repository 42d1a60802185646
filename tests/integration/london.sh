#!/usr/bin/env bash
# The real London households (shared/data, when present): every file ingests as it is with
# --format lcl, gaps are estimated, and the fault-free zero-heavy MAC000004 has anomalies on at
# most 1 % of its days. Without shared/, the committed 96-row excerpt is ingested instead.
. "$(dirname "$0")/../harness/lib.sh"
L="$SHARED/data/london-smart-meters-lcl-2013"
if [ ! -d "$L" ]; then
  "$M" --db "$T/m.db" --json ingest readings --format lcl "$TOP/tests/data/lcl_excerpt.csv" > "$T/o.json"
  expect_eq "$(json "$T/o.json" 'd["accepted"], d["rejected"]')" "96 0" "excerpt"
  echo "shared/ absent: ingested the committed excerpt only"
  exit 0
fi
"$M" --db "$T/m.db" --json ingest readings --format lcl "$L"/halfhourly/*.csv > "$T/o.json"
expect_eq "$(json "$T/o.json" 'd["read"], d["rejected"]')" "167549 0" "London readings"
[ "$(json "$T/o.json" 'd["estimated"]')" -gt 0 ] || fail "gaps were not estimated"
"$M" --db "$T/m.db" --json ingest weather --format darksky "$L/weather_hourly_darksky.csv" > "$T/w.json"
expect_eq "$(json "$T/w.json" 'd["read"]')" 21165 "weather rows"
"$M" --db "$T/m.db" --json anomalies --meter MAC000004 > "$T/a.json"
days=$(json "$T/a.json" 'len(set(x["start"][:10] for x in d))')
echo "MAC000004: anomalies on $days of 365 days"
[ "$days" -le 3 ] || fail "MAC000004 has anomalies on $days days (> 1 %)"
"$M" --db "$T/m.db" --json quality --meter MAC000079 > "$T/q.json"
echo "MAC000079 missing intervals: $(json "$T/q.json" 'd["fleet"]["missing_intervals"]'), estimated: $(json "$T/q.json" 'd["fleet"]["estimated_intervals"]')"
echo "london: all checks passed"
