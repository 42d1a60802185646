#!/usr/bin/env bash
# Detection quality against ground truth: a 1,000-meter, 30-day, 15-minute simulated fleet with
# labelled faults, ingested at default settings; precision and recall must be >= 0.95 for every
# injected fault type (tests/tools/score_detection.py). Uses the optimised build for time; the
# same code runs under the sanitizers in the other tests.
. "$(dirname "$0")/../harness/lib.sh"
M=${METRIFY_RELEASE_BIN:-$TOP/build/release/metrify}
[ -x "$M" ] || { echo "no release binary"; exit 77; }
"$M" -q simulate --meters 1000 --days 30 --interval 15m --seed 42 --out "$T/r.csv" \
  --labels "$T/labels.csv" --master "$T"
"$M" -q --db "$T/m.db" import meters "$T/meters.csv"
"$M" --db "$T/m.db" --json ingest readings "$T/r.csv" > "$T/ingest.json"
"$M" --db "$T/m.db" --json anomalies --source readings > "$T/alerts.json"
python3 "$TOP/tests/tools/score_detection.py" "$T/labels.csv" "$T/alerts.json" --min 0.95
