//! Plugins written from `docs/abi.md` and `docs/guests/<lang>.md` alone, without a guest
//! kit (`tests/guests/from-docs/`): built with the commands the pages give (C and Zig
//! write their own custom sections; Go and AssemblyScript get them from `wasmplug build`),
//! then called. `WASMPLUG_SKIP_LANGS=go,zig` skips languages locally.

use std::path::{Path, PathBuf};
use std::process::{Command, Output, Stdio};

/// The repository root.
fn root() -> std::path::PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("../..")
        .canonicalize()
        .unwrap()
}

fn toolchains() -> PathBuf {
    std::env::var_os("WASMPLUG_TOOLCHAINS")
        .map(PathBuf::from)
        .unwrap_or_else(|| root().join("target/toolchains"))
}

fn run(program: &Path, args: &[&str], cwd: &Path) -> Output {
    let out = Command::new(program)
        .args(args)
        .current_dir(cwd)
        .env("WASMPLUG_CACHE_DIR", cwd.join("cache"))
        .env("GOPROXY", "off")
        .env("GOTOOLCHAIN", "local")
        .stdin(Stdio::null())
        .output()
        .unwrap_or_else(|e| panic!("cannot run {}: {e}", program.display()));
    assert!(
        out.status.success() || program.ends_with("wasmplug"),
        "{} {args:?} failed: {}",
        program.display(),
        String::from_utf8_lossy(&out.stderr)
    );
    out
}

/// Copies `tests/guests/from-docs/<lang>` to a temporary folder.
fn fixture(lang: &str) -> tempfile::TempDir {
    let tmp = tempfile::tempdir().unwrap();
    let src = root().join("tests/guests/from-docs").join(lang);
    for entry in std::fs::read_dir(&src).unwrap().flatten() {
        std::fs::copy(entry.path(), tmp.path().join(entry.file_name())).unwrap();
    }
    tmp
}

/// Calls `shout` of `plugin` (a module or manifest in `dir`): upper-cases, and an empty
/// input is error value 7.
fn shouts(plugin: &str, dir: &Path) {
    let wasmplug = Path::new(env!("CARGO_BIN_EXE_wasmplug"));
    let out = run(
        wasmplug,
        &["run", plugin, "shout", "--input", "hello, docs"],
        dir,
    );
    assert_eq!(
        String::from_utf8_lossy(&out.stdout),
        "HELLO, DOCS",
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let out = run(wasmplug, &["run", plugin, "shout", "--input", ""], dir);
    assert_eq!(out.status.code(), Some(4));
    assert!(String::from_utf8_lossy(&out.stderr).contains("nothing to shout (code 7)"));
}

fn skipped(lang: &str) -> bool {
    let skip = std::env::var("WASMPLUG_SKIP_LANGS").unwrap_or_default();
    skip.split(',').any(|s| s.trim() == lang)
}

#[test]
fn c_from_the_docs() {
    if skipped("c") {
        return;
    }
    let tmp = fixture("c");
    let args = [
        "--target=wasm32-wasi",
        "-mexec-model=reactor",
        "-O2",
        "-Wl,--strip-debug",
        "-o",
        "shout.wasm",
        "shout.c",
    ];
    run(Path::new("clang"), &args, tmp.path());
    shouts("shout.wasm", tmp.path());
}

#[test]
fn zig_from_the_docs() {
    if skipped("zig") {
        return;
    }
    let tmp = fixture("zig");
    let zig = toolchains().join("zig/ziglang/zig");
    let args = [
        "build-exe",
        "shout.zig",
        "-target",
        "wasm32-wasi",
        "-fno-entry",
        "-rdynamic",
        "-O",
        "ReleaseSmall",
        "--stack",
        "1048576",
        "-femit-bin=shout.wasm",
    ];
    run(&zig, &args, tmp.path());
    shouts("shout.wasm", tmp.path());
}

#[test]
fn go_from_the_docs() {
    if skipped("go") {
        return;
    }
    let tmp = fixture("go");
    let wasmplug = Path::new(env!("CARGO_BIN_EXE_wasmplug"));
    let out = run(wasmplug, &["build", "."], tmp.path());
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    shouts("plugin.toml", tmp.path());
}

#[test]
fn assemblyscript_from_the_docs() {
    if skipped("assemblyscript") {
        return;
    }
    let tmp = fixture("assemblyscript");
    let wasmplug = Path::new(env!("CARGO_BIN_EXE_wasmplug"));
    let out = run(wasmplug, &["build", "."], tmp.path());
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    shouts("plugin.toml", tmp.path());
}
