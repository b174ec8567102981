//! `wasmplug inspect` of components (issue 14): the world as WIT, the exports with their
//! types, the typed exports an embedder can call, and why a component is not a wasmplug
//! plugin — all without running guest code. The guests are built by
//! `scripts/build-guests.sh --all`.

use std::process::{Command, Output, Stdio};

#[allow(dead_code)] // the guests are checked, not built, here
mod common;
use common::root;

fn inspect(args: &[&str]) -> Output {
    let cache = tempfile::tempdir().unwrap();
    Command::new(env!("CARGO_BIN_EXE_wasmplug"))
        .arg("inspect")
        .args(args)
        .env("WASMPLUG_CACHE_DIR", cache.path())
        .current_dir(root())
        .stdin(Stdio::null())
        .output()
        .unwrap()
}

fn built(path: &str) -> &str {
    let wasm = root().join(path);
    assert!(
        wasm.is_file(),
        "{} is missing: run `bash scripts/build-guests.sh --all`",
        wasm.display()
    );
    path
}

#[test]
fn inspect_prints_a_components_world_and_typed_exports() {
    built("tests/guests/rust/typed-component/typed-component.wasm");
    let out = inspect(&["tests/guests/rust/typed-component/plugin.toml"]);
    let text = String::from_utf8_lossy(&out.stdout);
    assert!(
        out.status.success(),
        "{text}{}",
        String::from_utf8_lossy(&out.stderr)
    );
    for needle in [
        "valid        yes (wasmplug plugin)",
        "functions    echo",
        "typed        add, greeting, count, hold, spin, crash, example:typed/geometry@1.0.0#distance, example:typed/geometry@1.0.0#centroid (Plugin::call_export)",
        // The exports with their types, and the world as WIT.
        "  add                           func(a: s32, b: s32) -> result<s32, string>",
        "world (WIT)",
        "    export add: func(a: s32, b: s32) -> result<s32, string>;",
        "    import wasmplug:plugin/host@1.0.0;",
    ] {
        assert!(text.contains(needle), "expected `{needle}` in:\n{text}");
    }

    let out = inspect(&["tests/guests/rust/typed-component/plugin.toml", "--json"]);
    let v: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!(v["kind"], "component");
    assert_eq!(v["valid"], true);
    assert_eq!(
        v["typed_exports"][6],
        "example:typed/geometry@1.0.0#distance"
    );
    assert!(
        v["component_exports"]
            .as_array()
            .unwrap()
            .iter()
            .any(|e| e[0] == "greeting" && e[1] == "func(name: string) -> string"),
        "{}",
        v["component_exports"]
    );
}

#[test]
fn inspect_says_why_a_component_is_not_a_wasmplug_plugin() {
    // A wasi:http handler without its manifest: a component, but not of the plugin world.
    let wasm = built("tests/guests/rust/http-handler/http-handler.wasm");
    let out = inspect(&[wasm]);
    let text = String::from_utf8_lossy(&out.stdout);
    assert_eq!(out.status.code(), Some(3), "{text}");
    assert!(
        text.contains("valid        no: not a valid wasmplug plugin: a wasi:http component"),
        "{text}"
    );
    // Its world is shown all the same.
    assert!(text.contains("world (WIT)"), "{text}");
    assert!(
        text.contains("export wasi:http/incoming-handler@0.2"),
        "{text}"
    );
}
