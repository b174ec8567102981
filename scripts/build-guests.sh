#!/usr/bin/env bash
# Builds the Rust guests (WebAssembly plugins) for wasm32-wasip1:
#
#   examples/plugins/<name>/<name>.wasm     the example plugins, next to their plugin.toml
#   examples/host/price-quote/price-quote.wasm  the plugin of the host example
#   target/guests/wasm/<probe>.wasm         the test guests of the host's integration tests
#
# Idempotent: cargo rebuilds only what changed and artifacts are copied only when they
# differ. Extra arguments are passed to `cargo build` (e.g. `-v`).
set -euo pipefail

ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
TARGET=wasm32-wasip1
TARGET_DIR="$ROOT/target/guests"
OUT="$TARGET_DIR/$TARGET/release"

# Without rustup (a distro toolchain), the target must already be installed.
if command -v rustup >/dev/null && ! rustup target list --installed | grep -qx "$TARGET"; then
    echo "installing the $TARGET target" >&2
    rustup target add "$TARGET"
fi

build() {
    cargo build --release --locked --quiet --target "$TARGET" \
        --manifest-path "$ROOT/$1/Cargo.toml" --target-dir "$TARGET_DIR" "${@:2}"
}

# copy SRC DEST: copies when DEST is missing or differs, then prints one line.
copy() {
    local src="$1" dest="$2" state="unchanged"
    if [[ ! -f "$src" ]]; then
        echo "error: $src was not built" >&2
        exit 1
    fi
    if ! cmp -s "$src" "$dest"; then
        cp -p "$src" "$dest"
        state="updated"
    fi
    printf '%-9s %s (%s bytes)\n' "$state" "${dest#"$ROOT"/}" "$(wc -c <"$dest" | tr -d ' ')"
}

build examples/plugins "$@"
build tests/guests/rust "$@"

for name in echo greet json-transformer counter api-proxy; do
    copy "$OUT/${name//-/_}.wasm" "$ROOT/examples/plugins/$name/$name.wasm"
done
# Needs the application's `shop::*` host functions, so it is not in the plugin directory
# that `wasmplug serve` loads; examples/host/custom_function.rs runs it.
copy "$OUT/price_quote.wasm" "$ROOT/examples/host/price-quote/price-quote.wasm"

mkdir -p "$TARGET_DIR/wasm"
for name in pdk-probe host-probe custom-probe; do
    copy "$OUT/${name//-/_}.wasm" "$TARGET_DIR/wasm/$name.wasm"
done
