#!/usr/bin/env bash
# Builds a Python plugin of the wasmplug:plugin world with componentize-py (PyPI), the
# `[build] command` of examples/plugins/greet-python:
#
#   bash scripts/componentize-py.sh APP_MODULE     (in the project folder; writes $WASMPLUG_WASM)
#
# componentize-py is installed once, pinned, into target/toolchains/componentize-py
# (pip --target; idempotent). `wasmplug build` then writes the wasmplug sections into the
# component. CPython and its standard library are inside the component (~18 MB).
set -euo pipefail
ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
VERSION=0.25.1
DIR="$ROOT/target/toolchains/componentize-py"
APP="${1:?usage: componentize-py.sh APP_MODULE}"
OUT="${WASMPLUG_WASM:?run through wasmplug build (it sets WASMPLUG_WASM)}"

if [[ ! -f "$DIR/.installed" || "$(cat "$DIR/.installed")" != "$VERSION" ]]; then
    echo "componentize-py: installing componentize-py==$VERSION from PyPI into ${DIR#"$ROOT"/}" >&2
    rm -rf "$DIR"
    python3 -m pip install --disable-pip-version-check --no-warn-script-location \
        --target "$DIR" "componentize-py==$VERSION" >&2
    echo "$VERSION" >"$DIR/.installed"
fi
PYTHONPATH="$DIR" python3 -c 'import sys, componentize_py; sys.argv[0] = "componentize-py"; sys.exit(componentize_py.script())' \
    -d "$ROOT/wit/plugin" -w plugin componentize "$APP" -o "$OUT"
