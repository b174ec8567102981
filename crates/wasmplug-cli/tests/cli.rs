//! The `wasmplug` binary: output, exit codes and error messages, run as a user would.

use std::io::Read;
use std::path::Path;
use std::process::{Command, Output, Stdio};
use std::sync::OnceLock;

mod common;
use common::{built, root};

const LOAD_ERROR: i32 = 3;
const CALL_ERROR: i32 = 4;

fn wat(name: &str) -> String {
    root()
        .join("tests/guests/wat")
        .join(format!("{name}.wat"))
        .display()
        .to_string()
}

/// A compiled-module cache directory for this test run (not the user's ~/.cache).
fn cache_dir() -> &'static Path {
    static DIR: OnceLock<tempfile::TempDir> = OnceLock::new();
    DIR.get_or_init(|| tempfile::tempdir().unwrap()).path()
}

fn wasmplug(args: &[&str]) -> Output {
    Command::new(env!("CARGO_BIN_EXE_wasmplug"))
        .args(args)
        .env("WASMPLUG_CACHE_DIR", cache_dir())
        .current_dir(root())
        .stdin(Stdio::null())
        .output()
        .unwrap()
}

fn stderr(out: &Output) -> String {
    String::from_utf8_lossy(&out.stderr).into_owned()
}

/// Asserts a failure with `code` whose stderr contains `needle` and no host panic.
fn assert_fails(out: &Output, code: i32, needle: &str) {
    let err = stderr(out);
    assert_eq!(out.status.code(), Some(code), "stderr: {err}");
    assert!(err.contains(needle), "expected `{needle}` in stderr: {err}");
    assert!(
        !err.contains("thread 'main' panicked"),
        "host panicked: {err}"
    );
    assert!(out.stdout.is_empty(), "nothing on stdout on failure");
}

#[test]
fn run_prints_the_json_transformer_result() {
    built();
    let out = wasmplug(&[
        "run",
        "examples/plugins/json-transformer/plugin.toml",
        "execute",
        "--input",
        r#"{"request_id":"req-001","headers":{},"parameters":{"action":"transform"}}"#,
    ]);
    assert!(out.status.success(), "{}", stderr(&out));
    let v: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!(
        v,
        serde_json::json!({"success": true, "data": {"action": "transform", "_request_id": "req-001", "_processed": true}})
    );
}

#[test]
fn run_reads_input_from_stdin_and_files() {
    let mut child = Command::new(env!("CARGO_BIN_EXE_wasmplug"))
        .args(["run", &wat("echo"), "greet"])
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .spawn()
        .unwrap();
    std::io::Write::write_all(child.stdin.as_mut().unwrap(), b"stdin").unwrap();
    let out = child.wait_with_output().unwrap();
    assert_eq!(out.stdout, b"Hello, stdin!");

    let dir = tempfile::tempdir().unwrap();
    let file = dir.path().join("input.bin");
    std::fs::write(&file, b"file").unwrap();
    let out = wasmplug(&[
        "run",
        &wat("echo"),
        "greet",
        "--input-file",
        file.to_str().unwrap(),
    ]);
    assert_eq!(out.stdout, b"Hello, file!");
    let out = wasmplug(&[
        "run",
        &wat("echo"),
        "greet",
        "--input-file",
        "/no/such/input",
    ]);
    assert_fails(&out, 1, "cannot read input file `/no/such/input`");
}

#[test]
fn run_passes_config_to_init() {
    built();
    let out = wasmplug(&[
        "run",
        "examples/plugins/greet/plugin.toml",
        "greet",
        "-i",
        "Ada",
        "--config",
        "greeting=Howdy",
    ]);
    assert_eq!(
        String::from_utf8_lossy(&out.stdout),
        "Howdy, Ada!",
        "{}",
        stderr(&out)
    );
}

#[test]
fn inspect_json_lists_functions_without_running_the_plugin() {
    built();
    // init-fails refuses to initialise without config: inspect must not run it.
    let out = wasmplug(&["inspect", &wat("init-fails"), "--json"]);
    assert!(out.status.success(), "{}", stderr(&out));
    let v: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!(v["valid"], true);
    assert_eq!(v["functions"], serde_json::json!(["config"]));

    let out = wasmplug(&[
        "inspect",
        "examples/plugins/json-transformer/plugin.toml",
        "--json",
    ]);
    let v: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!(v["meta"]["name"], "json-transformer");
    assert_eq!(v["meta"]["version"], "1.0.0");
    assert_eq!(v["abi_version"], 1);
    assert_eq!(v["functions"], serde_json::json!(["execute"]));
    let exports = v["exports"].as_array().unwrap();
    assert!(exports.contains(
        &serde_json::json!({"name": "wasmplug:execute", "ty": "func (i32, i32) -> i64"})
    ));
    assert!(
        v["imports"]
            .as_array()
            .unwrap()
            .iter()
            .any(|i| i["module"] == "wasmplug" && i["name"] == "set_error")
    );
    assert_eq!(v["memories"][0]["maximum_pages"], serde_json::Value::Null);
    assert!(v["size"].as_u64().unwrap() > 1000);
}

