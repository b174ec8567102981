#!/usr/bin/env bash
# The per-language speed table of docs/performance.md: for the echo and json-transformer
# examples of every language (Rust measured in the same run), module size, cached load,
# `noop`, `echo` of 1 KiB and json `execute`, in `reuse` and `per-call` isolation, each with
# raw wasmtime's figure for the same module (`wasmplug bench --baseline --json`).
#
#   scripts/bench-languages.sh                 # 2 s per measurement, about 5 minutes
#   DURATION=5s scripts/bench-languages.sh
#
# Builds the host in release mode and every language's examples first. Prints a Markdown
# table; the raw JSON lines are kept in target/bench-languages.jsonl.
set -euo pipefail
ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
cd "$ROOT"
DURATION="${DURATION:-2s}"

if [[ -z "${WASMPLUG:-}" ]]; then   # WASMPLUG=path/to/wasmplug skips the release build
    cargo build --release --locked --quiet -p wasmplug-cli
    WASMPLUG="$ROOT/target/release/wasmplug"
fi
WASMPLUG_BIN="$WASMPLUG" bash scripts/build-guests.sh --all >/dev/null

OUT="$ROOT/target/bench-languages.jsonl"
: >"$OUT"
CACHE="$(mktemp -d)"
trap 'rm -rf "$CACHE"' EXIT
KIB="$(head -c 1024 /dev/zero | tr '\0' 'x')"
JSON='{"request_id":"req-001","headers":{},"parameters":{"action":"transform"}}'

folder() { [[ "$1" == rust ]] && echo "$2" || echo "$2-$1"; }

for lang in rust go c zig assemblyscript; do
    echo "bench: $lang" >&2
    for isolation in reuse per-call; do
        for spec in "echo noop" "echo echo" "json-transformer execute"; do
            set -- $spec
            example="$1" function="$2"
            case "$function" in
            noop) input="" ;;
            echo) input="$KIB" ;;
            execute) input="$JSON" ;;
            esac
            manifest="examples/plugins/$(folder "$lang" "$example")/plugin.toml"
            # load_ms: a second load in the same process, from the compiled-module cache.
            line="$("$WASMPLUG" bench "$manifest" "$function" --input "$input" \
                --isolation "$isolation" --duration "$DURATION" --baseline --json \
                --cache-dir "$CACHE")"
            wasm="${manifest%plugin.toml}$(folder "$lang" "$example").wasm"
            echo "{\"lang\":\"$lang\",\"example\":\"$example\",\"size\":$(wc -c <"$wasm"),\"report\":$line}" >>"$OUT"
        done
    done
done

python3 - "$OUT" <<'PY'
import json, sys
rows = [json.loads(l) for l in open(sys.argv[1])]
def cell(r):
    w, b = r["latency_ns"]["p50"], (r.get("baseline") or {}).get("latency_ns", {}).get("p50")
    fmt = lambda ns: f"{ns/1e6:.2f} ms" if ns >= 1e6 else f"{ns/1e3:.1f} µs" if ns >= 1e4 else f"{ns/1e3:.2f} µs"
    return f"{fmt(w)} ({fmt(b)})" if b else fmt(w)
print("| language | module (echo / json) | cached load (echo) | noop reuse | noop per-call | echo 1 KiB reuse | echo 1 KiB per-call | json `execute` reuse | json `execute` per-call |")
print("|---|---|---|---|---|---|---|---|---|")
for lang in ["rust", "go", "c", "zig", "assemblyscript"]:
    get = lambda ex, fn, iso: next(r for r in rows if r["lang"] == lang and r["example"] == ex and r["report"]["function"] == fn and r["report"]["isolation"] == iso)
    size = lambda ex: next(r["size"] for r in rows if r["lang"] == lang and r["example"] == ex)
    kb = lambda n: f"{n/1024:.0f} KiB" if n < 1 << 20 else f"{n/(1<<20):.1f} MiB"
    load = get("echo", "noop", "reuse")["report"]["load_ms"]
    cells = [cell(get(ex, fn, iso)["report"]) for ex, fn in [("echo", "noop"), ("echo", "echo"), ("json-transformer", "execute")] for iso in ["reuse", "per-call"]]
    print(f"| {lang} | {kb(size('echo'))} / {kb(size('json-transformer'))} | {load:.2f} ms | " + " | ".join(cells) + " |")
PY
