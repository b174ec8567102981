//! The cross-language conformance suite: ONE table of cases (`cases.rs`) run against every
//! language's build of the examples (`examples/plugins/<example>` for Rust,
//! `examples/plugins/<example>-<lang>` for Go, C, Zig and AssemblyScript), in both
//! isolation modes. A kit that breaks a case fails its language's test, which lists every
//! failing case.
//!
//! `component` is the Rust ports to the `wasmplug:plugin` WIT world
//! (`examples/plugins/<example>-component`), a second plugin kind behind the same API.
//!
//! Every build must be present: `bash scripts/build-guests.sh --all` makes them (and
//! `scripts/test.sh` does). A missing build fails; to skip languages locally, set
//! `WASMPLUG_SKIP_LANGS=go,zig` (a comma-separated list), never in CI.

mod cases;

use std::path::{Path, PathBuf};

use wasmplug::host_fn::KvQuota;
use wasmplug::{Error, Isolation, KvStore, Plugin, TrapKind};

use cases::{CASES, Case, Expect, Input};

/// The environment variable that lists languages to skip locally.
const SKIP_ENV: &str = "WASMPLUG_SKIP_LANGS";

fn root() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("../..")
        .canonicalize()
        .unwrap()
}

/// The manifest of `example` built in `lang`.
fn manifest(example: &str, lang: &str) -> PathBuf {
    let folder = if lang == "rust" {
        example.to_string()
    } else {
        format!("{example}-{lang}")
    };
    root()
        .join("examples/plugins")
        .join(folder)
        .join("plugin.toml")
}

fn load(
    case: &Case,
    lang: &str,
    isolation: Isolation,
    store: &KvStore,
) -> wasmplug::Result<Plugin> {
    let mut builder = Plugin::builder()
        .kv_store(store.clone())
        .isolation(isolation)
        // Each module is compiled once, then loaded from the cache by the other cases.
        .cache_dir(Path::new(env!("CARGO_TARGET_TMPDIR")).join("conformance-cache"));
    for (key, value) in case.config {
        builder = builder.config(*key, *value);
    }
    builder.load(manifest(case.example, lang))
}

fn input(input: &Input) -> Vec<u8> {
    match input {
        Input::Text(text) => text.as_bytes().to_vec(),
        Input::Bytes(bytes) => bytes.to_vec(),
        Input::Pattern(len) => (0..*len).map(|i| (i % 251) as u8).collect(),
    }
}

/// Checks one outcome against its expectation; `Err` says what differed.
fn check(expect: &Expect, input: &[u8], got: wasmplug::Result<Vec<u8>>) -> Result<(), String> {
    let shown = |bytes: &[u8]| {
        let text = String::from_utf8_lossy(&bytes[..bytes.len().min(200)]).into_owned();
        format!("{text:?} ({} bytes)", bytes.len())
    };
    match (expect, got) {
        (Expect::Output(want), Ok(out)) if out == want.as_bytes() => Ok(()),
        (Expect::SameAsInput, Ok(out)) if out == input => Ok(()),
        (Expect::JsonFailure, Ok(out)) => {
            let v: serde_json::Value = serde_json::from_slice(&out)
                .map_err(|e| format!("output is not JSON ({e}): {}", shown(&out)))?;
            let ok = v["success"] == false
                && v["data"].is_null()
                && v["error"].as_str().is_some_and(|e| !e.is_empty())
                && v.as_object().is_some_and(|o| o.len() == 3);
            ok.then_some(()).ok_or_else(|| {
                format!(
                    "expected {{success:false, data:null, error:\"...\"}}, got {}",
                    shown(&out)
                )
            })
        }
        (
            Expect::GuestError { code, message },
            Err(Error::Guest {
                code: c,
                message: m,
                ..
            }),
        ) if c.unwrap_or(0) == *code && m.starts_with(message) => Ok(()),
        (
            Expect::GuestErrorContaining { code, message },
            Err(Error::Guest {
                code: c,
                message: m,
                ..
            }),
        ) if c.unwrap_or(0) == *code && m.contains(message) => Ok(()),
        (
            Expect::Panic(text),
            Err(Error::Trap {
                kind: TrapKind::Panic,
                message,
                ..
            }),
        ) if message.contains(text) => Ok(()),
        (expect, Ok(out)) => Err(format!("expected {expect:?}, got output {}", shown(&out))),
        (expect, Err(e)) => Err(format!("expected {expect:?}, got error {e:?}")),
    }
}

/// Runs every case for `lang`; panics with the list of failures.
fn conformance(lang: &str) {
    let skipped = std::env::var(SKIP_ENV).unwrap_or_default();
    if skipped.split(',').any(|s| s.trim() == lang) {
        eprintln!("{lang}: skipped ({SKIP_ENV}={skipped})");
        return;
    }
    let mut failures = Vec::new();
    for example in ["echo", "greet", "json-transformer", "counter"] {
        let path = manifest(example, lang);
        let module = path.with_file_name(match lang {
            "rust" => format!("{example}.wasm"),
            _ => format!("{example}-{lang}.wasm"),
        });
        assert!(
            module.is_file(),
            "{} is missing: build every language's examples with `bash scripts/build-guests.sh --all` (to skip languages locally: {SKIP_ENV}=go,zig)",
            module.display()
        );
    }
    for isolation in [Isolation::Reuse, Isolation::PerCall] {
        for case in CASES {
            let store = KvStore::in_memory();
            let name = format!("{lang}/{}/{} ({isolation:?})", case.example, case.name);
            let plugin = match load(case, lang, isolation, &store) {
                Ok(plugin) => plugin,
                Err(e) => {
                    failures.push(format!("{name}: load failed: {e}"));
                    continue;
                }
            };
            let namespace = store.namespace(plugin.meta().name.as_str(), KvQuota::default());
            for (key, value) in case.kv {
                namespace.set(key.as_bytes(), value.as_bytes()).unwrap();
            }
            for (step, (function, arg, expect)) in case.steps.iter().enumerate() {
                let bytes = input(arg);
                if let Err(why) = check(expect, &bytes, plugin.call(function, &bytes)) {
                    failures.push(format!("{name}, step {step} `{function}`: {why}"));
                }
            }
        }
    }
    assert!(
        failures.is_empty(),
        "{} conformance case(s) failed for {lang}:\n  {}",
        failures.len(),
        failures.join("\n  ")
    );
}

#[test]
fn rust() {
    conformance("rust");
}

#[test]
fn go() {
    conformance("go");
}

#[test]
fn c() {
    conformance("c");
}

#[test]
fn zig() {
    conformance("zig");
}

#[test]
fn assemblyscript() {
    conformance("assemblyscript");
}

/// The component ports (`examples/plugins/<example>-component`, `kind = "component"`):
/// the same cases through the `wasmplug:plugin` WIT world.
#[test]
fn component() {
    conformance("component");
}

/// The table covers every function of every example (as the Rust build lists them).
#[test]
fn every_example_function_has_a_case() {
    for example in ["echo", "greet", "json-transformer", "counter"] {
        let plugin = Plugin::load(manifest(example, "rust")).unwrap();
        for function in plugin.functions() {
            let covered = CASES.iter().any(|case| {
                case.example == example && case.steps.iter().any(|(f, _, _)| f == function)
            });
            assert!(covered, "no conformance case calls {example}/{function}");
        }
    }
}