#[test]
fn inspect_text_shows_why_a_module_is_not_a_plugin() {
    let out = wasmplug(&["inspect", &wat("no-allocate")]);
    assert_eq!(out.status.code(), Some(LOAD_ERROR));
    let text = String::from_utf8_lossy(&out.stdout);
    assert!(
        text.contains("valid        no: missing export `allocate`"),
        "{text}"
    );
    assert!(text.contains("run  "), "exports listed: {text}");
    let out = wasmplug(&["inspect", &wat("future-abi"), "--json"]);
    let v: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!(v["valid"], false);
    assert_eq!(v["error"]["class"], "abi_version_mismatch");
}

#[test]
fn each_malformed_fixture_has_its_own_error_class_and_exit_code() {
    let dir = tempfile::tempdir().unwrap();
    let garbage = dir.path().join("garbage.wasm");
    std::fs::write(&garbage, b"\x7fELF not wasm").unwrap();
    let truncated = dir.path().join("truncated.wasm");
    let full = wat::parse_file(wat("echo")).unwrap();
    std::fs::write(&truncated, &full[..full.len() / 2]).unwrap();
    let g = garbage.to_str().unwrap();
    let t = truncated.to_str().unwrap();
    let cases: &[(&[&str], i32, &str)] = &[
        (&["run", g, "x"], LOAD_ERROR, "bad magic number"),
        (&["run", t, "x"], LOAD_ERROR, "invalid wasm in the"),
        (
            &["run", &wat("no-allocate"), "run"],
            LOAD_ERROR,
            "missing export `allocate`",
        ),
        (
            &["run", &wat("future-abi"), "run"],
            LOAD_ERROR,
            "ABI version 2 is not supported",
        ),
        (
            &["run", "/no/such/plugin.wasm", "x"],
            LOAD_ERROR,
            "file not found",
        ),
        (
            &["run", &wat("misbehave"), "oob_ptr"],
            CALL_ERROR,
            "out of bounds in `oob_ptr`",
        ),
        (
            &["run", &wat("misbehave"), "wrap"],
            CALL_ERROR,
            "at 4294967280+32",
        ),
        (
            &["run", &wat("misbehave"), "nested_trap"],
            CALL_ERROR,
            "unreachable executed",
        ),
        (
            &["run", &wat("echo"), "fail"],
            CALL_ERROR,
            "invalid input (code 42)",
        ),
        (
            &["run", &wat("echo"), "nope"],
            CALL_ERROR,
            "no function `nope`; available: echo, greet, fail",
        ),
        (
            &["run", &wat("init-fails"), "config"],
            LOAD_ERROR,
            "missing config `ok` (code 3)",
        ),
    ];
    for (args, code, needle) in cases {
        assert_fails(&wasmplug(args), *code, needle);
    }
}

#[test]
fn trap_shows_the_demangled_backtrace_and_panic_text() {
    built();
    let probe = root().join("target/guests/wasm/pdk-probe.wasm");
    let out = wasmplug(&["run", probe.to_str().unwrap(), "panic", "--input", "cli"]);
    assert_fails(&out, CALL_ERROR, "boom: cli");
    assert!(stderr(&out).contains("wasm backtrace:"));
    assert!(
        stderr(&out).contains("wasmplug_pdk::host::panic"),
        "{}",
        stderr(&out)
    );
}

#[test]
fn usage_errors_exit_with_2() {
    assert_eq!(wasmplug(&["run"]).status.code(), Some(2));
    assert_eq!(wasmplug(&["frobnicate"]).status.code(), Some(2));
    assert_eq!(
        wasmplug(&["run", "x.wasm", "f", "--input", "a", "--input-file", "b"])
            .status
            .code(),
        Some(2)
    );
}

#[test]
fn closed_stdout_is_not_an_error() {
    let dir = tempfile::tempdir().unwrap();
    let input = dir.path().join("big");
    std::fs::write(&input, vec![b'x'; 2 << 20]).unwrap();
    let mut child = Command::new(env!("CARGO_BIN_EXE_wasmplug"))
        .args([
            "run",
            &wat("echo"),
            "echo",
            "--input-file",
            input.to_str().unwrap(),
        ])
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    let mut first = [0u8; 1];
    child
        .stdout
        .as_mut()
        .unwrap()
        .read_exact(&mut first)
        .unwrap();
    drop(child.stdout.take());
    let status = child.wait().unwrap();
    assert_eq!(status.code(), Some(0), "broken pipe exits 0");
}

