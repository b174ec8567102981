#!/usr/bin/env bash
# The whole test suite: formatting, lints, the host workspace's tests (which build the
# wasm guests), and the guests' own unit tests. Installs the wasm32-wasip1 target if needed.
set -euo pipefail
ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
cd "$ROOT"

step() { printf '\n==> %s\n' "$*"; }

step "guests (wasm32-wasip1)"
bash scripts/build-guests.sh

step "cargo fmt --check"
cargo fmt --all -- --check

step "cargo clippy"
cargo clippy --locked --workspace --all-targets --quiet -- -D warnings

step "cargo test (host workspace)"
cargo test --locked --workspace

step "cargo test (guest workspaces, native)"
for ws in examples/plugins tests/guests/rust; do
    cargo test --locked --quiet --manifest-path "$ws/Cargo.toml" --target-dir target/guests
done
