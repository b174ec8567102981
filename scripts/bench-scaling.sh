#!/usr/bin/env bash
# Gateway throughput by worker-thread count: runs `wasmplug bench-http` (gateway vs bare axum
# handler, same process, same run) once per worker count and prints one table, so a run on
# a bigger machine can be compared with the 2-core figures in docs/gateway.md.
#
#   scripts/bench-scaling.sh                       # workers 1 2 4 ... up to the CPU count
#   WORKERS="1 2 4 8 16" scripts/bench-scaling.sh --duration 20s --isolation reuse
#
# Extra arguments go to every `wasmplug bench-http` run (default --duration 10s). wrk gets
# as many threads as the gateway has workers (at least 2) and 64 connections per 2 threads.
set -euo pipefail
ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
cd "$ROOT"

CPUS="$(nproc)"
if [[ -z "${WORKERS:-}" ]]; then
    WORKERS=""
    n=1
    while (( n <= CPUS )); do WORKERS+="$n "; n=$(( n * 2 )); done
    (( CPUS & (CPUS - 1) )) && WORKERS+="$CPUS"
fi
[[ $# -gt 0 ]] || set -- --duration 10s

# bench-http.sh installs wrk and builds; the first run does it once.
bash scripts/bench-http.sh --duration 1s --workers 1 >/dev/null
BIN="$ROOT/target/release/wasmplug"

printf '\n%s CPUs; bench-http %s\n\n' "$CPUS" "$*"
echo "| workers | gateway req/s | p99 | bare req/s | bare p99 | ratio | errors |"
echo "|---|---|---|---|---|---|---|"
for w in $WORKERS; do
    threads=$(( w < 2 ? 2 : w ))
    out="$("$BIN" bench-http --workers "$w" --threads "$threads" \
        --connections $(( 32 * threads )) "$@")"
    # The table rows of bench-http: | endpoint | requests | req/s | p50 | p99 | errors |
    gw="$(grep '^| json-transformer' <<<"$out")"
    bare="$(grep '^| bare axum' <<<"$out")"
    field() { awk -F'|' -v i="$2" '{ gsub(/^ +| +$/, "", $i); print $i }' <<<"$1"; }
    ratio="$(grep -o '^ratio: [0-9.]*%' <<<"$out" | cut -d' ' -f2)"
    printf '| %s | %s | %s | %s | %s | %s | %s |\n' "$w" \
        "$(field "$gw" 4)" "$(field "$gw" 6)" "$(field "$bare" 4)" "$(field "$bare" 6)" \
        "$ratio" "$(field "$gw" 7)"
done
