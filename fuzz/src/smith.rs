//! Whole plugins from `wasm-smith`: random valid modules shaped like a wasmplug plugin
//! (its ABI exports, imports taken from the host functions and WASI) with the plugin's
//! custom sections appended.

use std::sync::OnceLock;

use arbitrary::{Result, Unstructured};
use wasm_encoder::{CustomSection, Section};

/// Functions a generated module may import: every built-in host function and a few WASI
/// functions (wasm-smith picks a subset).
const IMPORTS: &str = r#"(module
  (import "wasmplug" "set_error" (func (param i32 i32 i32)))
  (import "wasmplug" "panic" (func (param i32 i32)))
  (import "wasmplug" "log" (func (param i32 i32 i32)))
  (import "wasmplug" "config_get" (func (param i32 i32 i32) (result i32)))
  (import "wasmplug" "kv_get" (func (param i32 i32 i32) (result i32)))
  (import "wasmplug" "kv_set" (func (param i32 i32 i32 i32 i32) (result i32)))
  (import "wasmplug" "kv_delete" (func (param i32 i32 i32) (result i32)))
  (import "wasmplug" "kv_list" (func (param i32 i32 i32) (result i32)))
  (import "wasmplug" "http_request" (func (param i32 i32 i32 i32 i32) (result i32)))
  (import "wasi_snapshot_preview1" "fd_write" (func (param i32 i32 i32 i32) (result i32)))
  (import "wasi_snapshot_preview1" "fd_read" (func (param i32 i32 i32 i32) (result i32)))
  (import "wasi_snapshot_preview1" "random_get" (func (param i32 i32) (result i32)))
  (import "wasi_snapshot_preview1" "clock_time_get" (func (param i32 i64 i32) (result i32)))
  (import "wasi_snapshot_preview1" "environ_sizes_get" (func (param i32 i32) (result i32)))
  (import "wasi_snapshot_preview1" "proc_exit" (func (param i32)))
)"#;

/// The ABI's exports (docs/abi.md); `init` optionally.
fn exports(init: bool) -> String {
    format!(
        r#"(module
  (memory (export "memory") 1)
  (func (export "allocate") (param i32) (result i32) unreachable)
  (func (export "deallocate") (param i32 i32) unreachable)
  (func (export "run") (param i32 i32) (result i64) unreachable)
  {})"#,
        if init {
            r#"(func (export "init") (param i32 i32) (result i64) unreachable)"#
        } else {
            ""
        }
    )
}

fn encoded(cell: &'static OnceLock<Vec<u8>>, text: impl FnOnce() -> String) -> Vec<u8> {
    cell.get_or_init(|| wat::parse_str(text()).expect("a valid shape module"))
        .clone()
}

/// A wasm-smith configuration for plugins: the shape above, few and small functions,
/// tables and segments, and no threads (which plugins cannot use).
pub fn config(u: &mut Unstructured<'_>) -> Result<wasm_smith::Config> {
    static IMPORTS_BIN: OnceLock<Vec<u8>> = OnceLock::new();
    static PLAIN: OnceLock<Vec<u8>> = OnceLock::new();
    static WITH_INIT: OnceLock<Vec<u8>> = OnceLock::new();
    let init = u.ratio(1, 4)?;
    let exports = if init {
        encoded(&WITH_INIT, || exports(true))
    } else {
        encoded(&PLAIN, || exports(false))
    };
    Ok(wasm_smith::Config {
        available_imports: Some(encoded(&IMPORTS_BIN, || IMPORTS.to_string())),
        exports: Some(exports),
        max_funcs: 12,
        max_instructions: 120,
        max_memories: 1,
        max_tables: 2,
        max_table_elements: 1000,
        max_data_segments: 8,
        max_element_segments: 8,
        max_globals: 16,
        max_memory32_bytes: 4 * 65536,
        max_memory64_bytes: 4 * 65536,
        max_type_size: 200,
        threads_enabled: false,
        shared_everything_threads_enabled: false,
        ..wasm_smith::Config::default()
    })
}

/// Appends a custom section to a module's bytes.
pub fn append_custom(module: &mut Vec<u8>, name: &str, data: &[u8]) {
    CustomSection {
        name: name.into(),
        data: data.into(),
    }
    .append_to(module);
}

/// A generated plugin: a wasm-smith module with valid wasmplug custom sections (ABI 1,
/// name `fuzz-smith`, one function `run`). With `terminate`, every loop and call is
/// bounded by a fuel counter inside the module.
pub fn plugin(u: &mut Unstructured<'_>, terminate: bool) -> Result<Vec<u8>> {
    let config = config(u)?;
    let mut module = wasm_smith::Module::new(config, u)?;
    if terminate {
        // Fails only for modules with raw (unparsed) bodies, which the config never makes.
        let _ = module.ensure_termination(10_000);
    }
    let mut bytes = module.to_bytes();
    append_custom(&mut bytes, "wasmplug.abi", &1u32.to_le_bytes());
    append_custom(
        &mut bytes,
        "wasmplug.meta",
        br#"{"name":"fuzz-smith","version":"0.1.0"}"#,
    );
    append_custom(&mut bytes, "wasmplug.functions", b"run\n");
    Ok(bytes)
}
