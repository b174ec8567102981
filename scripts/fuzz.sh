#!/usr/bin/env bash
# Runs every fuzz target in fuzz/ (cargo-fuzz + libFuzzer, nightly) for SECONDS_PER_TARGET
# seconds each (default 10) and prints one line per target: executions, speed, corpus
# size, result. Exits non-zero if any target crashed, failed an assertion or hung.
#
#   scripts/fuzz.sh [SECONDS_PER_TARGET] [TARGET...]
#
# Installs what it needs, idempotently: the nightly toolchain (rustup) and cargo-fuzz
# (pinned, into target/tools). Builds once into target/fuzz (release + debug assertions,
# no sanitizer, 16 codegen units: see docs/fuzzing.md for the cost). The committed seeds in
# fuzz/corpus/<target> are read; what the fuzzer finds goes to target/fuzz/corpus/<target>
# (kept between runs), crashes to target/fuzz/artifacts/<target>/.
set -euo pipefail
ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
cd "$ROOT"

SECONDS_PER_TARGET="${1:-10}"
shift || true
CARGO_FUZZ_VERSION=0.13.2
TOOLS="$ROOT/target/tools"
OUT="$ROOT/target/fuzz"

if ! rustup run nightly rustc --version >/dev/null 2>&1; then
    rustup toolchain install nightly --profile minimal
fi
if ! "$TOOLS/bin/cargo-fuzz" --version 2>/dev/null | grep -qx "cargo-fuzz $CARGO_FUZZ_VERSION"; then
    cargo install --locked --root "$TOOLS" --version "$CARGO_FUZZ_VERSION" cargo-fuzz
fi
export PATH="$TOOLS/bin:$PATH"

echo "==> building the fuzz targets (nightly, target/fuzz)"
build_start=$SECONDS
# cargo-fuzz has no --locked: check that fuzz/Cargo.lock is up to date first.
cargo +nightly metadata --locked --format-version 1 --manifest-path fuzz/Cargo.toml >/dev/null
cargo +nightly fuzz build --fuzz-dir fuzz --target-dir "$OUT" --sanitizer none --codegen-units 16
echo "built in $((SECONDS - build_start)) s"

if [ "$#" -gt 0 ]; then
    targets=("$@")
else
    mapfile -t targets < <(cargo +nightly fuzz list --fuzz-dir fuzz)
fi
BIN="$OUT/x86_64-unknown-linux-gnu/release"

failed=0
summary=()
for target in "${targets[@]}"; do
    corpus="$OUT/corpus/$target"
    artifacts="$OUT/artifacts/$target"
    log="$OUT/logs/$target.log"
    mkdir -p "$corpus" "$artifacts" "$(dirname "$log")" "fuzz/corpus/$target"
    echo "==> $target for ${SECONDS_PER_TARGET}s"
    # wasmtime handles the SIGSEGV of wasm traps itself and chains other signals to
    # libFuzzer's handlers, which stay on. -timeout: one input taking 10 s is a hang.
    options=(-max_total_time="$SECONDS_PER_TARGET" -timeout=10 -rss_limit_mb=4096
        -artifact_prefix="$artifacts/" -print_final_stats=1)
    if [ -f "fuzz/dict/$target.dict" ]; then
        options+=(-dict="fuzz/dict/$target.dict")
    fi
    status=0
    "$BIN/$target" "$corpus" "fuzz/corpus/$target" "${options[@]}" >"$log" 2>&1 || status=$?
    execs=$(awk '/stat::number_of_executed_units/ { print $2 }' "$log")
    speed=$(awk '/stat::average_exec_per_sec/ { print $2 }' "$log")
    units=$(find "$corpus" -type f | wc -l)
    if [ "$status" -eq 0 ]; then
        result=ok
    else
        result="FAILED (exit $status)"
        failed=1
        grep -E "panicked at|ERROR: libFuzzer|SUMMARY|Test unit written" "$log" | head -5 || true
        echo "full log: $log"
    fi
    summary+=("$(printf '%-18s %10s execs %7s/s %6s corpus  %s' "$target" "${execs:-?}" "${speed:-?}" "$units" "$result")")
done

echo
echo "fuzz summary (${SECONDS_PER_TARGET}s per target):"
printf '  %s\n' "${summary[@]}"
exit "$failed"
