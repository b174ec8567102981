#!/usr/bin/env bash
# The whole test suite: formatting, lints, the guests' own unit tests, the host
# workspace's tests (which build the wasm guests), one run of each host example in
# examples/host, 400 malformed inputs against the CLI (scripts/malformed.py), a short run of
# every fuzz target and a 2-minute gateway soak. Installs the
# wasm32-wasip1 target, the guest toolchains (target/toolchains), the reference wasmsign2
# CLI (target/tools), the test servers (redis-server, docker-registry: scripts/servers.sh),
# Debian's chromium and chromedriver for the console's browser tests (scripts/browser.sh)
# and, for fuzzing, cargo-fuzz if needed. Ends with one summary line:
# "N passed, N failed".
set -euo pipefail
ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
cd "$ROOT"

LOG="$(mktemp)"
trap 'rm -f "$LOG"' EXIT
step() { printf '\n==> %s\n' "$*"; }

step "guests (wasm32-wasip1)"
bash scripts/build-guests.sh

step "test servers (redis-server, docker-registry)"
bash scripts/servers.sh install

step "browser for the console tests (Debian chromium + chromedriver)"
bash scripts/browser.sh

step "cargo fmt --check"
cargo fmt --all -- --check
for ws in examples/plugins tests/guests/rust fuzz; do
    cargo fmt --manifest-path "$ws/Cargo.toml" --all -- --check
done

step "cargo clippy"
cargo clippy --locked --workspace --all-targets --quiet -- -D warnings

step "cargo test (guest workspaces, native)"
for ws in examples/plugins tests/guests/rust; do
    cargo test --locked --quiet --manifest-path "$ws/Cargo.toml" --target-dir target/guests 2>&1 | tee -a "$LOG"
done

step "reference wasmsign2 CLI (signature interop tests; installed once into target/tools)"
bash scripts/install-wasmsign2.sh >/dev/null
# The conformance suite and the scaffold tests need every language's examples, built with
# the same wasmplug binary the tests use (one cargo build: --no-run compiles what the next
# step runs).
step "guests in Go, C, Zig, AssemblyScript, Python, JavaScript and the component ports (wasmplug build)"
cargo test --locked --workspace --no-run --quiet
WASMPLUG_BIN="${CARGO_TARGET_DIR:-$ROOT/target}/debug/wasmplug" bash scripts/build-guests.sh --all
export WASMPLUG_TOOLCHAINS="$ROOT/target/toolchains"
GO_SOURCES=(pdk/go examples/plugins/*-go tests/guests/from-docs/go tests/hostile/go-scheduler-spin)
unformatted="$("$WASMPLUG_TOOLCHAINS/go/go/bin/gofmt" -l "${GO_SOURCES[@]}")"
[[ -z "$unformatted" ]] || { echo "gofmt: not formatted: $unformatted" >&2; exit 1; }
"$WASMPLUG_TOOLCHAINS/zig/ziglang/zig" fmt --check pdk/zig examples/plugins/*-zig/main.zig tests/guests/from-docs/zig

step "cargo test (host workspace)"
cargo test --locked --workspace 2>&1 | tee -a "$LOG"

step "host examples (examples/host)"
# `cargo test --workspace` built them with the workspace's features; running the binaries
# directly avoids a second build of wasmtime that `cargo run -p wasmplug` would start.
for example in custom_function api_proxy; do
    "${CARGO_TARGET_DIR:-target}/debug/examples/$example"
done

step "malformed modules, manifests and command lines (scripts/malformed.py, 400 runs)"
python3 scripts/malformed.py --count 400 --wasmplug "${CARGO_TARGET_DIR:-target}/debug/wasmplug"

step "fuzz targets (scripts/fuzz.sh: 12 s per target, nightly build in target/fuzz)"
bash scripts/fuzz.sh 12

step "gateway soak (scripts/soak.sh 2m)"
bash scripts/soak.sh 2m

# Sum the per-binary "test result" lines (set -o pipefail already failed the run on error).
awk '/^test result:/ { for (i = 1; i <= NF; i++) { if ($(i+1) ~ /^passed/) p += $i; if ($(i+1) ~ /^failed/) f += $i } }
     END { printf "\n%d passed, %d failed\n", p, f }' "$LOG"
