//! wasmtime's compile and link errors in the user's terms.
//!
//! Two of them mislead as wasmtime words them: a module over the instance pool's limits is
//! not "invalid wasm" to rebuild for another target (it is valid, and too big for this
//! host's pool), and an import whose type differs from the host's definition is reported
//! from the linker's side ("expected" is the module's import, "found" the host's). Both are
//! matched on wasmtime's text; `tests/all/issue11_load.rs` pins the wording.

use crate::error::Error;

/// The error for a module wasmtime refused to compile.
pub(crate) fn compile_error(e: &wasmtime::Error) -> Error {
    let message = format!("{e:#}");
    if message.contains("pooling allocator") {
        return Error::invalid_plugin(format!(
            "the module does not fit this host's instance pool ({}); shrink its tables or memories, or give the engine larger pooling limits (`EngineConfig::pooling`)",
            pool_detail(&message)
        ));
    }
    Error::InvalidWasm {
        section: None,
        offset: None,
        message,
    }
}

/// The error for a module whose imports the linker refused.
pub(crate) fn link_error(plugin: &str, e: &wasmtime::Error) -> Error {
    let message = format!("{e:#}");
    if let Some(mismatch) = import_mismatch(&message) {
        return Error::invalid_plugin(mismatch);
    }
    Error::Instantiate {
        plugin: plugin.to_string(),
        message,
    }
}

/// The part of a pooling-limit message after wasmtime's preamble.
fn pool_detail(message: &str) -> &str {
    message
        .rsplit_once("requirements: ")
        .map_or(message, |(_, detail)| detail)
}

/// "the module imports `m::f` as `A`, but the host defines it as `B`" from wasmtime's
/// "incompatible import type for `m::f`: ... expected type `A`, found type `B`".
fn import_mismatch(message: &str) -> Option<String> {
    let name = between(message, "incompatible import type for `", "`")?;
    let declared = between(message, "expected type `", "`")?;
    let defined = between(message, "found type `", "`")?;
    Some(format!(
        "the module imports `{name}` as `{declared}`, but the host defines it as `{defined}`; rebuild the plugin against this host's ABI (docs/abi.md)"
    ))
}

fn between<'a>(text: &'a str, start: &str, end: &str) -> Option<&'a str> {
    let rest = &text[text.find(start)? + start.len()..];
    Some(&rest[..rest.find(end)?])
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn an_import_mismatch_is_told_from_the_module_side() {
        let wasmtime = "incompatible import type for `wasi_snapshot_preview1::fd_write`: types incompatible: expected type `(func (param i32))`, found type `(func (param i32 i32 i32 i32) (result i32))`";
        assert_eq!(
            import_mismatch(wasmtime).unwrap(),
            "the module imports `wasi_snapshot_preview1::fd_write` as `(func (param i32))`, but the host defines it as `(func (param i32 i32 i32 i32) (result i32))`; rebuild the plugin against this host's ABI (docs/abi.md)"
        );
        assert_eq!(import_mismatch("unknown import: `a::b`"), None);
    }
}
