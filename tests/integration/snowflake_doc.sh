#!/usr/bin/env bash
# snowflake_doc.sh - the Snowflake DDL of docs/warehouse/snowflake.md matches the Parquet schema
# the exporter declares (tests/tools/snowflake_ddl_check.py), the checker catches a changed
# column, and the Airflow DAG in dags/ is valid Python that names every pipeline step.
set -uo pipefail
if [ -z "${METRIFY_BIN:-}" ] || [ ! -x "${METRIFY_BIN:-}" ]; then
  echo "METRIFY_BIN is not set or not executable; build metrify first"
  exit 77
fi
root=$(cd "$(dirname "$0")/../.." && pwd)
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
fail() { echo "FAIL: $*"; exit 1; }
"$METRIFY_BIN" export schema --json >"$tmp/schema.json" || fail "export schema"
python3 "$root/tests/tools/snowflake_ddl_check.py" "$root/docs/warehouse/snowflake.md" "$tmp/schema.json" ||
  fail "docs/warehouse/snowflake.md does not match the exporter's schema"
# the check must be able to fail: rename one column and flip one type in a copy of the doc
sed -e '0,/    kwh                    DOUBLE,/s//    kwh_final              DOUBLE,/' \
  -e '0,/    flags                  BIGINT NOT NULL,/s//    flags                  INTEGER NOT NULL,/' \
  "$root/docs/warehouse/snowflake.md" >"$tmp/bad.md"
out=$(python3 "$root/tests/tools/snowflake_ddl_check.py" "$tmp/bad.md" "$tmp/schema.json") && fail "a changed doc passed"
echo "$out" | grep -q "kwh_final" && echo "$out" | grep -q "flags: INTEGER != BIGINT" || fail "missed a difference: $out"
# the DAG compiles and runs the steps in order
python3 -c "import sys; compile(open(sys.argv[1]).read(), sys.argv[1], 'exec')" "$root/dags/metrify_pipeline.py" ||
  fail "dags/metrify_pipeline.py does not compile"
python3 - "$root/dags/metrify_pipeline.py" <<'PY' || fail "DAG content"
import re, sys
src = open(sys.argv[1]).read()
for step in (" ingest ", " quality ", " transform", " export lake "):
    assert step in src, f"no '{step}' step"
assert re.search(r"ingest\w*\s*>>\s*quality\w*\s*>>\s*transform\w*\s*>>\s*export\w*", src), "steps not chained"
PY
echo "snowflake_doc: ok"
