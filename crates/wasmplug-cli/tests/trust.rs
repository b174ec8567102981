//! `keygen`, `sign`, `verify`, `run --trust`, `contract` and `diff`, run as a user would,
//! and signatures exchanged with the reference `wasmsign2` tool in both directions.

use std::path::{Path, PathBuf};
use std::process::{Command, Output, Stdio};
use std::sync::OnceLock;

#[allow(dead_code)] // the guests are not needed here
mod common;
use common::root;

const LOAD_ERROR: i32 = 3;

fn run(program: &Path, args: &[&str]) -> Output {
    Command::new(program)
        .args(args)
        .env("WASMPLUG_CACHE_DIR", cache_dir())
        .current_dir(root())
        .stdin(Stdio::null())
        .output()
        .unwrap()
}

fn cache_dir() -> &'static Path {
    static DIR: OnceLock<tempfile::TempDir> = OnceLock::new();
    DIR.get_or_init(|| tempfile::tempdir().unwrap()).path()
}

fn wasmplug(args: &[&str]) -> Output {
    run(Path::new(env!("CARGO_BIN_EXE_wasmplug")), args)
}

fn text(out: &Output) -> (String, String) {
    (
        String::from_utf8_lossy(&out.stdout).into_owned(),
        String::from_utf8_lossy(&out.stderr).into_owned(),
    )
}

#[track_caller]
fn ok(out: Output) -> String {
    let (stdout, stderr) = text(&out);
    assert!(
        out.status.success(),
        "status {:?}\nstdout: {stdout}\nstderr: {stderr}",
        out.status
    );
    stdout
}

#[track_caller]
fn fails(out: Output, code: i32, needle: &str) -> String {
    let (stdout, stderr) = text(&out);
    assert_eq!(
        out.status.code(),
        Some(code),
        "stdout: {stdout}\nstderr: {stderr}"
    );
    assert!(
        stderr.contains(needle),
        "expected `{needle}` in stderr: {stderr}"
    );
    assert!(!stderr.contains("panicked"), "{stderr}");
    stderr
}

fn s(p: &Path) -> &str {
    p.to_str().unwrap()
}

/// The hand-written echo plugin (`echo`, `greet`, `fail`) as WAT text, with `edit` applied.
fn echo_wat(edit: impl Fn(String) -> String) -> String {
    edit(std::fs::read_to_string(root().join("tests/guests/wat/echo.wat")).unwrap())
}

/// Writes `<dir>/<name>/plugin.toml` and its binary module; returns the manifest path.
fn plugin(dir: &Path, name: &str, wat: &str, extra: &str) -> PathBuf {
    let folder = dir.join(name);
    std::fs::create_dir_all(&folder).unwrap();
    std::fs::write(folder.join("echo.wasm"), wat::parse_str(wat).unwrap()).unwrap();
    let manifest = folder.join("plugin.toml");
    std::fs::write(
        &manifest,
        format!("name = \"wat-echo\"\nversion = \"1.0.0\"\nwasm = \"echo.wasm\"\n{extra}"),
    )
    .unwrap();
    manifest
}

fn keygen(dir: &Path, name: &str) -> (PathBuf, PathBuf) {
    let base = dir.join(name);
    let out = ok(wasmplug(&["keygen", "--out", s(&base)]));
    assert!(out.contains("key id: "), "{out}");
    (
        dir.join(format!("{name}.key")),
        dir.join(format!("{name}.pub")),
    )
}

#[test]
fn keygen_sign_verify_and_every_failure_names_its_reason() {
    let dir = tempfile::tempdir().unwrap();
    let (key, public) = keygen(dir.path(), "acme");
    fails(
        wasmplug(&["keygen", "--out", s(&dir.path().join("acme"))]),
        1,
        "already exists",
    );
    let (_, other) = keygen(dir.path(), "other");
    let wat = root().join("tests/guests/wat/echo.wat");
    let signed = dir.path().join("echo.wasm");
    fails(
        wasmplug(&["sign", s(&wat), "--key", s(&key)]),
        1,
        "pass -o OUT.wasm",
    );
    ok(wasmplug(&[
        "sign",
        s(&wat),
        "--key",
        s(&key),
        "-o",
        s(&signed),
    ]));
    let valid = ok(wasmplug(&[
        "verify",
        s(&signed),
        "--public-key",
        s(&public),
    ]));
    assert!(valid.starts_with("valid: "), "{valid}");
    fails(
        wasmplug(&["verify", s(&signed), "--public-key", s(&other)]),
        LOAD_ERROR,
        "unknown key",
    );

    let unsigned = dir.path().join("unsigned.wasm");
    std::fs::write(&unsigned, wat::parse_file(&wat).unwrap()).unwrap();
    fails(
        wasmplug(&["verify", s(&unsigned), "--public-key", s(&public)]),
        LOAD_ERROR,
        "unsigned",
    );
    let mut bytes = std::fs::read(&signed).unwrap();
    let last = bytes.len() - 2;
    bytes[last] ^= 1;
    let tampered = dir.path().join("tampered.wasm");
    std::fs::write(&tampered, bytes).unwrap();
    fails(
        wasmplug(&["verify", s(&tampered), "--public-key", s(&public)]),
        LOAD_ERROR,
        "tampered",
    );
    fails(
        wasmplug(&["sign", s(&signed), "--key", s(&public)]),
        1,
        "not an Ed25519 secret key",
    );
}

