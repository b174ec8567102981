#!/usr/bin/env bash
# Installs the reference `wasmsign2` CLI (crate `wasmsign2-cli` from crates.io) into
# target/tools/bin, for the signature interoperability tests (docs/trust.md). Idempotent:
# does nothing when the pinned version is already there. Prints the binary's path.
set -euo pipefail
ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
VERSION=0.2.8
TOOLS="$ROOT/target/tools"
BIN="$TOOLS/bin/wasmsign2"
STAMP="$TOOLS/wasmsign2.version"

if [[ -x "$BIN" && "$(cat "$STAMP" 2>/dev/null)" == "$VERSION" ]]; then
    echo "$BIN"
    exit 0
fi
echo "installing wasmsign2-cli $VERSION into ${TOOLS#"$ROOT"/} (once)" >&2
cargo install --quiet --locked --force --version "$VERSION" wasmsign2-cli \
    --root "$TOOLS" --target-dir "$TOOLS/build" >&2
echo "$VERSION" >"$STAMP"
echo "$BIN"
