//! Compile-time checks of `#[plugin_fn]` and `plugin_meta!` (trybuild).
//!
//! Regenerate the expected output with `TRYBUILD=overwrite cargo test -p wasmplug-pdk-macros`.

#[test]
fn ui() {
    let t = trybuild::TestCases::new();
    t.pass("tests/ui/pass.rs");
    t.compile_fail("tests/ui/fail_*.rs");
}
