# js_deps.sh - sourced by tests and benchmarks that need the npm packages of tests/js (DuckDB,
# s3rver): installs them with `npm ci` from tests/js/package-lock.json into build/js/parquet once,
# reused while the lock file is unchanged, and sets JS to that directory. Returns 77 (skip) when
# node or npm are missing. Usage: . tests/harness/js_deps.sh || exit $?
js_deps() {
  local root
  root=$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)
  if ! command -v node >/dev/null 2>&1 || ! command -v npm >/dev/null 2>&1; then
    echo "skip: node and npm are not installed (scripts/deps.sh installs nodejs and npm)"
    return 77
  fi
  JS="$root/build/js/parquet"
  mkdir -p "$JS"
  local sum
  sum=$(sha256sum "$root/tests/js/package-lock.json" | cut -d' ' -f1)
  if [ ! -d "$JS/node_modules/@duckdb/node-api" ] || [ "$(cat "$JS/.lock-sum" 2>/dev/null)" != "$sum" ]; then
    cp "$root/tests/js/package.json" "$root/tests/js/package-lock.json" "$JS/"
    echo "installing tests/js packages into $JS"
    npm ci --prefix "$JS" --no-audit --no-fund --loglevel=error || return 1
    echo "$sum" >"$JS/.lock-sum"
  fi
  cp "$root"/tests/js/*.mjs "$JS/"
}
js_deps
