#!/usr/bin/env bash
# parquet_duckdb.sh - proves the Parquet writer against an independent reader, DuckDB.
#
# Builds tests/unit/test_parquet_files (ASan), lets it write a corpus of Parquet files plus the
# expected contents as JSON, then reads every file with DuckDB (@duckdb/node-api from npm,
# installed with `npm ci` from tests/js/package-lock.json into build/js/parquet, reused while the
# lock file is unchanged) and compares values, types, statistics, codecs and encodings.
# Exit 0 pass, 77 skip (only when node/npm are not installed), anything else fail.
set -euo pipefail
cd "$(dirname "$0")/../.."
root=$PWD

if ! command -v node >/dev/null 2>&1 || ! command -v npm >/dev/null 2>&1; then
  echo "skip: node and npm are not installed (scripts/deps.sh installs nodejs and npm)"
  exit 77
fi

cache="$root/build/js/parquet"
mkdir -p "$cache"
lock_sum=$(sha256sum tests/js/package-lock.json | cut -d' ' -f1)
if [ ! -d "$cache/node_modules/@duckdb/node-api" ] || [ "$(cat "$cache/.lock-sum" 2>/dev/null)" != "$lock_sum" ]; then
  cp tests/js/package.json tests/js/package-lock.json "$cache/"
  echo "installing @duckdb/node-api into $cache"
  npm ci --prefix "$cache" --no-audit --no-fund --loglevel=error
  echo "$lock_sum" >"$cache/.lock-sum"
fi
cp tests/js/check_parquet.mjs "$cache/"

make -s build/asan/tests/test_parquet_files >/dev/null
out=$(mktemp -d "$root/build/parquet-files.XXXXXX")
trap 'rm -rf "$out"' EXIT
MTR_PQ_OUT_DIR="$out" build/asan/tests/test_parquet_files
node "$cache/check_parquet.mjs" "$out"
