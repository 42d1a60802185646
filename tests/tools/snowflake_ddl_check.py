#!/usr/bin/env python3
"""snowflake_ddl_check.py - compares the CREATE TABLE statements of docs/warehouse/snowflake.md
with the Parquet schema the exporter declares (`metrify export schema --json`): same tables, same
columns in the same order, the Snowflake type of each Parquet type, NOT NULL exactly for required
columns; and a COPY INTO and a PIPE per dataset reading its own dataset= prefix.
usage: snowflake_ddl_check.py DOC.md SCHEMA.json ; exit 0 when they agree, 1 with the differences."""
import json
import re
import sys

TYPES = {"STRING": "VARCHAR", "INT32": "INTEGER", "INT64": "BIGINT", "DOUBLE": "DOUBLE",
         "BOOLEAN": "BOOLEAN", "DATE": "DATE", "TIMESTAMP_MICROS_UTC": "TIMESTAMP_TZ(6)"}


def main():
    doc = open(sys.argv[1]).read()
    schema = json.load(open(sys.argv[2]))
    problems = []
    tables = {}
    for m in re.finditer(r"CREATE TABLE IF NOT EXISTS metrify\.lake\.(\w+) \((.*?)\n\);", doc, re.S):
        cols = []
        for line in m.group(2).strip().splitlines():
            line = line.strip().rstrip(",")
            parts = line.split()
            if len(parts) < 2:
                problems.append(f"{m.group(1)}: cannot parse column line '{line}'")
                continue
            notnull = line.upper().endswith("NOT NULL")
            cols.append((parts[0], parts[1], notnull))
        tables[m.group(1)] = cols
    if set(tables) != set(schema):
        problems.append(f"tables {sorted(tables)} != datasets {sorted(schema)}")
    for ds, want in schema.items():
        got = tables.get(ds, [])
        if len(got) != len(want):
            problems.append(f"{ds}: {len(got)} columns in the doc, {len(want)} in the schema")
        for i, c in enumerate(want):
            if i >= len(got):
                break
            name, typ, notnull = got[i]
            if name != c["name"]:
                problems.append(f"{ds} column {i}: '{name}' != '{c['name']}'")
            if typ != TYPES[c["type"]]:
                problems.append(f"{ds}.{c['name']}: {typ} != {TYPES[c['type']]} (Parquet {c['type']})")
            if notnull == c["nullable"]:
                problems.append(f"{ds}.{c['name']}: NOT NULL {'missing' if not notnull else 'but nullable'}")
        if not re.search(rf"COPY INTO metrify\.lake\.{ds} FROM @metrify\.lake\.stage/dataset={ds}/", doc):
            problems.append(f"{ds}: no COPY INTO from its dataset= prefix")
        if not re.search(rf"CREATE OR REPLACE PIPE metrify\.lake\.{ds}_pipe AUTO_INGEST = TRUE AS\s+"
                         rf"COPY INTO metrify\.lake\.{ds} FROM @metrify\.lake\.stage/dataset={ds}/", doc):
            problems.append(f"{ds}: no Snowpipe")
    for p in problems:
        print("FAIL", p)
    n = sum(len(v) for v in schema.values())
    print(f"{len(problems)} problems; {len(tables)} tables, {n} columns compared")
    return 1 if problems else 0


if __name__ == "__main__":
    sys.exit(main())