fn probe() -> String {
    built()
        .join("target/guests/wasm/pdk-probe.wasm")
        .display()
        .to_string()
}

#[test]
fn allow_flags_grant_env_and_directories() {
    let probe = probe();
    let out = wasmplug(&["run", &probe, "env", "-i", "GREETING"]);
    assert_fails(&out, CALL_ERROR, "no variable GREETING");
    let out = wasmplug(&[
        "run",
        &probe,
        "env",
        "-i",
        "GREETING",
        "--allow-env",
        "GREETING=hi",
    ]);
    assert_eq!(out.stdout, b"hi", "{}", stderr(&out));

    let dir = tempfile::tempdir().unwrap();
    std::fs::write(dir.path().join("note.txt"), "granted").unwrap();
    let mount = format!("{}:/data:ro", dir.path().display());
    let out = wasmplug(&["run", &probe, "read", "-i", "/data/note.txt"]);
    assert_fails(&out, CALL_ERROR, "/data/note.txt");
    let out = wasmplug(&[
        "run",
        &probe,
        "read",
        "-i",
        "/data/note.txt",
        "--allow-fs",
        &mount,
    ]);
    assert_eq!(out.stdout, b"granted", "{}", stderr(&out));
    let out = wasmplug(&[
        "run",
        &probe,
        "write",
        "-i",
        "/data/x\ny",
        "--allow-fs",
        &mount,
    ]);
    assert_fails(&out, CALL_ERROR, "/data/x");
    assert_eq!(
        wasmplug(&["run", &probe, "env", "--allow-fs", "a:b:c:d"])
            .status
            .code(),
        Some(2),
        "bad flag value is a usage error"
    );
}

#[test]
fn guest_stdout_goes_to_stderr_and_output_to_stdout() {
    let out = wasmplug(&["run", &probe(), "print", "-i", "chatty"]);
    assert!(out.status.success(), "{}", stderr(&out));
    assert_eq!(out.stdout, b"printed");
    assert!(
        stderr(&out).contains("chatty\nerr: chatty\n"),
        "{}",
        stderr(&out)
    );
}

#[test]
fn limit_flags_apply_to_the_call() {
    let misbehave = wat("misbehave");
    assert_fails(
        &wasmplug(&["run", &misbehave, "spin", "--timeout", "100ms"]),
        CALL_ERROR,
        "timed out: the `timeout` limit is 100ms",
    );
    assert_fails(
        &wasmplug(&["run", &misbehave, "spin", "--fuel", "5000"]),
        CALL_ERROR,
        "ran out of fuel after 5000 units",
    );
    assert_fails(
        &wasmplug(&["run", &wat("echo"), "echo", "--memory", "32KiB"]),
        LOAD_ERROR,
        "over the memory limit of 32768 bytes",
    );
    let out = wasmplug(&[
        "run",
        &probe(),
        "alloc",
        "-i",
        "50000000",
        "--memory",
        "16MiB",
    ]);
    assert_fails(
        &out,
        CALL_ERROR,
        "exceeded the memory limit of 16777216 bytes",
    );
    assert_eq!(
        wasmplug(&["run", &misbehave, "spin", "--timeout", "soon"])
            .status
            .code(),
        Some(2)
    );
}

#[test]
fn inspect_shows_the_effective_grants_and_limits() {
    built();
    let out = wasmplug(&[
        "inspect",
        "examples/plugins/greet/plugin.toml",
        "--json",
        "--allow-env",
        "TOKEN=secret-value",
        "--allow-net",
        "https://*.example.com",
        "--memory",
        "8MiB",
    ]);
    assert!(out.status.success(), "{}", stderr(&out));
    let v: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!(
        v["grants"]["env"],
        serde_json::json!(["TOKEN=<value>"]),
        "values are not printed"
    );
    assert_eq!(
        v["grants"]["net"],
        serde_json::json!(["https://*.example.com:443"])
    );
    assert_eq!(v["grants"]["fs"], serde_json::json!([]));
    assert_eq!(v["limits"]["memory"], 8 * 1024 * 1024);
    assert_eq!(v["limits"]["timeout"], "5s");
    assert!(!String::from_utf8_lossy(&out.stdout).contains("secret-value"));
}

