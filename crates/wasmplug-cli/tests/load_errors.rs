//! Error messages that serve every guest language (issue 12): load errors name the bytes
//! found and the fix for the toolchain at hand, and a trapping call still shows what the
//! guest wrote to stderr.

use std::path::Path;
use std::process::{Command, Output, Stdio};

fn wasmplug(args: &[&str], cwd: &Path) -> Output {
    Command::new(env!("CARGO_BIN_EXE_wasmplug"))
        .args(args)
        .current_dir(cwd)
        .env("WASMPLUG_CACHE_DIR", cwd.join("cache"))
        .stdin(Stdio::null())
        .output()
        .unwrap()
}

/// A module with the given custom sections (name, WAT string literal body) and, if
/// `producers` is set, a `producers` section naming that source language.
fn module(sections: &[(&str, &str)], producers: Option<&str>) -> Vec<u8> {
    let mut wat = String::from(
        r#"(module
          (memory (export "memory") 1)
          (func (export "allocate") (param i32) (result i32) i32.const 16)
          (func (export "deallocate") (param i32 i32))
          (func (export "echo") (param i32 i32) (result i64) i64.const 0)"#,
    );
    for (name, body) in sections {
        wat.push_str(&format!("\n(@custom \"{name}\" \"{body}\")"));
    }
    wat.push(')');
    let mut bytes = wat::parse_str(&wat).unwrap();
    if let Some(language) = producers {
        let mut field = wasm_encoder::ProducersField::new();
        field.value(language, "1");
        let mut section = wasm_encoder::ProducersSection::new();
        section.field("language", &field);
        let mut m = wasm_encoder::Module::new();
        m.section(&section);
        // A custom section may follow the others: append it without the module header.
        bytes.extend_from_slice(&m.finish()[8..]);
    }
    bytes
}

