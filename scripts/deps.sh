#!/usr/bin/env bash
# Installs what Metrify needs to build, test and demo on Debian/Ubuntu, with apt-get.
# Idempotent and quick when everything is present (checks with dpkg first).
# Set METRIFY_DEPS_EXTRA to add packages. Needs root or sudo only when something is missing.
set -euo pipefail

pkgs=(
  build-essential pkg-config clang-format
  libsqlite3-dev sqlite3 zlib1g-dev libjansson-dev   # core: store, gzip input, JSON
  python3 python3-numpy python3-pandas               # test oracles (weather_oracle), bench helpers
  libzstd-dev time                                   # Parquet writer: ZSTD pages; bench RSS
  libpq-dev postgresql                               # PostgreSQL store; tests run a real server
  librdkafka-dev                                     # Kafka worker; tests use its mock cluster
  libmosquitto-dev mosquitto                         # MQTT worker; tests run a real broker
  libmicrohttpd-dev libssl-dev                       # REST API server; key hashing, HMAC
  libcurl4-openssl-dev libyaml-dev                   # S3 upload (SigV4); configuration files
  wrk python3-fastapi python3-uvicorn                # API benchmark and its FastAPI baseline
)
# Node.js and npm run the independent Parquet reader (DuckDB from npm); any install will do.
command -v node >/dev/null 2>&1 && command -v npm >/dev/null 2>&1 || pkgs+=(nodejs npm)
pkgs+=(${METRIFY_DEPS_EXTRA:-})

missing=()
for p in "${pkgs[@]}"; do
  dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" || missing+=("$p")
done
[ ${#missing[@]} -eq 0 ] && exit 0

echo "deps: installing ${missing[*]}" >&2
SUDO=""
[ "$(id -u)" -eq 0 ] || SUDO="sudo"
export DEBIAN_FRONTEND=noninteractive
$SUDO apt-get update -qq
$SUDO apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
