#!/usr/bin/env bash
# The main job: build the host and the example plugins (installing the wasm32-wasip1
# target if needed), then call the json-transformer plugin through `wasmplug run`.
set -euo pipefail
ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
cd "$ROOT"

bash scripts/build-guests.sh
cargo build --locked --quiet -p wasmplug-cli
WASMPLUG="$ROOT/target/debug/wasmplug"

INPUT='{"request_id":"req-001","headers":{},"parameters":{"action":"transform"}}'
echo
echo "\$ wasmplug run examples/plugins/json-transformer/plugin.toml execute --input '$INPUT'"
"$WASMPLUG" run examples/plugins/json-transformer/plugin.toml execute --input "$INPUT"
echo
echo
echo "\$ wasmplug run examples/plugins/greet/plugin.toml greet --input world"
"$WASMPLUG" run examples/plugins/greet/plugin.toml greet --input world
echo
echo
echo "More: $WASMPLUG inspect examples/plugins/json-transformer/plugin.toml"