#[test]
fn signing_a_manifest_updates_its_pin_and_run_trust_key_enforces_it() {
    let dir = tempfile::tempdir().unwrap();
    let (key, public) = keygen(dir.path(), "acme");
    let (_, other) = keygen(dir.path(), "other");
    let wat = echo_wat(|w| w);
    let pin = {
        use sha2::Digest;
        hex::encode(sha2::Sha256::digest(wat::parse_str(&wat).unwrap()))
    };
    let manifest = plugin(
        dir.path(),
        "p",
        &wat,
        &format!("sha256 = \"{}\"\n", pin.to_uppercase()),
    );
    let run_echo = |extra: &[&str]| {
        let mut args = vec!["run", s(&manifest), "echo", "--input", "hi"];
        args.extend_from_slice(extra);
        wasmplug(&args)
    };
    fails(
        run_echo(&["--trust-key", s(&public)]),
        LOAD_ERROR,
        "unsigned",
    );
    let out = ok(wasmplug(&["sign", s(&manifest), "--key", s(&key)]));
    assert!(out.contains("updated the sha256 pin"), "{out}");
    let text = std::fs::read_to_string(&manifest).unwrap();
    assert!(
        !text.to_lowercase().contains(&pin),
        "the old pin is gone: {text}"
    );
    assert_eq!(ok(run_echo(&["--trust-key", s(&public)])), "hi");
    fails(
        run_echo(&["--trust-key", s(&other)]),
        LOAD_ERROR,
        "unknown key",
    );
    assert_eq!(ok(run_echo(&[])), "hi", "no policy without --trust");
}

#[test]
fn the_production_config_refuses_unsigned_plugins_and_audits_every_verdict() {
    let dir = tempfile::tempdir().unwrap();
    std::fs::create_dir_all(dir.path().join("keys")).unwrap();
    let (key, _) = keygen(&dir.path().join("keys"), "release");
    let audit = dir.path().join("trust.jsonl");
    let prod = std::fs::read_to_string(root().join("examples/wasmplug.prod.toml")).unwrap();
    assert_eq!(prod.matches("/var/log/wasmplug/trust.jsonl").count(), 1);
    let config = dir.path().join("wasmplug.toml");
    std::fs::write(
        &config,
        prod.replace("/var/log/wasmplug/trust.jsonl", s(&audit)),
    )
    .unwrap();
    let manifest = plugin(dir.path(), "p", &echo_wat(|w| w), "");
    let args = [
        "run",
        "--trust",
        s(&config),
        s(&manifest),
        "greet",
        "--input",
        "Ada",
    ];
    let err = fails(
        wasmplug(&args),
        LOAD_ERROR,
        "refused by the trust policy: unsigned",
    );
    assert!(err.contains("wat-echo"), "{err}");
    ok(wasmplug(&["sign", s(&manifest), "--key", s(&key)]));
    assert_eq!(ok(wasmplug(&args)), "Hello, Ada!");
    let lines: Vec<serde_json::Value> = std::fs::read_to_string(&audit)
        .unwrap()
        .lines()
        .map(|l| serde_json::from_str(l).unwrap())
        .collect();
    assert_eq!(lines.len(), 2, "{lines:?}");
    assert_eq!(
        (lines[0]["verdict"].as_str(), lines[0]["reason"].as_str()),
        (Some("refused"), Some("unsigned"))
    );
    assert_eq!(
        (lines[1]["verdict"].as_str(), lines[1]["reason"].as_str()),
        (Some("accepted"), Some("signed"))
    );
    for field in ["time", "plugin", "version", "sha256", "key_id"] {
        assert!(lines[1][field].is_string(), "{field} in {}", lines[1]);
    }
}

/// The reference `wasmsign2` CLI, installed by the project's script (once).
fn reference_tool() -> PathBuf {
    static BIN: OnceLock<PathBuf> = OnceLock::new();
    BIN.get_or_init(|| {
        let out = Command::new("bash")
            .arg(root().join("scripts/install-wasmsign2.sh"))
            .stderr(Stdio::inherit())
            .output()
            .unwrap();
        assert!(out.status.success(), "scripts/install-wasmsign2.sh failed");
        PathBuf::from(String::from_utf8(out.stdout).unwrap().trim())
    })
    .clone()
}

