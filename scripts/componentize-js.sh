#!/usr/bin/env bash
# Builds a JavaScript plugin of the wasmplug:plugin world with componentize-js (npm), the
# `[build] command` of examples/plugins/greet-js:
#
#   bash scripts/componentize-js.sh SOURCE.js     (in the project folder; writes $WASMPLUG_WASM)
#
# @bytecodealliance/componentize-js is installed once, pinned, into
# target/toolchains/componentize-js (npm --prefix; idempotent). `wasmplug build` then writes
# the wasmplug sections into the component. The StarlingMonkey engine (SpiderMonkey) is
# inside the component (~12.6 MB).
#
# Pinned to 0.22.0, the newest that works: 0.23.0 (and 0.19.3) hand back the result of an
# async export (`call` is one, for `fetch`) from memory already freed, so its first bytes
# are garbage (docs/guests/javascript.md).
set -euo pipefail
ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
VERSION=0.22.0
DIR="$ROOT/target/toolchains/componentize-js"
SRC="${1:?usage: componentize-js.sh SOURCE.js}"
OUT="${WASMPLUG_WASM:?run through wasmplug build (it sets WASMPLUG_WASM)}"

if [[ ! -f "$DIR/.installed" || "$(cat "$DIR/.installed")" != "$VERSION" ]]; then
    echo "componentize-js: installing @bytecodealliance/componentize-js@$VERSION from npm into ${DIR#"$ROOT"/}" >&2
    rm -rf "$DIR"
    mkdir -p "$DIR"
    npm install --prefix "$DIR" --no-audit --no-fund --save-exact \
        "@bytecodealliance/componentize-js@$VERSION" >&2
    echo "$VERSION" >"$DIR/.installed"
fi
"$DIR/node_modules/.bin/componentize-js" --wit "$ROOT/wit/plugin" --world-name plugin \
    "$SRC" -o "$OUT" >&2