#[test]
fn second_run_loads_from_the_compiled_module_cache() {
    built();
    let dir = tempfile::tempdir().unwrap();
    let run = || {
        Command::new(env!("CARGO_BIN_EXE_wasmplug"))
            .args([
                "run",
                "examples/plugins/greet/plugin.toml",
                "greet",
                "-i",
                "cache",
            ])
            .current_dir(root())
            .env("WASMPLUG_CACHE_DIR", dir.path())
            .env("WASMPLUG_LOG", "wasmplug=debug")
            .output()
            .unwrap()
    };
    let first = run();
    assert_eq!(first.stdout, b"Hello, cache!");
    assert!(stderr(&first).contains("cache=Miss"), "{}", stderr(&first));
    let second = run();
    assert_eq!(second.stdout, b"Hello, cache!");
    assert!(stderr(&second).contains("cache=Hit"), "{}", stderr(&second));
    let uncached = wasmplug(&[
        "run",
        "examples/plugins/greet/plugin.toml",
        "greet",
        "-i",
        "x",
        "--no-cache",
    ]);
    assert_eq!(uncached.stdout, b"Hello, x!");
}

/// Every hostile guest run through the CLI exits non-zero with its named error, and the
/// host neither panics nor dumps core (`tests/hostile/`, see docs/security.md).
#[test]
fn hostile_guests_fail_cleanly_from_the_cli() {
    let dir = tempfile::tempdir().unwrap();
    let bytes_file = |name: &str, bytes: &[u8]| {
        let path = dir.path().join(name);
        std::fs::write(&path, bytes).unwrap();
        path.display().to_string()
    };
    let fd3 = bytes_file("fd3", &[3]);
    let accept_fd3 = bytes_file("accept", &[0, 3]);
    let too_big = bytes_file("too-big", &(4 * 1024 * 1024 + 1u32).to_le_bytes());
    let mount = format!("{}:/data:ro", dir.path().display());
    let hostile = |name: &str| {
        root()
            .join("tests/hostile")
            .join(format!("{name}.wat"))
            .display()
            .to_string()
    };
    let cases: Vec<(String, Vec<&str>, &str)> = vec![
        (
            hostile("infinite-loop"),
            vec!["run", "--timeout", "200ms"],
            "timed out",
        ),
        (
            hostile("memory-grow-loop"),
            vec!["run", "--memory", "4MiB"],
            "exceeded the memory limit of 4194304 bytes",
        ),
        (
            hostile("alloc-4gib"),
            vec!["run"],
            "exceeded the memory limit",
        ),
        (
            hostile("table-grow-bomb"),
            vec!["run", "--memory", "4MiB"],
            "exceeded the memory limit",
        ),
        (hostile("recursion"), vec!["run"], "stack overflow"),
        (hostile("oob-return"), vec!["run"], "out of bounds"),
        (hostile("wrap-return"), vec!["run"], "out of bounds"),
        (
            hostile("garbage-alloc"),
            vec!["run", "-i", "x"],
            "input buffer from allocate",
        ),
        (
            hostile("alloc-trap"),
            vec!["run", "-i", "x"],
            "trapped in `allocate`",
        ),
        (
            hostile("panic-message"),
            vec!["run"],
            "hostile plugin gave up",
        ),
        (hostile("unreachable"), vec!["run"], "unreachable executed"),
        (
            hostile("read-passwd"),
            vec!["run", "--input-file", &fd3],
            "(code 8)",
        ),
        (
            hostile("socket"),
            vec!["run", "--input-file", &accept_fd3],
            "(code 8)",
        ),
        (
            hostile("dotdot-escape"),
            vec!["run", "-i", "../etc/passwd", "--allow-fs", &mount],
            "(code 63)",
        ),
        (
            hostile("big-output"),
            vec!["run", "--input-file", &too_big],
            "exceeds `max_output`",
        ),
    ];
    for (guest, rest, needle) in &cases {
        let mut args = vec!["run", guest.as_str()];
        args.extend(rest.iter().copied());
        let out = wasmplug(&args);
        assert_fails(&out, CALL_ERROR, needle);
        assert!(!stderr(&out).contains("core dumped"), "{guest}");
    }
    // 100 MiB on stdout: the call succeeds, the host keeps 1 MiB and says what it dropped.
    let out = wasmplug(&["run", &hostile("stdout-flood"), "stdout"]);
    assert!(out.status.success(), "{}", stderr(&out));
    assert_eq!(out.stdout, b"done");
    assert!(
        stderr(&out).contains("bytes of guest stdout dropped (max_stdio)"),
        "{}",
        &stderr(&out)[stderr(&out).len().saturating_sub(300)..]
    );
}

