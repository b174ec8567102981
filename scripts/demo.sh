#!/usr/bin/env bash
# The main job: build the host and the example plugins in every language (installing the
# wasm32-wasip1 target and, through scripts/toolchains.sh, the Go, C, Zig and
# AssemblyScript toolchains if needed), serve the examples over HTTP with `wasmplug serve`
# (hot reload on), and call the json-transformer plugin and a Go plugin through the gateway
# with curl.
#
# From a terminal the gateway keeps serving until Ctrl-C; without one (CI, a pipe) it stops
# after the demo calls. WASMPLUG_ADDR picks the address (default 127.0.0.1:8080).
set -euo pipefail
ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
cd "$ROOT"

ADDR="${WASMPLUG_ADDR:-127.0.0.1:8080}"
URL="http://$ADDR"

cargo build --locked --quiet -p wasmplug-cli
WASMPLUG="$ROOT/target/debug/wasmplug"
# The examples in Rust, Go, C, Zig and AssemblyScript (installs the toolchains once).
WASMPLUG_BIN="$WASMPLUG" bash scripts/build-guests.sh --all

# GET PATH: prints the body (curl when available, else bash's /dev/tcp).
get() {
    if command -v curl >/dev/null; then
        curl -fsS --max-time 2 "$URL$1"
    else
        exec 3<>"/dev/tcp/${ADDR%:*}/${ADDR##*:}" || return 1
        printf 'GET %s HTTP/1.1\r\nHost: %s\r\nConnection: close\r\n\r\n' "$1" "$ADDR" >&3
        local reply
        reply="$(cat <&3)"
        exec 3>&-
        [[ "$reply" == "HTTP/1.1 200"* ]] || return 1
        printf '%s\n' "${reply#*$'\r\n\r\n'}"
    fi
}

echo
echo "\$ wasmplug serve --addr $ADDR     # serves examples/plugins"
"$WASMPLUG" serve --addr "$ADDR" &
SERVER=$!
stop() {
    kill -TERM "$SERVER" 2>/dev/null || true
    wait "$SERVER" 2>/dev/null || true
}
trap stop EXIT
trap 'echo; exit 0' INT TERM

# Wait until the plugin directory is loaded (the first start compiles the plugins).
for _ in $(seq 1 600); do
    if ! kill -0 "$SERVER" 2>/dev/null; then
        echo "error: wasmplug serve exited (is $ADDR already in use? set WASMPLUG_ADDR)" >&2
        exit 1
    fi
    if get /readyz >/dev/null 2>&1; then
        break
    fi
    sleep 0.2
done
get /readyz >/dev/null

BODY='{"action":"transform"}'
echo
echo "\$ curl -s -H 'X-Wasmplug-Envelope: 1' -H 'X-Request-Id: req-001' -d '$BODY' $URL/v1/plugins/json-transformer/execute"
if command -v curl >/dev/null; then
    curl -sS -H 'X-Wasmplug-Envelope: 1' -H 'X-Request-Id: req-001' -d "$BODY" \
        "$URL/v1/plugins/json-transformer/execute"
    echo
    echo
    echo "\$ curl -s -d world $URL/v1/plugins/greet/greet"
    curl -sS -d world "$URL/v1/plugins/greet/greet"
    echo
    echo
    echo "\$ curl -s -d world $URL/v1/plugins/greet-go/greet        # the same plugin in Go"
    curl -sS -d world "$URL/v1/plugins/greet-go/greet"
    echo
else
    echo "(curl is not installed: run the command above from another shell)"
fi
echo
echo "More: docs/gateway.md (envelope mode, admin API, metrics at $URL/metrics)."

if [[ -t 0 ]]; then
    echo "Serving on $URL; Ctrl-C to stop."
    wait "$SERVER"
fi
