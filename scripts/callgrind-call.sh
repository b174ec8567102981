#!/usr/bin/env bash
# Instructions per plugin call, counted by valgrind (callgrind) instead of timed: the count
# repeats exactly on a noisy, shared machine, where wall-clock figures move by 10-20% from
# run to run. Each case runs `wasmplug bench --calls N --baseline` under callgrind twice, with
# two call counts; the difference of the measuring threads' totals divided by the difference
# of the counts is the cost of one call, for wasmplug and for raw wasmtime (the same module and
# input, see `wasmplug bench --help`), start-up and warm-up cancelled out. valgrind counts
# user-space instructions only: time in the kernel (the pooled slot's reset, page faults) is
# not in these figures; `perf` profiles show it (docs/performance.md).
#
#   scripts/callgrind-call.sh              # the default cases below
#   scripts/callgrind-call.sh PLUGIN FUNCTION ISOLATION [INPUT]
#
# Installs valgrind (apt) if it is missing; builds the guests and the host in release mode.
# Output files go to target/callgrind/ (open one with callgrind_annotate or kcachegrind).
set -euo pipefail
ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
cd "$ROOT"

if ! command -v valgrind >/dev/null; then
    echo "installing valgrind" >&2
    SUDO=""
    [[ "$(id -u)" == 0 ]] || SUDO="sudo"
    $SUDO apt-get install -y valgrind >/dev/null 2>&1 || {
        $SUDO apt-get update >/dev/null
        $SUDO apt-get install -y valgrind >/dev/null
    }
fi

bash scripts/build-guests.sh >/dev/null
cargo build --release --locked --quiet -p wasmplug-cli
BIN="$ROOT/target/release/wasmplug"
OUT="$ROOT/target/callgrind"
mkdir -p "$OUT"

# Call counts of the two runs (the second minus the first is what is divided), and the
# warm-up calls before either.
LOW=${CALLGRIND_LOW:-200}
HIGH=${CALLGRIND_HIGH:-1200}
WARMUP=50

JSON_INPUT='{"request_id":"req-001","headers":{},"parameters":{"action":"transform","user":"u-42"}}'
if [[ $# -ge 3 ]]; then
    cases=("$1|$2|$3|${4:-}")
else
    cases=(
        "examples/plugins/json-transformer/plugin.toml|execute|per-call|$JSON_INPUT"
        "examples/plugins/json-transformer/plugin.toml|execute|reuse|$JSON_INPUT"
        "examples/plugins/echo/plugin.toml|noop|reuse|"
    )
fi

# valgrind numbers threads by slot and reuses a slot once its thread ends, so the raw side's
# measuring thread lands in the same per-thread file as wasmplug's. Each count therefore runs
# twice, without and with `--baseline`: the first is wasmplug's thread alone, the difference
# is raw wasmtime's.
printf '\n| case | wasmplug instructions/call | raw wasmtime instructions/call | wasmplug / raw |\n|---|---|---|---|\n'
for case in "${cases[@]}"; do
    IFS='|' read -r plugin function isolation input <<<"$case"
    tag="$(basename "$(dirname "$plugin")")-$function-$isolation"
    for n in "$LOW" "$HIGH"; do
        for side in plugin both; do
            run="$tag.$side.$n"
            rm -f "$OUT/$run".*
            baseline=()
            [[ "$side" == both ]] && baseline=(--baseline)
            # 8 pool slots: valgrind maps far less address space than the default pool reserves.
            valgrind --tool=callgrind --separate-threads=yes \
                --callgrind-out-file="$OUT/$run.%p" \
                "$BIN" bench "$plugin" "$function" --input "$input" --isolation "$isolation" \
                --calls "$n" --warmup-calls "$WARMUP" --pool 8 "${baseline[@]}" --json \
                --cache-dir "$OUT/cache" >"$OUT/$run.json" 2>"$OUT/$run.log" || {
                echo "valgrind run failed: see $OUT/$run.log" >&2
                exit 1
            }
        done
    done
    python3 - "$OUT" "$tag" "$LOW" "$HIGH" "$plugin $function ($isolation)" <<'PY'
import glob, re, sys

out, tag, low, high, label = sys.argv[1], sys.argv[2], int(sys.argv[3]), int(sys.argv[4]), sys.argv[5]

def measuring(side, n):
    """Total instructions of the per-thread file that holds the measuring loop."""
    totals = []
    for path in glob.glob(f"{out}/{tag}.{side}.{n}.*-*"):
        text = open(path, errors="replace").read()
        total = re.search(r"^(?:summary|totals): (\d+)", text, re.M)
        if total and "commands::bench::sample::sample" in text:
            totals.append(int(total.group(1)))
    if len(totals) != 1:
        sys.exit(f"expected one measuring thread in {out}/{tag}.{side}.{n}.*, found {len(totals)}")
    return totals[0]

calls = high - low
plugin = (measuring("plugin", high) - measuring("plugin", low)) / calls
both = (measuring("both", high) - measuring("both", low)) / calls
raw = both - plugin
print(f"| {label} | {plugin:,.0f} | {raw:,.0f} | {plugin / raw:.2f}x |")
PY
done
