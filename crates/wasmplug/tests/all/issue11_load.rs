//! Regression tests for issue 11 item 10: load-time work is linear and bounded, so a
//! hostile module cannot make a load (or `inspect`) take minutes.

use wasmplug::{Error, ModuleInfo, Plugin, PluginInterface};

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
