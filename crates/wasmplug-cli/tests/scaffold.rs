//! `wasmplug new` and `wasmplug build`: every language's scaffold is generated into a
//! temporary folder, built offline with the toolchains of `scripts/toolchains.sh`
//! (`$WASMPLUG_TOOLCHAINS`, else this checkout's `target/toolchains`), and run. A missing
//! toolchain fails the test; set `WASMPLUG_SKIP_LANGS=go,zig` to skip languages locally.

use std::path::Path;
use std::process::{Command, Output, Stdio};

/// The repository root.
fn root() -> std::path::PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("../..")
        .canonicalize()
        .unwrap()
}

fn wasmplug(args: &[&str], cwd: &Path, envs: &[(&str, &str)]) -> Output {
    Command::new(env!("CARGO_BIN_EXE_wasmplug"))
        .args(args)
        .current_dir(cwd)
        .env("WASMPLUG_CACHE_DIR", cwd.join("cache"))
        .env("WASMPLUG_DATA_DIR", cwd.join("data"))
        // Offline: no registry, module proxy or toolchain download during a build.
        .env("CARGO_NET_OFFLINE", "true")
        .env("GOPROXY", "off")
        .env("GOTOOLCHAIN", "local")
        .env("npm_config_offline", "true")
        .envs(envs.iter().copied())
        .stdin(Stdio::null())
        .output()
        .unwrap()
}

fn text(bytes: &[u8]) -> String {
    String::from_utf8_lossy(bytes).into_owned()
}

fn skipped(lang: &str) -> bool {
    let skip = std::env::var("WASMPLUG_SKIP_LANGS").unwrap_or_default();
    let hit = skip.split(',').any(|s| s.trim() == lang);
    if hit {
        eprintln!("{lang}: skipped (WASMPLUG_SKIP_LANGS={skip})");
    }
    hit
}

/// `wasmplug new demo --lang <lang>`, `wasmplug build`, `wasmplug run ... greet`.
fn scaffold_builds_and_runs(lang: &str, envs: &[(&str, &str)]) -> tempfile::TempDir {
    let tmp = tempfile::tempdir().unwrap();
    let cwd = tmp.path();
    let out = wasmplug(&["new", "demo", "--lang", lang, "--dir", "proj"], cwd, envs);
    assert!(out.status.success(), "new: {}", text(&out.stderr));
    assert!(
        text(&out.stdout).contains("wasmplug build proj"),
        "{}",
        text(&out.stdout)
    );
    let readme = std::fs::read_to_string(cwd.join("proj/README.md")).unwrap();
    assert!(
        readme.contains("wasmplug build .") && readme.contains("wasmplug run plugin.toml greet"),
        "the README says the two commands: {readme}"
    );

    let out = wasmplug(&["build", "proj"], cwd, envs);
    assert!(
        out.status.success(),
        "build failed:\n{}\n{}",
        text(&out.stdout),
        text(&out.stderr)
    );
    let stdout = text(&out.stdout);
    assert!(
        stdout.contains("built proj/demo.wasm") && stdout.contains("demo 0.1.0, functions greet"),
        "{stdout}"
    );

    let run = |args: &[&str]| {
        let mut all = vec!["run", "proj/plugin.toml", "greet"];
        all.extend_from_slice(args);
        wasmplug(&all, cwd, envs)
    };
    let out = run(&["--input", " world "]);
    assert!(out.status.success(), "run: {}", text(&out.stderr));
    assert_eq!(text(&out.stdout), "Hello, world!");
    let out = run(&["--input", "world", "--config", "greeting=Hej"]);
    assert_eq!(text(&out.stdout), "Hej, world!", "{}", text(&out.stderr));
    let out = run(&["--input", ""]);
    assert_eq!(out.status.code(), Some(4));
    assert!(
        text(&out.stderr).contains("name must not be empty (code 1)"),
        "{}",
        text(&out.stderr)
    );
    tmp
}

#[test]
fn go_scaffold_builds_and_runs() {
    if !skipped("go") {
        let tmp = scaffold_builds_and_runs("go", &[]);
        // The Go scaffold reuses instances (the Go runtime's start-up is per instance).
        let manifest = std::fs::read_to_string(tmp.path().join("proj/plugin.toml")).unwrap();
        assert!(manifest.contains("isolation = \"reuse\""), "{manifest}");
    }
}

