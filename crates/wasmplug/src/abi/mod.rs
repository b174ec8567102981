//! The guest ABI v1 (see `docs/abi.md`): names, constants, and the code that checks a
//! module against it and moves bytes across the boundary.
//!
//! Invariants kept here:
//! - a module is read and checked ([`ModuleInfo`], [`PluginInterface`]) without running any
//!   guest code;
//! - every pointer/length that comes from the guest is bounds- and overflow-checked in
//!   the private `abi::memory` module before a byte is read or written.

mod hints;
mod interface;
pub(crate) mod memory;
mod module_info;
mod sections;

pub use interface::{PluginInterface, PluginMeta};
pub use module_info::{ExportInfo, ImportInfo, MemoryInfo, ModuleInfo};
pub use sections::{
    encode_functions, encode_meta, infer_functions, listed_functions, write_sections,
};

use std::ops::RangeInclusive;

/// The ABI versions this host can load.
pub const SUPPORTED_ABI_VERSIONS: RangeInclusive<u32> = 1..=1;

/// Custom section holding the ABI version (`u32` little-endian).
pub const SECTION_ABI: &str = "wasmplug.abi";
/// Custom section holding the plugin metadata (JSON object).
pub const SECTION_META: &str = "wasmplug.meta";
/// Custom section listing the plugin functions (`name\n` entries).
pub const SECTION_FUNCTIONS: &str = "wasmplug.functions";

/// Export: the guest's linear memory.
pub const EXPORT_MEMORY: &str = "memory";
/// Export: `allocate(len: i32) -> i32`.
pub const EXPORT_ALLOCATE: &str = "allocate";
/// Export: `deallocate(ptr: i32, len: i32)`.
pub const EXPORT_DEALLOCATE: &str = "deallocate";
/// Optional export: `init(ptr: i32, len: i32) -> i64`, called with the config JSON.
pub const EXPORT_INIT: &str = "init";
/// Optional export of WASI reactors, called once before `init`.
pub const EXPORT_INITIALIZE: &str = "_initialize";
/// Export of WASI commands; such modules are refused.
pub const EXPORT_START: &str = "_start";

/// Prefix under which a plugin function may be exported instead of its bare name
/// (`wasmplug:execute` for `execute`).
pub const FUNCTION_EXPORT_PREFIX: &str = "wasmplug:";

/// Export names that can never be plugin functions.
pub const RESERVED_EXPORTS: &[&str] = &[
    EXPORT_MEMORY,
    EXPORT_ALLOCATE,
    EXPORT_DEALLOCATE,
    EXPORT_INIT,
    EXPORT_INITIALIZE,
    EXPORT_START,
];

/// Import module of the wasmplug host functions.
pub const HOST_MODULE: &str = "wasmplug";
/// Import module of WASI preview 1.
pub const WASI_MODULE: &str = "wasi_snapshot_preview1";

/// Longest plugin function name, in bytes.
pub const MAX_FUNCTION_NAME_LEN: usize = 128;

/// Most plugin functions a module may list in `wasmplug.functions`.
pub const MAX_PLUGIN_FUNCTIONS: usize = 1000;

/// Most exports a module may have.
pub const MAX_EXPORTS: usize = 10_000;

/// Most functions a module may define. Compiling costs time and memory per function (about
/// 0.2 ms and 6 KiB each for tiny ones); this bounds what one upload can make the host do.
pub const MAX_DEFINED_FUNCTIONS: u32 = 100_000;
/// Longest guest error message kept, in bytes; longer ones are cut.
pub const MAX_ERROR_MESSAGE_LEN: usize = 64 * 1024;

/// Returns `bytes` as a binary module: binary modules as they are, WebAssembly text
/// (`.wat`) assembled.
///
/// # Errors
/// [`crate::Error::InvalidWasm`] when the bytes are neither (bad magic number) or the text
/// does not assemble.
pub fn to_binary(bytes: &[u8]) -> crate::Result<std::borrow::Cow<'_, [u8]>> {
    if bytes.starts_with(b"\0asm") {
        return Ok(std::borrow::Cow::Borrowed(bytes));
    }
    let is_text = std::str::from_utf8(bytes).is_ok_and(|s| {
        let s = s.trim_start();
        s.starts_with('(') || s.starts_with(";;")
    });
    if !is_text {
        return Err(crate::Error::InvalidWasm {
            section: Some("header".into()),
            offset: Some(0),
            message: format!(
                "bad magic number {:02x?} (a wasm module starts with 00 61 73 6d)",
                &bytes[..bytes.len().min(4)]
            ),
        });
    }
    wat::parse_bytes(bytes).map_err(|e| crate::Error::InvalidWasm {
        section: None,
        offset: None,
        message: format!("cannot assemble WebAssembly text: {e}"),
    })
}

/// Splits a packed `(ptr << 32) | len` return value.
pub(crate) fn unpack(packed: i64) -> (u32, u32) {
    let packed = packed as u64;
    ((packed >> 32) as u32, packed as u32)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn unpack_reads_both_halves_unsigned() {
        assert_eq!(unpack(0), (0, 0));
        assert_eq!(unpack((16 << 32) | 5), (16, 5));
        assert_eq!(unpack(-1), (u32::MAX, u32::MAX));
    }
}
