#!/usr/bin/env python3
"""Malformed inputs against the `wasmplug` CLI: mutated modules, mutated manifests and
odd command lines, each run as its own process. Fails if any run crashes (killed by a
signal), panics (exit status 101 or "panicked at" in its output) or hangs past its time
limit; every other exit status is a clear refusal and fine.

    scripts/malformed.py [--count N] [--seed S] [--wasmplug BIN]

Inputs are derived from the bundled examples (built by scripts/build-guests.sh) with a
seeded random generator, so a failure is reproducible from the seed and the case number it
prints. Runs in scripts/test.sh with a small count; the issue-11 operator check used 5,000.
"""

import argparse
import os
import random
import shutil
import subprocess
import sys
import tempfile
import time

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
EXAMPLES = ["echo", "json-transformer", "greet", "counter"]
TIMEOUT_S = 20

MANIFEST_KEYS = [
    ('name', ['"x"', '""', '"a b"', '"' + "n" * 300 + '"', "1", "[]"]),
    ('version', ['"1.0"', '"x"', '"99999999999999999999.0.0"', "1"]),
    ('wasm', ['"../../../etc/passwd"', '"/dev/zero"', '""', '"missing.wasm"', '"."']),
    ('sha256', ['"00"', '"' + "g" * 64 + '"', '"' + "0" * 64 + '"']),
    ('kind', ['"component"', '"wasi-http"', '"module"', '"nope"']),
]
TABLE_LINES = [
    "[limits]\ntimeout = \"500000000000y\"",
    "[limits]\ntimeout = \"-1s\"",
    "[limits]\nmemory = \"0\"",
    "[limits]\nmemory = \"99999999TiB\"",
    "[limits]\nstack = \"8MiB\"",
    "[limits]\nmax_module_size = \"1\"",
    "[limits]\nfuel = -5",
    "[limits]\nmax_input = \"1KiB\"",
    "[instances]\nmax = 0",
    "[instances]\nmin = 100000",
    "[instances]\nisolation = \"sometimes\"",
    "[capabilities]\nenv = [\"*\"]",
    "[capabilities]\nfs = [\"/:/\"]",
    "[capabilities]\nnet = [\"*:*\"]",
    "[breaker]\nfailure_threshold = 0",
    "[requires]\nwasmplug = \"^9\"",
    "[requires]\nwasmplug = \"not a range\"",
    "[config]\nkey = 1",
    "x = 1",
    "[[oops]]",
    "\x00\x01\x02",
    "[limits",
]


def mutate_bytes(data: bytes, rng: random.Random) -> bytes:
    data = bytearray(data)
    for _ in range(rng.randint(1, 8)):
        op = rng.random()
        if not data:
            data.extend(rng.randbytes(rng.randint(1, 16)))
        elif op < 0.45:
            i = rng.randrange(len(data))
            data[i] = rng.randrange(256)
        elif op < 0.6:
            del data[rng.randrange(len(data)):]
        elif op < 0.75:
            i = rng.randrange(len(data))
            data[i:i] = rng.randbytes(rng.randint(1, 64))
        elif op < 0.85:
            i = rng.randrange(len(data))
            del data[i:i + rng.randint(1, 256)]
        else:
            # A LEB128-looking huge length somewhere.
            i = rng.randrange(len(data))
            data[i:i + 5] = b"\xff\xff\xff\xff\x0f"
    return bytes(data)


def mutate_manifest(text: str, rng: random.Random) -> str:
    lines = text.splitlines()
    op = rng.random()
    if op < 0.4:
        key, values = rng.choice(MANIFEST_KEYS)
        lines = [l for l in lines if not l.startswith(key + " ")]
        lines.insert(0, f"{key} = {rng.choice(values)}")
    elif op < 0.8:
        lines.append(rng.choice(TABLE_LINES))
    elif lines:
        i = rng.randrange(len(lines))
        line = bytearray(lines[i].encode())
        if line:
            line[rng.randrange(len(line))] = rng.randrange(32, 127)
        lines[i] = line.decode(errors="replace")
    return "\n".join(lines) + "\n"


