#!/usr/bin/env bash
# Load test of the HTTP gateway: `wasmplug bench-http` with wrk against loopback, the
# json-transformer's `execute` through the gateway next to a bare axum handler returning the
# same bytes (same process, same run). Installs wrk (apt) if it is missing, builds the guests
# and the host in release mode. Extra arguments go to `wasmplug bench-http`, e.g.
#
#   scripts/bench-http.sh --duration 30s          # the full run (>= 1M requests)
#   scripts/bench-http.sh --envelope              # the plugin in JSON envelope mode
#   scripts/bench-http.sh --wasi-http             # a wasi:http component, also under
#                                                 # `wasmtime serve` (installed from PyPI)
set -euo pipefail
ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
cd "$ROOT"

if ! command -v wrk >/dev/null; then
    echo "installing wrk" >&2
    SUDO=""
    [[ "$(id -u)" == 0 ]] || SUDO="sudo"
    $SUDO apt-get install -y wrk >/dev/null 2>&1 || {
        $SUDO apt-get update >/dev/null
        $SUDO apt-get install -y wrk >/dev/null
    }
fi

bash scripts/build-guests.sh >/dev/null
cargo build --release --locked --quiet -p wasmplug-cli
extra=()
for arg in "$@"; do
    if [[ "$arg" == --wasi-http* ]]; then
        extra=(--wasmtime "$(bash scripts/install-wasmtime-cli.sh)")
    fi
done
exec "$ROOT/target/release/wasmplug" bench-http "$@" "${extra[@]}"
