# lib.sh - helpers sourced by the integration tests: a temp dir, the binary, assertions.
set -euo pipefail
TOP=$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)
M=${METRIFY_BIN:-$TOP/build/asan/metrify}
[ -x "$M" ] || { echo "no metrify binary at $M"; exit 77; }
T=$(mktemp -d)
trap 'rm -rf "$T"' EXIT
SHARED="$TOP/../shared"
fail() { echo "FAIL: $*" >&2; exit 1; }
# jq-free JSON field access: json FILE EXPR (python expression over `d`)
json() { python3 -c "import json,sys; d=json.load(open(sys.argv[1])); print($2)" "$1"; }
expect_eq() { [ "$1" = "$2" ] || fail "$3: expected '$2', got '$1'"; }
