#!/usr/bin/env bash
# Builds the Rust guests (WebAssembly plugins) for wasm32-wasip1:
#
#   examples/plugins/<name>/<name>.wasm     the example plugins, next to their plugin.toml
#   examples/host/price-quote/price-quote.wasm  the plugin of the host example
#   target/guests/wasm/<probe>.wasm         the test guests of the host's integration tests
#
# With `--all` first, also the component ports (examples/plugins/<example>-component/,
# componentized by `wasmplug build`), the examples in Go, C, Zig and AssemblyScript
# (examples/plugins/<example>-<lang>/) and the hostile guests written with a kit
# (tests/hostile/<case>/), after installing their toolchains with
# scripts/toolchains.sh: each is built with `wasmplug build`, using the binary named by
# $WASMPLUG_BIN (default target/debug/wasmplug, built with cargo when missing). A failed
# build fails the script.
#
# Idempotent: cargo rebuilds only what changed and artifacts are copied only when they
# differ. Extra arguments are passed to `cargo build` (e.g. `-v`).
set -euo pipefail

ALL=""
if [[ "${1:-}" == "--all" ]]; then
    ALL=1
    shift
fi

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

[[ -n "$ALL" ]] || exit 0

WASMPLUG_BIN="${WASMPLUG_BIN:-$ROOT/target/debug/wasmplug}"
if [[ ! -x "$WASMPLUG_BIN" ]]; then
    echo "building the wasmplug binary (cargo build -p wasmplug-cli)" >&2
    cargo build --locked --quiet -p wasmplug-cli
fi

# wasmplug_build DIR LOG: `wasmplug build DIR`, its output in LOG (shown if it fails).
wasmplug_build() {
    "$WASMPLUG_BIN" build "$1" >"$2" 2>&1 || {
        cat "$2" >&2
        echo "error: wasmplug build ${1#"$ROOT"/} failed" >&2
        exit 1
    }
}

# The component ports (kind = "component"): the crates were built above with the guest
# workspace; `wasmplug build` (the same cargo target dir, so nothing is rebuilt) writes
# their wasmplug sections and componentizes them.
for example in echo greet json-transformer counter; do
    dir="$ROOT/examples/plugins/$example-component"
    CARGO_TARGET_DIR="$TARGET_DIR" wasmplug_build "$dir" "$TARGET_DIR/build-$example-component.log"
    wasm="$dir/$example-component.wasm"
    printf '%-9s %s (%s bytes)\n' built "${wasm#"$ROOT"/}" "$(wc -c <"$wasm" | tr -d ' ')"
done

# Python through componentize-py (PyPI, installed once into target/toolchains by the
# project's `[build] command`, scripts/componentize-py.sh).
wasmplug_build "$ROOT/examples/plugins/greet-python" "$TARGET_DIR/build-greet-python.log"
printf '%-9s %s\n' built "examples/plugins/greet-python/greet-python.wasm"

# JavaScript through componentize-js (npm, installed once into target/toolchains by the
# project's `[build] command`, scripts/componentize-js.sh).
wasmplug_build "$ROOT/examples/plugins/greet-js" "$TARGET_DIR/build-greet-js.log"
printf '%-9s %s\n' built "examples/plugins/greet-js/greet-js.wasm"

# The third-party wasi:http handler of the gateway tests (plain wasip2 crate, proxy adapter).
CARGO_TARGET_DIR="$TARGET_DIR" wasmplug_build "$ROOT/tests/guests/rust/http-handler" "$TARGET_DIR/build-http-handler.log"
printf '%-9s %s\n' built "tests/guests/rust/http-handler/http-handler.wasm"

# The component with typed exports of its own (Plugin::call_export tests).
CARGO_TARGET_DIR="$TARGET_DIR" wasmplug_build "$ROOT/tests/guests/rust/typed-component" "$TARGET_DIR/build-typed-component.log"
printf '%-9s %s\n' built "tests/guests/rust/typed-component/typed-component.wasm"

# The other languages' examples.
source "$ROOT/scripts/toolchains.sh" c go zig assemblyscript
for lang in go c zig assemblyscript; do
    for example in echo greet json-transformer counter; do
        dir="$ROOT/examples/plugins/$example-$lang"
        wasmplug_build "$dir" "$TARGET_DIR/build-$example-$lang.log"
        wasm="$dir/$example-$lang.wasm"
        printf '%-9s %s (%s bytes)\n' built "${wasm#"$ROOT"/}" "$(wc -c <"$wasm" | tr -d ' ')"
    done
done

# The hostile guests written with a kit (tests/hostile/<case>/, crates/wasmplug/tests/hostile).
for dir in "$ROOT"/tests/hostile/*/; do
    case="$(basename "$dir")"
    wasmplug_build "$dir" "$TARGET_DIR/build-hostile-$case.log"
    printf '%-9s tests/hostile/%s/%s.wasm\n' built "$case" "$case"
done
