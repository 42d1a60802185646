# pg_server.sh - starts a throw-away PostgreSQL server for tests and benchmarks, from Debian's
# package: initdb into a temporary directory, a free port on 127.0.0.1, the socket in that
# directory, trust authentication for the superuser `metrify`, stopped (and removed) on exit.
# Sourced:   . tests/harness/pg_server.sh; pg_start [NAME=VALUE settings (postgres -c)...]
#            -> exports PG_URL (postgresql://metrify@127.0.0.1:PORT/postgres), PG_BIN, PG_DIR;
#            pg_stop stops it (call it from your own EXIT trap; pg_start does not set one).
# Run:       tests/harness/pg_server.sh CMD ARGS...  runs CMD with METRIFY_TEST_PG_URL set.
# As root (a CI container) the server runs as an unprivileged user, since initdb refuses root:
# $METRIFY_PG_USER, else `nobody`. Returns 77 (skip) when no PostgreSQL server is installed.

# The server's bin directory: Debian's /usr/lib/postgresql/N/bin (newest N; it has psql, pg_dump
# and the server tools together), else wherever initdb is on PATH.
pg_find_bin() {
  local d
  for d in $(ls -d /usr/lib/postgresql/*/bin 2>/dev/null | sort -V -r); do
    [ -x "$d/initdb" ] && [ -x "$d/pg_ctl" ] && [ -x "$d/postgres" ] && { echo "$d"; return 0; }
  done
  if command -v initdb >/dev/null 2>&1 && command -v pg_ctl >/dev/null 2>&1; then
    dirname "$(command -v initdb)"
    return 0
  fi
  return 1
}

pg_free_port() {
  python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])'
}

# Runs a command as the server's user (itself when not root), from the server's directory (the
# caller's may be unreadable for that user).
pg_as() {
  if [ "$(id -u)" -eq 0 ]; then
    (cd "$PG_DIR" && runuser -u "$PG_USER" -- "$@")
  else
    (cd "$PG_DIR" && "$@")
  fi
}

pg_start() {
  PG_BIN=$(pg_find_bin) || { echo "no PostgreSQL server binaries (initdb) installed"; return 77; }
  PG_USER=${METRIFY_PG_USER:-nobody}
  PG_DIR=$(mktemp -d /tmp/mtr-pg-XXXXXX)
  chmod 755 "$PG_DIR"
  [ "$(id -u)" -ne 0 ] || chown "$PG_USER" "$PG_DIR"
  pg_as "$PG_BIN/initdb" -D "$PG_DIR/data" -U metrify --auth=trust -E UTF8 --locale=C.UTF-8 \
    >"$PG_DIR/initdb.log" 2>&1 || { cat "$PG_DIR/initdb.log"; rm -rf "$PG_DIR"; return 1; }
  local try
  for try in 1 2 3 4 5; do
    PG_PORT=$(pg_free_port)
    local opts="-h 127.0.0.1 -p $PG_PORT -k $PG_DIR"
    local s
    for s in "$@"; do opts="$opts -c $s"; done
    if pg_as "$PG_BIN/pg_ctl" -D "$PG_DIR/data" -l "$PG_DIR/server.log" -w -t 60 -o "$opts" \
      start >/dev/null 2>&1; then
      PG_URL="postgresql://metrify@127.0.0.1:$PG_PORT/postgres"
      export PG_URL PG_BIN PG_DIR PG_PORT
      return 0
    fi
  done
  echo "PostgreSQL did not start:"; tail -20 "$PG_DIR/server.log"
  rm -rf "$PG_DIR"
  return 1
}

# For a test script: pg_start SETTINGS..., or exit with its status (77: no server to test
# against, a skip); then the server stops and $T is removed when the script exits.
pg_start_for_test() {
  local rc=0
  pg_start "$@" || rc=$?
  [ $rc -eq 0 ] || exit $rc
  trap 'pg_stop; rm -rf "$T"' EXIT
}

pg_stop() {
  [ -n "${PG_DIR:-}" ] && [ -d "$PG_DIR" ] || return 0
  pg_as "$PG_BIN/pg_ctl" -D "$PG_DIR/data" -m immediate -w stop >/dev/null 2>&1 || true
  rm -rf "$PG_DIR"
  PG_DIR=
}

if [ "${BASH_SOURCE[0]}" = "$0" ]; then
  set -uo pipefail
  [ $# -gt 0 ] || { echo "usage: $0 CMD ARGS..."; exit 2; }
  pg_start || exit $?
  trap pg_stop EXIT
  METRIFY_TEST_PG_URL=$PG_URL "$@"
  exit $?
fi