const ABI: (&str, &str) = ("wasmplug.abi", "\\01\\00\\00\\00");
const META: (&str, &str) = ("wasmplug.meta", r#"{\"name\":\"x\",\"version\":\"1.0.0\"}"#);
const FUNCTIONS: (&str, &str) = ("wasmplug.functions", "echo\\n");

/// `inspect` of the module: exit code and stderr.
fn inspect(bytes: &[u8]) -> (Option<i32>, String) {
    let tmp = tempfile::tempdir().unwrap();
    std::fs::write(tmp.path().join("m.wasm"), bytes).unwrap();
    let out = wasmplug(&["inspect", "m.wasm"], tmp.path());
    (
        out.status.code(),
        String::from_utf8_lossy(&out.stderr).into_owned(),
    )
}

#[test]
fn a_valid_module_loads() {
    let (code, err) = inspect(&module(&[ABI, META, FUNCTIONS], None));
    assert_eq!(code, Some(0), "{err}");
}

#[test]
fn a_short_abi_section_shows_its_bytes_without_blaming_a_rust_pdk() {
    let (code, err) = inspect(&module(&[("wasmplug.abi", "\\01"), META, FUNCTIONS], None));
    assert_eq!(code, Some(3), "{err}");
    assert!(err.contains("found 1 byte: [01]"), "{err}");
    assert!(!err.contains("PDK linked twice"), "{err}");
    let (_, err) = inspect(&module(
        &[
            ("wasmplug.abi", "\\01\\00\\00\\00\\01\\00\\00\\00"),
            META,
            FUNCTIONS,
        ],
        None,
    ));
    assert!(
        err.contains("found 8 bytes") && err.contains("two copies"),
        "{err}"
    );
}

#[test]
fn the_invalid_plugin_prefix_is_not_doubled() {
    let (_, err) = inspect(&module(&[META, FUNCTIONS], None));
    assert_eq!(
        err.matches("not a valid wasmplug plugin").count(),
        1,
        "{err}"
    );
}

#[test]
fn missing_sections_suggest_the_fix_for_the_language_at_hand() {
    for (language, fix) in [
        (Some("C11"), "WASMPLUG_PLUGIN"),
        (Some("Rust"), "plugin_meta!"),
        (Some("Zig"), "wasmplug.plugin"),
        (None, "wasmplug build"),
    ] {
        let (code, err) = inspect(&module(&[], language));
        assert_eq!(code, Some(3), "{err}");
        assert!(err.contains(fix), "{language:?}: expected `{fix}` in {err}");
    }
    // Without a hint, every language's fix is listed.
    let (_, err) = inspect(&module(&[], None));
    assert!(
        err.contains("plugin_meta!")
            && err.contains("WASMPLUG_PLUGIN")
            && err.contains("Go, AssemblyScript"),
        "{err}"
    );
}

#[test]
fn a_name_ending_in_nul_is_shown_and_called_a_nul() {
    let (code, err) = inspect(&module(
        &[ABI, META, ("wasmplug.functions", "echo\\00")],
        None,
    ));
    assert_eq!(code, Some(3), "{err}");
    assert!(err.contains(r#"found "echo\0""#), "{err}");
    assert!(err.contains("NUL byte (0x00)"), "{err}");
}

#[test]
fn a_trailing_nul_in_the_metadata_is_called_a_nul() {
    let meta = r#"{\"name\":\"x\",\"version\":\"1.0.0\"}\00"#;
    let (code, err) = inspect(&module(&[ABI, ("wasmplug.meta", meta), FUNCTIONS], None));
    assert_eq!(code, Some(3), "{err}");
    assert!(
        err.contains("NUL byte (0x00)") && err.contains(r#"{\"name\":\"x\""#),
        "{err}"
    );
}

#[test]
fn the_abi_version_error_names_no_rust_crate() {
    let (code, err) = inspect(&module(
        &[("wasmplug.abi", "\\07\\00\\00\\00"), META, FUNCTIONS],
        None,
    ));
    assert_eq!(code, Some(3), "{err}");
    assert!(err.contains("ABI version 7 is not supported"), "{err}");
    assert!(!err.contains("wasmplug-pdk"), "{err}");
}

#[test]
fn a_trapping_call_still_shows_the_guest_stderr() {
    // Writes "panic: went wrong\n" to stderr (fd 2), then traps, as a Go guest's runtime does.
    let wat = r#"(module
      (import "wasi_snapshot_preview1" "fd_write" (func $fd_write (param i32 i32 i32 i32) (result i32)))
      (memory (export "memory") 1)
      (func (export "allocate") (param i32) (result i32) i32.const 1024)
      (func (export "deallocate") (param i32 i32))
      (func (export "crash") (param i32 i32) (result i64)
        (i32.store (i32.const 0) (i32.const 100))
        (i32.store (i32.const 4) (i32.const 18))
        (drop (call $fd_write (i32.const 2) (i32.const 0) (i32.const 1) (i32.const 8)))
        unreachable)
      (data (i32.const 100) "panic: went wrong\n")
      (@custom "wasmplug.abi" "\01\00\00\00")
      (@custom "wasmplug.meta" "{\"name\":\"crash\",\"version\":\"1.0.0\"}")
      (@custom "wasmplug.functions" "crash\n"))"#;
    let tmp = tempfile::tempdir().unwrap();
    std::fs::write(tmp.path().join("crash.wat"), wat).unwrap();
    let out = wasmplug(&["run", "crash.wat", "crash"], tmp.path());
    let err = String::from_utf8_lossy(&out.stderr);
    assert_eq!(out.status.code(), Some(4), "{err}");
    assert!(
        err.starts_with("panic: went wrong\n"),
        "guest stderr first: {err}"
    );
    assert!(err.contains("plugin trapped in `crash`"), "{err}");
}

/// The ABI exports and sections around `extra` (imports, memories, tables).
fn plugin_wat(extra: &str, memory: &str) -> String {
    format!(
        r#"(module {extra}
          (memory (export "memory") {memory})
          (func (export "allocate") (param i32) (result i32) i32.const 16)
          (func (export "deallocate") (param i32 i32))
          (func (export "echo") (param i32 i32) (result i64) i64.const 0)
          (@custom "wasmplug.abi" "\01\00\00\00")
          (@custom "wasmplug.meta" "{{\"name\":\"x\",\"version\":\"1.0.0\"}}")
          (@custom "wasmplug.functions" "echo\n"))"#
    )
}

/// `inspect` and `run` of one module file: (inspect's code, its stderr, run's code, its
/// stderr).
fn inspect_and_run(file: &str, text: &str) -> (Option<i32>, String, Option<i32>, String) {
    let tmp = tempfile::tempdir().unwrap();
    std::fs::write(tmp.path().join(file), text).unwrap();
    let inspect = wasmplug(&["inspect", file], tmp.path());
    let run = wasmplug(&["run", file, "echo"], tmp.path());
    let text = |o: &Output| String::from_utf8_lossy(&o.stderr).into_owned();
    (
        inspect.status.code(),
        text(&inspect),
        run.status.code(),
        text(&run),
    )
}

#[test]
fn issue11_inspect_refuses_what_run_refuses_without_running_code() {
    let cases = [
        (
            "unknown import",
            plugin_wat(r#"(import "evil" "f" (func))"#, "1"),
            "unsupported import `evil::f`",
        ),
        (
            "missing WASI function",
            plugin_wat(r#"(import "wasi_snapshot_preview1" "no_such" (func))"#, "1"),
            "`wasi_snapshot_preview1::no_such` has not been defined",
        ),
        (
            "mistyped WASI function",
            plugin_wat(
                r#"(import "wasi_snapshot_preview1" "fd_write" (func (param i32)))"#,
                "1",
            ),
            "the module imports `wasi_snapshot_preview1::fd_write` as `(func (param i32))`, but the host defines it as `(func (param i32 i32 i32 i32) (result i32))`",
        ),
        (
            "shared memory",
            plugin_wat("", "1 1 shared"),
            "threads must be enabled for shared memories",
        ),
        (
            "two memories",
            plugin_wat("(memory 1)", "1"),
            "does not fit this host's instance pool (defined memories count of 2",
        ),
        (
            "table over the pool's element cap",
            plugin_wat("(table 2000000 funcref)", "1"),
            "does not fit this host's instance pool (table index 0 has a minimum element size of 2000000",
        ),
    ];
    for (what, text, expected) in cases {
        let (inspect_code, inspect_err, run_code, run_err) = inspect_and_run("m.wat", &text);
        assert_eq!(inspect_code, Some(3), "{what}: inspect: {inspect_err}");
        assert_eq!(run_code, Some(3), "{what}: run: {run_err}");
        assert!(
            inspect_err.contains(expected),
            "{what}: inspect: {inspect_err}"
        );
        assert!(run_err.contains(expected), "{what}: run: {run_err}");
        assert!(
            !inspect_err.contains("rebuild the plugin for `wasm32-wasip1`")
                || what == "shared memory",
            "{what}: a pool or link limit is not a target problem: {inspect_err}"
        );
    }
    // The healthy neighbour: the same module without the defect is valid for both.
    let (inspect_code, err, run_code, run_err) = inspect_and_run("m.wat", &plugin_wat("", "1"));
    assert_eq!(
        (inspect_code, run_code),
        (Some(0), Some(0)),
        "{err} {run_err}"
    );
}

#[test]
fn issue11_inspect_checks_the_manifest_against_the_module() {
    let tmp = tempfile::tempdir().unwrap();
    std::fs::write(tmp.path().join("m.wat"), plugin_wat("", "1")).unwrap();
    let manifest =
        |name: &str| format!("name = \"{name}\"\nversion = \"1.0.0\"\nwasm = \"m.wat\"\n");
    std::fs::write(tmp.path().join("ok.toml"), manifest("x")).unwrap();
    std::fs::write(tmp.path().join("bad.toml"), manifest("y")).unwrap();
    let ok = wasmplug(&["inspect", "ok.toml"], tmp.path());
    assert_eq!(ok.status.code(), Some(0), "{ok:?}");
    let bad = wasmplug(&["inspect", "bad.toml"], tmp.path());
    let err = String::from_utf8_lossy(&bad.stderr);
    assert_eq!(bad.status.code(), Some(3), "{err}");
    assert!(
        err.contains("the manifest says `y` 1.0.0 but the module declares `x` 1.0.0"),
        "{err}"
    );
}

#[test]
fn issue11_a_cache_dir_that_is_a_file_is_named_as_such() {
    let tmp = tempfile::tempdir().unwrap();
    std::fs::write(tmp.path().join("m.wat"), plugin_wat("", "1")).unwrap();
    std::fs::write(tmp.path().join("cache-file"), b"").unwrap();
    let out = wasmplug(
        &["run", "m.wat", "echo", "--cache-dir", "cache-file"],
        tmp.path(),
    );
    let err = String::from_utf8_lossy(&out.stderr);
    // The cache is an optimisation: the call still works, and the warning says why not.
    assert_eq!(out.status.code(), Some(0), "{err}");
    assert!(
        err.contains("the cache directory `cache-file` is not a directory"),
        "{err}"
    );
    assert!(!err.contains("os error 17"), "{err}");
}
