#!/usr/bin/env python3
"""Scores detected anomalies against the simulator's fault labels.

usage: score_detection.py LABELS.csv ANOMALIES.json [--min 0.95]

A label (meter, fault, first, last interval) is found when an alert of the matching type for the
same meter overlaps [first - 1 interval, last + 1 interval] (a frozen run is only recognisable from
the value before it). An alert is a true positive when it overlaps such a label. Prints precision
and recall per fault type as JSON and exits 1 if any is below --min.
"""
import csv, json, sys
from datetime import datetime, timezone

TYPES = {"gap": "gap", "spike": "spike", "zero_run": "zero_run",
         "counter_reset": "consumption.counter_reset", "frozen": "frozen",
         "voltage_sag": "voltage_sag", "frequency_excursion": "frequency_excursion"}
SLACK = 3600  # seconds either side: one interval at any resolution up to 1 h


def ts(s):
    return datetime.strptime(s, "%Y-%m-%dT%H:%M:%SZ").replace(tzinfo=timezone.utc).timestamp()


def main():
    labels_path, alerts_path = sys.argv[1], sys.argv[2]
    minimum = float(sys.argv[sys.argv.index("--min") + 1]) if "--min" in sys.argv else 0.95
    labels = {}
    with open(labels_path) as f:
        for row in csv.DictReader(f):
            labels.setdefault((row["fault"], row["meter_id"]), []).append(
                [ts(row["start"]) - SLACK, ts(row["end"]) + SLACK, False])
    alerts = json.load(open(alerts_path))
    result, ok = {}, True
    for fault, rule in TYPES.items():
        tp = fp = 0
        for a in alerts:
            if a["type"] != rule:
                continue
            s, e = ts(a["start"]), ts(a["end"])
            hit = False
            for lab in labels.get((fault, a["meter_id"]), []):
                if s <= lab[1] and e >= lab[0]:
                    lab[2] = hit = True
            tp += hit
            fp += not hit
        n = sum(len(v) for (f, _), v in labels.items() if f == fault)
        found = sum(1 for (f, _), v in labels.items() if f == fault for lab in v if lab[2])
        precision = tp / (tp + fp) if tp + fp else 0.0
        recall = found / n if n else 0.0
        result[fault] = {"labels": n, "found": found, "alerts": tp + fp, "false_alerts": fp,
                         "precision": round(precision, 4), "recall": round(recall, 4)}
        if n and (precision < minimum or recall < minimum):
            ok = False
    json.dump(result, sys.stdout, indent=2)
    print()
    sys.exit(0 if ok else 1)


if __name__ == "__main__":
    main()
