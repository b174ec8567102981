//! Regression tests for issue 11 item 10: load-time work is linear and bounded, so a
//! hostile module cannot make a load (or `inspect`) take minutes.

use wasmplug::{Error, ModuleInfo, Plugin, PluginBuilder, PluginInterface};

/// A module with the ABI exports and `names` in `wasmplug.functions`, `extra` appended to
/// its body.
fn module(names: &str, extra: &str) -> Vec<u8> {
    let wat = format!(
        r#"(module
  (memory (export "memory") 1)
  (func (export "allocate") (param i32) (result i32) (i32.const 0))
  (func (export "deallocate") (param i32 i32))
  (func (export "f") (param i32 i32) (result i64) (i64.const 0))
  {extra}
  (@custom "wasmplug.abi" "\01\00\00\00")
  (@custom "wasmplug.meta" "{{\"name\":\"big\",\"version\":\"1.0.0\"}}")
  (@custom "wasmplug.functions" "{names}"))"#
    );
    wat::parse_str(wat).unwrap()
}

fn check(bytes: &[u8]) -> wasmplug::Result<PluginInterface> {
    let info = ModuleInfo::parse(bytes)?;
    PluginInterface::check(&info, bytes)
}

#[test]
fn issue11_listing_200000_function_names_is_refused_by_the_cap() {
    let names: String = (0..200_000).map(|i| format!("f{i}\\n")).collect();
    let err = check(&module(&names, "")).unwrap_err();
    assert!(
        matches!(&err, Error::InvalidPlugin { reason } if reason.contains("more than 1000")),
        "{err}"
    );
}

#[test]
fn issue11_many_exports_are_refused_before_they_are_checked() {
    let extra: String = (0..40_000)
        .map(|i| format!("(func (export \"e{i}\") (param i32 i32) (result i64) (i64.const 0))\n"))
        .collect();
    let err = ModuleInfo::parse(&module("f\\n", &extra)).unwrap_err();
    assert!(
        matches!(&err, Error::InvalidPlugin { reason } if reason.contains("exports")),
        "{err}"
    );
}

#[test]
fn issue11_too_many_defined_functions_are_refused_before_compiling() {
    let extra = "(func)\n".repeat(wasmplug::abi::MAX_DEFINED_FUNCTIONS as usize);
    let err = Plugin::builder()
        .compile_bytes(&module("f\\n", &extra))
        .unwrap_err();
    assert!(
        matches!(&err, Error::InvalidPlugin { reason } if reason.contains("defines")),
        "{err}"
    );
    // Just under the cap is fine for the parser (not compiled here: it would be slow).
    let extra = "(func)\n".repeat(1000);
    let info = ModuleInfo::parse(&module("f\\n", &extra)).unwrap();
    assert_eq!(info.defined_functions, 1003);
}

#[test]
fn issue11_a_thousand_functions_check_in_linear_time() {
    let names: String = (0..1000).map(|i| format!("g{i}\\n")).collect();
    let extra: String = (0..1000)
        .map(|i| format!("(func (export \"g{i}\") (param i32 i32) (result i64) (i64.const 0))\n"))
        .collect();
    let interface = check(&module(&names, &extra)).unwrap();
    assert_eq!(interface.functions.len(), 1000);
}

/// A module whose `init` returns `packed` (allocate answers 16, so `init` gets its input).
fn init_returning(packed: &str) -> Vec<u8> {
    wat::parse_str(format!(
        r#"(module
  (memory (export "memory") 1)
  (func (export "allocate") (param i32) (result i32) (i32.const 16))
  (func (export "deallocate") (param i32 i32))
  (func (export "init") (param i32 i32) (result i64) (i64.const {packed}))
  (func (export "f") (param i32 i32) (result i64) (i64.const 0))
  (@custom "wasmplug.abi" "\01\00\00\00")
  (@custom "wasmplug.meta" "{{\"name\":\"init-out\",\"version\":\"1.0.0\"}}")
  (@custom "wasmplug.functions" "f\n"))"#
    ))
    .unwrap()
}

/// `init`'s output is read and freed like any call's (docs/abi.md 3): an output outside
/// memory fails loading with the typed error that names `init`; an empty one loads.
#[test]
fn issue11_init_output_outside_memory_fails_loading_as_documented() {
    // (ptr 0xFFFF0000, len 100): far outside the one-page memory.
    match PluginBuilder::new()
        .from_bytes(&init_returning("0xFFFF000000000064"))
        .unwrap_err()
    {
        Error::MemoryOutOfBounds { function, what, .. } => {
            assert_eq!(function, "init");
            assert_eq!(what, "returned output");
        }
        other => panic!("expected MemoryOutOfBounds, got {other:?}"),
    }
    let plugin = PluginBuilder::new()
        .from_bytes(&init_returning("0"))
        .unwrap();
    assert_eq!(plugin.call("f", b"").unwrap(), b"");
    let doc = std::fs::read_to_string(crate::support::root().join("docs/abi.md")).unwrap();
    assert!(
        !doc.contains("freed and ignored"),
        "docs/abi.md must not promise that a garbage init output is ignored"
    );
}