#[test]
fn signatures_interoperate_with_the_reference_wasmsign2_tool() {
    let tool = reference_tool();
    let dir = tempfile::tempdir().unwrap();
    let unsigned = dir.path().join("unsigned.wasm");
    std::fs::write(&unsigned, wat::parse_str(echo_wat(|w| w)).unwrap()).unwrap();

    // wasmplug's keys, the reference tool signs, wasmplug verifies and loads.
    let (key, public) = keygen(dir.path(), "ours");
    let by_ref = dir.path().join("by-ref.wasm");
    ok(run(
        &tool,
        &["sign", "-i", s(&unsigned), "-o", s(&by_ref), "-k", s(&key)],
    ));
    ok(wasmplug(&[
        "verify",
        s(&by_ref),
        "--public-key",
        s(&public),
    ]));
    let out = wasmplug(&[
        "run",
        s(&by_ref),
        "echo",
        "--input",
        "ref",
        "--trust-key",
        s(&public),
    ]);
    assert_eq!(ok(out), "ref");

    // The reference tool's keys, wasmplug signs, the reference tool verifies.
    let (rkey, rpub) = (dir.path().join("ref.key"), dir.path().join("ref.pub"));
    ok(run(&tool, &["keygen", "-k", s(&rkey), "-K", s(&rpub)]));
    let by_us = dir.path().join("by-us.wasm");
    ok(wasmplug(&[
        "sign",
        s(&unsigned),
        "--key",
        s(&rkey),
        "-o",
        s(&by_us),
    ]));
    ok(run(&tool, &["verify", "-i", s(&by_us), "-K", s(&rpub)]));
    assert!(
        !run(&tool, &["verify", "-i", s(&unsigned), "-K", s(&rpub)])
            .status
            .success()
    );

    // Several signers, one from each tool: both tools accept both keys.
    let both = dir.path().join("both.wasm");
    ok(run(
        &tool,
        &[
            "sign",
            "-i",
            s(&by_us),
            "-o",
            s(&both),
            "-k",
            s(&key),
            "-K",
            s(&public),
        ],
    ));
    for pubkey in [&public, &rpub] {
        ok(run(&tool, &["verify", "-i", s(&both), "-K", s(pubkey)]));
        ok(wasmplug(&["verify", s(&both), "--public-key", s(pubkey)]));
    }
    // One flipped byte: the reference tool refuses it too.
    let mut bytes = std::fs::read(&by_us).unwrap();
    let at = bytes.len() - 2;
    bytes[at] ^= 1;
    std::fs::write(&by_us, bytes).unwrap();
    assert!(
        !run(&tool, &["verify", "-i", s(&by_us), "-K", s(&rpub)])
            .status
            .success()
    );
    fails(
        wasmplug(&["verify", s(&by_us), "--public-key", s(&rpub)]),
        LOAD_ERROR,
        "tampered",
    );
}

#[test]
fn contract_is_stable_json_and_diff_gates_on_breaking_changes() {
    let dir = tempfile::tempdir().unwrap();
    let old = plugin(dir.path(), "old", &echo_wat(|w| w), "");
    let json = ok(wasmplug(&["contract", s(&old)]));
    assert_eq!(json, ok(wasmplug(&["contract", s(&old)])), "stable");
    let parsed: serde_json::Value = serde_json::from_str(&json).unwrap();
    assert_eq!(
        parsed["functions"],
        serde_json::json!(["echo", "fail", "greet"])
    );
    let saved = dir.path().join("contract.json");
    ok(wasmplug(&["contract", s(&old), "-o", s(&saved)]));
    assert_eq!(std::fs::read_to_string(&saved).unwrap(), json);

    let added = plugin(
        dir.path(),
        "added",
        &echo_wat(|w| {
            w.replace("echo\\ngreet\\nfail\\n", "echo\\ngreet\\nfail\\nfail2\\n")
                .replace(r#"(export "fail")"#, r#"(export "fail") (export "fail2")"#)
        }),
        "",
    );
    let out = ok(wasmplug(&["diff", s(&saved), s(&added)]));
    assert!(
        out.contains("compatible  function `fail2` added") && out.contains("0 breaking"),
        "{out}"
    );

    let removed = plugin(
        dir.path(),
        "removed",
        &echo_wat(|w| w.replace("echo\\ngreet\\nfail\\n", "echo\\nfail\\n")),
        "",
    );
    let out = wasmplug(&["diff", s(&old), s(&removed)]);
    let stderr = fails(out.clone(), 1, "1 breaking change(s)");
    let (stdout, _) = text(&out);
    assert!(
        stdout.contains("breaking    function `greet` removed"),
        "{stdout}\n{stderr}"
    );
    let out = wasmplug(&["diff", s(&old), s(&removed), "--json"]);
    assert_eq!(out.status.code(), Some(1));
    let value: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!(value["breaking"], 1);
    assert_eq!(value["changes"][0]["kind"], "function_removed");

    let greedy = plugin(
        dir.path(),
        "greedy",
        &echo_wat(|w| w),
        "[capabilities]\nenv = [\"SECRET\"]\n",
    );
    let out = wasmplug(&["diff", s(&old), s(&greedy)]);
    assert_eq!(out.status.code(), Some(1));
    assert!(text(&out).0.contains("capability `env SECRET` added"));
    fails(
        wasmplug(&["diff", s(&old), "nope.toml"]),
        LOAD_ERROR,
        "nope.toml",
    );
}