def run(wasmplug, args, cwd, stdin=b""):
    try:
        p = subprocess.run([wasmplug, *args], cwd=cwd, input=stdin, capture_output=True,
                           timeout=TIMEOUT_S)
    except subprocess.TimeoutExpired:
        return "hang", f"no exit within {TIMEOUT_S} s", None
    out = (p.stdout + p.stderr).decode(errors="replace")
    if p.returncode < 0:
        return "crash", f"killed by signal {-p.returncode}\n{out[-2000:]}", p.returncode
    if p.returncode == 101 or "panicked at" in out:
        return "panic", out[-2000:], p.returncode
    return "ok", "", p.returncode


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--count", type=int, default=500)
    ap.add_argument("--seed", type=int, default=11)
    ap.add_argument("--wasmplug", default=os.path.join(ROOT, "target/debug/wasmplug"))
    args = ap.parse_args()
    args.wasmplug = os.path.abspath(args.wasmplug)
    rng = random.Random(args.seed)
    work = tempfile.mkdtemp(prefix="wasmplug-malformed-")
    os.environ["WASMPLUG_CACHE_DIR"] = os.path.join(work, "cache")
    os.environ["WASMPLUG_DATA_DIR"] = os.path.join(work, "data")
    sources = {}
    for name in EXAMPLES:
        folder = os.path.join(ROOT, "examples/plugins", name)
        wasm = os.path.join(folder, f"{name}.wasm")
        if not os.path.isfile(wasm):
            sys.exit(f"{wasm} is missing: run scripts/build-guests.sh")
        with open(wasm, "rb") as f, open(os.path.join(folder, "plugin.toml")) as m:
            sources[name] = (f.read(), m.read())
    failures = []
    statuses = {}
    kinds = {"module": 0, "manifest": 0, "cli": 0}
    started = time.monotonic()
    for case in range(args.count):
        name = rng.choice(EXAMPLES)
        wasm, manifest = sources[name]
        folder = os.path.join(work, f"case-{case % 8}")
        shutil.rmtree(folder, ignore_errors=True)
        os.makedirs(folder)
        what = rng.random()
        if what < 0.55:
            kinds["module"] += 1
            path = os.path.join(folder, f"{name}.wasm")
            with open(path, "wb") as f:
                f.write(mutate_bytes(wasm, rng))
            with open(os.path.join(folder, "plugin.toml"), "w") as f:
                f.write(manifest)
            cmd = rng.choice([
                ["inspect", path],
                ["run", path, "echo", "--input", "x", "--timeout", "2s"],
                ["run", os.path.join(folder, "plugin.toml"), "echo", "--input", "x",
                 "--timeout", "2s"],
            ])
        elif what < 0.9:
            kinds["manifest"] += 1
            with open(os.path.join(folder, f"{name}.wasm"), "wb") as f:
                f.write(wasm)
            path = os.path.join(folder, "plugin.toml")
            with open(path, "w") as f:
                f.write(mutate_manifest(manifest, rng))
            cmd = rng.choice([["inspect", path],
                              ["run", path, "echo", "--input", "x", "--timeout", "2s"]])
        else:
            kinds["cli"] += 1
            path = os.path.join(ROOT, "examples/plugins", name, "plugin.toml")
            cmd = rng.choice([
                ["run", path, "echo", "--timeout", rng.choice(
                    ["500000000000y", "0", "-1s", "1ns", "x", "18446744073709551616ms"])],
                ["run", path, rng.choice(["", "\u00e9\u00e9", "x" * 5000, "_initialize",
                                          "allocate", "memory"])],
                ["run", path, "echo", "--input-file", rng.choice(
                    ["/dev/null", "/nonexistent", "/", "/proc/self/mem"])],
                ["bench", path, "echo", "--duration", rng.choice(["0s", "1ms", "x"])],
                ["inspect", rng.choice(["/dev/null", "/", "/proc/self/status", ""])],
                [rng.choice(["serve", "run", "inspect"]), "--" + "x" * rng.randint(1, 50)],
            ])
        outcome, detail, status = run(args.wasmplug, cmd, work)
        statuses[status] = statuses.get(status, 0) + 1
        if outcome != "ok":
            failures.append((case, outcome, cmd, detail))
            print(f"case {case} (seed {args.seed}): {outcome}: {' '.join(cmd)}\n{detail}",
                  file=sys.stderr)
    elapsed = time.monotonic() - started
    shutil.rmtree(work, ignore_errors=True)
    print(f"malformed inputs: {args.count} runs ({kinds['module']} modules, "
          f"{kinds['manifest']} manifests, {kinds['cli']} command lines) in {elapsed:.0f} s, "
          f"{len(failures)} crashes/panics/hangs; exit statuses: "
          + ", ".join(f"{k}: {v}" for k, v in sorted(statuses.items(), key=str)))
    sys.exit(1 if failures else 0)


if __name__ == "__main__":
    main()