#[test]
fn kv_state_persists_across_runs_in_the_data_dir() {
    let host_probe = built()
        .join("target/guests/wasm/host-probe.wasm")
        .to_string_lossy()
        .into_owned();
    let data = tempfile::tempdir().unwrap();
    let data_dir = data.path().to_str().unwrap();
    let incr = || {
        let out = wasmplug(&[
            "run",
            &host_probe,
            "kv",
            "-i",
            r#"{"op": "incr", "key": "runs"}"#,
            "--data-dir",
            data_dir,
        ]);
        assert!(out.status.success(), "{}", stderr(&out));
        String::from_utf8(out.stdout).unwrap()
    };
    assert_eq!(incr().trim(), r#"{"ok":1}"#);
    // A new process: the state written by the previous one is there.
    assert_eq!(incr().trim(), r#"{"ok":2}"#);
    assert!(data.path().join("kv.redb").is_file());
}

/// A command with a deadline: the inputs below made `run` and `inspect` hang before the fix.
fn wasmplug_within(args: &[&str], limit: std::time::Duration) -> Output {
    let mut child = Command::new(env!("CARGO_BIN_EXE_wasmplug"))
        .args(args)
        .env("WASMPLUG_CACHE_DIR", cache_dir())
        .current_dir(root())
        .stdin(Stdio::null())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    let deadline = std::time::Instant::now() + limit;
    while child.try_wait().unwrap().is_none() {
        if std::time::Instant::now() > deadline {
            let _ = child.kill();
            panic!(
                "`wasmplug {}` did not finish within {limit:?}",
                args.join(" ")
            );
        }
        std::thread::sleep(std::time::Duration::from_millis(20));
    }
    child.wait_with_output().unwrap()
}

#[cfg(target_os = "linux")]
#[test]
fn issue11_input_larger_than_max_input_is_refused_without_reading_it_all() {
    let limit = std::time::Duration::from_secs(60);
    let echo = wat("echo");
    let out = wasmplug_within(&["run", &echo, "echo", "--input-file", "/dev/zero"], limit);
    assert_fails(&out, CALL_ERROR, "max_input");
    let out = wasmplug_within(&["run", &echo, "echo", "--input-file", "-"], limit);
    assert_eq!(out.status.code(), Some(0), "{}", stderr(&out));
}

#[cfg(unix)]
#[test]
fn issue11_fifo_or_device_as_plugin_file_is_refused_without_blocking() {
    let dir = tempfile::tempdir().unwrap();
    let fifo = dir.path().join("plugin.toml");
    assert!(
        Command::new("mkfifo")
            .arg(&fifo)
            .status()
            .unwrap()
            .success()
    );
    let limit = std::time::Duration::from_secs(60);
    let fifo = fifo.to_str().unwrap();
    for args in [vec!["inspect", fifo], vec!["run", fifo, "f"]] {
        let out = wasmplug_within(&args, limit);
        assert_fails(&out, LOAD_ERROR, "FIFO");
    }
    let module = dir.path().join("m.wasm");
    assert!(
        Command::new("mkfifo")
            .arg(&module)
            .status()
            .unwrap()
            .success()
    );
    let module = module.to_str().unwrap();
    for args in [vec!["inspect", module], vec!["run", module, "f"]] {
        let out = wasmplug_within(&args, limit);
        assert_fails(&out, LOAD_ERROR, "FIFO");
    }
    #[cfg(target_os = "linux")]
    for args in [vec!["inspect", "/dev/zero"], vec!["run", "/dev/zero", "f"]] {
        let out = wasmplug_within(&args, limit);
        assert_fails(&out, LOAD_ERROR, "character device");
    }
}

/// Regression (issue 11, item 11): `--timeout 500000000000y` overflowed the epoch deadline
/// (a panic inside wasmtime in a debug build, no limit at all in a release build).
#[test]
fn issue_11_11_a_huge_timeout_is_refused_with_a_clear_error() {
    let echo = wat("echo");
    let out = wasmplug(&[
        "run",
        &echo,
        "echo",
        "--input",
        "x",
        "--timeout",
        "500000000000y",
    ]);
    assert_fails(&out, 3, "limit `timeout`");
    assert!(
        stderr(&out).contains("at most 1day per call"),
        "{}",
        stderr(&out)
    );
    assert!(!stderr(&out).contains("panicked"), "{}", stderr(&out));
    // The maximum itself is accepted.
    let out = wasmplug(&["run", &echo, "echo", "--input", "x", "--timeout", "1day"]);
    assert!(out.status.success(), "{}", stderr(&out));
    assert_eq!(out.stdout, b"x");
}
