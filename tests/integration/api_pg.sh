#!/usr/bin/env bash
# api_pg.sh - `metrify serve --db postgresql://...` on a real PostgreSQL server (initdb into a
# temporary directory, a free loopback port; tests/harness/pg_server.sh): the API test files run
# unchanged against it, each on a fresh database - every route with its checks (api_routes:
# meters, ingest over HTTP, readings raw/hourly/daily, operators, stations, analytics, keys,
# health, metrics, errors), the auth matrix, concurrent overlapping ingest (every interval stored
# exactly once, the store check passing), SIGTERM during ingest (every acknowledged batch
# stored), and the processing deadline with the /metrics cache.
. "$(dirname "$0")/../harness/lib.sh"
. "$TOP/tests/harness/pg_server.sh"
pg_start_for_test fsync=off
export METRIFY_API_TEST_DB="${PG_URL%/postgres}/api"
for t in api_routes api_auth api_concurrency api_sigterm api_deadline; do
  "$PG_BIN/psql" -q "$PG_URL" -c "DROP DATABASE IF EXISTS api" -c "CREATE DATABASE api" \
    >/dev/null 2>&1 || fail "cannot create the test database"
  echo "== $t on PostgreSQL"
  if ! bash "$TOP/tests/integration/$t.sh" >"$T/$t.out" 2>&1; then
    tail -30 "$T/$t.out"
    fail "$t failed on PostgreSQL"
  fi
  tail -1 "$T/$t.out"
done
echo "api on PostgreSQL: ok"
