#!/usr/bin/env bash
# Soak test of the gateway: `wasmplug serve` under mixed traffic (good and hostile plugins,
# hot reloads, admin changes, kv writes) for DURATION (default 2m), driven from a second
# process, the soak tool crates/wasmplug-cli/examples/soak. Prints requests, errors by
# class, RSS, open fds and threads every minute and at the end; exits non-zero if a good
# plugin's request fails, the gateway dies or does not stop cleanly on SIGTERM, or RSS, fds
# or threads grow past their tolerance (docs/gateway.md, "Soak test").
#
#   scripts/soak.sh [DURATION] [SOAK OPTIONS...]     e.g. scripts/soak.sh 1h --good-clients 4
#
# Uses the debug build of `wasmplug`: `cargo test --workspace` (scripts/test.sh) has just
# built it with the same features, and its dependencies (wasmtime, hyper, tokio) are
# optimised in the dev profile, so no second build of wasmtime is needed. The soak looks
# for growth and failures, not speed.
set -euo pipefail
ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
cd "$ROOT"

DURATION="${1:-2m}"
shift || true

bash scripts/build-guests.sh >/dev/null
# The same package selection as `cargo test --workspace`, so features unify the same way
# and nothing is rebuilt after the test suite.
cargo build --locked --quiet --workspace --bins --examples
TARGET="${CARGO_TARGET_DIR:-$ROOT/target}"
exec "$TARGET/debug/examples/soak" "$DURATION" --wasmplug "$TARGET/debug/wasmplug" "$@"