#[test]
fn c_scaffold_builds_and_runs_and_its_macros_make_real_custom_sections() {
    if skipped("c") {
        return;
    }
    let tmp = scaffold_builds_and_runs("c", &[]);
    // Compiled by clang alone, without `wasmplug build`: the sections come from the
    // header's macros and must be custom sections, not data.
    let proj = tmp.path().join("proj");
    let clang = Command::new("clang")
        .args([
            "--target=wasm32-wasi",
            "-mexec-model=reactor",
            "-O2",
            "-o",
            "by-clang.wasm",
            "plugin.c",
        ])
        .current_dir(&proj)
        .output()
        .unwrap();
    assert!(clang.status.success(), "{}", text(&clang.stderr));
    let out = wasmplug(
        &["inspect", "--json", "proj/by-clang.wasm"],
        tmp.path(),
        &[],
    );
    assert!(out.status.success(), "{}", text(&out.stderr));
    let report: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!(report["meta"]["name"], "demo", "{report}");
    assert_eq!(report["functions"], serde_json::json!(["greet"]));
    let out = wasmplug(
        &["run", "proj/by-clang.wasm", "greet", "--input", "C"],
        tmp.path(),
        &[],
    );
    assert_eq!(text(&out.stdout), "Hello, C!", "{}", text(&out.stderr));
}

#[test]
fn zig_scaffold_builds_and_runs() {
    if !skipped("zig") {
        scaffold_builds_and_runs("zig", &[]);
    }
}

#[test]
fn assemblyscript_scaffold_builds_and_runs() {
    if !skipped("assemblyscript") {
        scaffold_builds_and_runs("assemblyscript", &[]);
    }
}

#[test]
fn rust_scaffold_builds_and_runs() {
    if !skipped("rust") {
        // Shares the example guests' target folder, so the PDK's dependencies are reused.
        let target = root().join("target/guests");
        scaffold_builds_and_runs("rust", &[("CARGO_TARGET_DIR", target.to_str().unwrap())]);
    }
}

#[test]
fn build_writes_the_manifest_into_the_module() {
    if skipped("c") {
        return;
    }
    let tmp = scaffold_builds_and_runs("c", &[]);
    let manifest = tmp.path().join("proj/plugin.toml");
    let text_before = std::fs::read_to_string(&manifest).unwrap();
    std::fs::write(
        &manifest,
        text_before
            .replace("version = \"0.1.0\"", "version = \"0.2.0\"")
            .replace("lang = \"c\"", "lang = \"c\"\nfunctions = [\"greet\"]"),
    )
    .unwrap();
    let out = wasmplug(&["build", "proj"], tmp.path(), &[]);
    assert!(out.status.success(), "{}", text(&out.stderr));
    let out = wasmplug(&["inspect", "--json", "proj/plugin.toml"], tmp.path(), &[]);
    let report: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!(report["meta"]["version"], "0.2.0", "{report}");

    // A function list naming a function the module does not export is refused.
    std::fs::write(
        &manifest,
        text_before.replace("lang = \"c\"", "lang = \"c\"\nfunctions = [\"nope\"]"),
    )
    .unwrap();
    let out = wasmplug(&["build", "proj"], tmp.path(), &[]);
    assert_eq!(out.status.code(), Some(3), "{}", text(&out.stderr));
    assert!(
        text(&out.stderr).contains("`nope`"),
        "{}",
        text(&out.stderr)
    );
}

#[test]
fn a_missing_toolchain_says_how_to_install_it() {
    let tmp = tempfile::tempdir().unwrap();
    for (lang, hint) in [
        ("go", "scripts/toolchains.sh go"),
        ("zig", "scripts/toolchains.sh zig"),
    ] {
        let dir = format!("p-{lang}");
        let out = wasmplug(
            &["new", "demo", "--lang", lang, "--dir", &dir],
            tmp.path(),
            &[],
        );
        assert!(out.status.success());
        let out = wasmplug(
            &["build", &dir],
            tmp.path(),
            &[
                ("WASMPLUG_TOOLCHAINS", "/nonexistent"),
                ("PATH", "/nonexistent"),
            ],
        );
        let err = text(&out.stderr);
        assert_eq!(out.status.code(), Some(1), "{err}");
        assert!(
            err.contains(&format!("the {lang} toolchain was not found")) && err.contains(hint),
            "{err}"
        );
    }
}

#[test]
fn new_refuses_bad_names_unknown_languages_and_non_empty_folders() {
    let tmp = tempfile::tempdir().unwrap();
    let out = wasmplug(&["new", "Bad Name", "--lang", "c"], tmp.path(), &[]);
    assert_eq!(out.status.code(), Some(1));
    assert!(
        text(&out.stderr).contains("is not a plugin name"),
        "{}",
        text(&out.stderr)
    );
    let out = wasmplug(&["new", "demo", "--lang", "cobol"], tmp.path(), &[]);
    assert_eq!(out.status.code(), Some(2));
    assert!(
        text(&out.stderr).contains("unknown language `cobol`"),
        "{}",
        text(&out.stderr)
    );
    std::fs::create_dir(tmp.path().join("full")).unwrap();
    std::fs::write(tmp.path().join("full/x"), "").unwrap();
    let out = wasmplug(
        &["new", "demo", "--lang", "c", "--dir", "full"],
        tmp.path(),
        &[],
    );
    assert!(
        text(&out.stderr).contains("already exists and is not empty"),
        "{}",
        text(&out.stderr)
    );
    assert_eq!(
        std::fs::read_dir(tmp.path().join("full")).unwrap().count(),
        1,
        "nothing written"
    );
}
