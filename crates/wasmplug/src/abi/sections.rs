//! Writes the three wasmplug custom sections into a finished module, for toolchains that
//! cannot emit custom sections themselves (Go, AssemblyScript): `wasmplug build` and the
//! tests use it.
//!
//! Invariants: every section of the input other than `wasmplug.abi`, `wasmplug.meta` and
//! `wasmplug.functions` is copied byte for byte and in order; the three sections are then
//! appended once each, so the result holds exactly one of each whatever the input held.
//! Function names are checked with the same rules as at load time before anything is
//! written.

use wasm_encoder::{CustomSection, Encode};
use wasmparser::{BinaryReader, ValType};

use super::{
    FUNCTION_EXPORT_PREFIX, MAX_FUNCTION_NAME_LEN, ModuleInfo, PluginMeta, RESERVED_EXPORTS,
    SECTION_ABI, SECTION_FUNCTIONS, SECTION_META,
};
use crate::error::{Error, Result};

/// The `wasmplug.meta` payload for `meta`: compact JSON with `name`, `version`,
/// `description` and `author`.
pub fn encode_meta(meta: &PluginMeta) -> Vec<u8> {
    serde_json::to_vec(meta).expect("plugin metadata always serialises")
}

/// The `wasmplug.functions` payload for `names`: each name followed by `\n`.
///
/// # Errors
/// [`Error::InvalidPlugin`] for a name the host would refuse (empty, longer than 128
/// bytes, containing `\n`, or reserved) or when `names` is empty.
pub fn encode_functions(names: &[String]) -> Result<Vec<u8>> {
    if names.is_empty() {
        return Err(Error::invalid_plugin(
            "no plugin functions: list at least one (export it with the `(i32, i32) -> i64` signature)",
        ));
    }
    let mut out = Vec::new();
    for name in names {
        if name.contains('\n') {
            return Err(Error::invalid_plugin(format!(
                "plugin function name {name:?} contains a newline"
            )));
        }
        if name.is_empty() || name.len() > MAX_FUNCTION_NAME_LEN {
            return Err(Error::invalid_plugin(format!(
                "plugin function name {name:?} must be 1..={MAX_FUNCTION_NAME_LEN} bytes"
            )));
        }
        if RESERVED_EXPORTS.contains(&name.as_str()) {
            return Err(Error::invalid_plugin(format!(
                "`{name}` is a reserved export and cannot be a plugin function"
            )));
        }
        out.extend_from_slice(name.as_bytes());
        out.push(b'\n');
    }
    Ok(out)
}

/// The plugin functions a module exports, for a module whose toolchain cannot list them
/// in a `wasmplug.functions` section: every exported function with the plugin-function
/// signature `(i32, i32) -> i64` that is not a reserved export, under its bare name
/// (`wasmplug:F` counts as `F`), in the order of the export names, without duplicates.
pub fn infer_functions(info: &ModuleInfo) -> Vec<String> {
    use ValType::{I32, I64};
    let mut names: Vec<String> = Vec::new();
    // By export name: the exports are held in a hash map, whose iteration order varies.
    let mut exports: Vec<_> = info.export_funcs.iter().collect();
    exports.sort_by(|a, b| a.0.cmp(b.0));
    for (export, ty) in exports {
        let is_plugin_fn = ty
            .as_ref()
            .is_some_and(|f| f.params() == [I32, I32] && f.results() == [I64]);
        let name = export
            .strip_prefix(FUNCTION_EXPORT_PREFIX)
            .unwrap_or(export);
        if is_plugin_fn && !RESERVED_EXPORTS.contains(&name) && !names.iter().any(|n| n == name) {
            names.push(name.to_string());
        }
    }
    names
}

/// The names listed in the module's `wasmplug.functions` sections (in order, without
/// duplicates), or `None` when it has no such section. Lenient: the names are not checked
/// here ([`PluginInterface::check`](super::PluginInterface::check) does that).
pub fn listed_functions(info: &ModuleInfo, bytes: &[u8]) -> Option<Vec<String>> {
    let sections = info.custom(bytes, SECTION_FUNCTIONS);
    if sections.is_empty() {
        return None;
    }
    let mut names: Vec<String> = Vec::new();
    for data in sections {
        for name in String::from_utf8_lossy(data).split('\n') {
            if !name.is_empty() && !names.iter().any(|n| n == name) {
                names.push(name.to_string());
            }
        }
    }
    Some(names)
}

/// Returns `module` with its wasmplug custom sections replaced: existing `wasmplug.abi`,
/// `wasmplug.meta` and `wasmplug.functions` sections are dropped and one of each is
/// appended, holding ABI version `abi_version`, `meta` and `functions`.
///
/// # Errors
/// [`Error::InvalidWasm`] when `module` is not a binary core module whose section headers
/// can be read; [`Error::InvalidPlugin`] for a bad function list (see
/// [`encode_functions`]).
pub fn write_sections(
    module: &[u8],
    abi_version: u32,
    meta: &PluginMeta,
    functions: &[String],
) -> Result<Vec<u8>> {
    let functions = encode_functions(functions)?;
    let header_error = |offset: usize, message: String| Error::InvalidWasm {
        section: Some("header".into()),
        offset: Some(offset),
        message,
    };
    if module.len() < 8 || &module[..4] != b"\0asm" {
        return Err(header_error(
            0,
            "not a binary WebAssembly module (it must start with 00 61 73 6d)".into(),
        ));
    }
    if module[4..8] != [1, 0, 0, 0] {
        return Err(header_error(
            4,
            format!(
                "version {:02x?} is not a core module (01 00 00 00); components are not plugins",
                &module[4..8]
            ),
        ));
    }
    let mut out = Vec::with_capacity(module.len() + 256);
    out.extend_from_slice(&module[..8]);
    let mut offset = 8;
    while offset < module.len() {
        let (end, custom_name) = section_extent(module, offset)?;
        let ours = custom_name
            .as_deref()
            .is_some_and(|n| [SECTION_ABI, SECTION_META, SECTION_FUNCTIONS].contains(&n));
        if !ours {
            out.extend_from_slice(&module[offset..end]);
        }
        offset = end;
    }
    let version = abi_version.to_le_bytes();
    let meta = encode_meta(meta);
    for (name, data) in [
        (SECTION_ABI, &version[..]),
        (SECTION_META, &meta[..]),
        (SECTION_FUNCTIONS, &functions[..]),
    ] {
        out.push(0);
        CustomSection {
            name: name.into(),
            data: data.into(),
        }
        .encode(&mut out);
    }
    Ok(out)
}

/// The end offset of the section starting at `offset`, and its name if it is a custom
/// section.
fn section_extent(module: &[u8], offset: usize) -> Result<(usize, Option<String>)> {
    let bad = |at: usize, message: String| Error::InvalidWasm {
        section: None,
        offset: Some(at),
        message,
    };
    let id = module[offset];
    let mut reader = BinaryReader::new(&module[offset + 1..], offset + 1);
    let size = reader
        .read_var_u32()
        .map_err(|e| bad(e.offset(), format!("section size: {}", e.message())))?;
    let start = reader.original_position();
    let end = start
        .checked_add(size as usize)
        .filter(|&end| end <= module.len())
        .ok_or_else(|| {
            bad(
                offset,
                format!("section of {size} bytes runs past the end of the module"),
            )
        })?;
    if id != 0 {
        return Ok((end, None));
    }
    let mut body = BinaryReader::new(&module[start..end], start);
    let name = body
        .read_string()
        .map_err(|e| bad(e.offset(), format!("custom section name: {}", e.message())))?;
    Ok((end, Some(name.to_string())))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::abi::PluginInterface;

    const MODULE: &str = r#"(module
        (memory (export "memory") 1)
        (func (export "allocate") (param i32) (result i32) i32.const 0)
        (func (export "deallocate") (param i32 i32))
        (func (export "echo") (param i32 i32) (result i64) i64.const 0)
        (func (export "wasmplug:len") (param i32 i32) (result i64) i64.const 0)
        (func (export "helper") (param i32) (result i64) i64.const 0)
        (func (export "init") (param i32 i32) (result i64) i64.const 0)
        (@custom "wasmplug.abi" "\07\00")
        (@custom "wasmplug.functions" "old\n")
        (@custom "other" "kept"))"#;

    fn meta() -> PluginMeta {
        serde_json::from_str(r#"{"name":"demo","version":"1.2.3","description":"d"}"#).unwrap()
    }

    #[test]
    fn replaces_the_sections_and_keeps_everything_else() {
        let module = wat::parse_str(MODULE).unwrap();
        let info = ModuleInfo::parse(&module).unwrap();
        let functions = infer_functions(&info);
        assert_eq!(functions, ["echo", "len"]);
        assert_eq!(listed_functions(&info, &module).unwrap(), ["old"]);
        let out = write_sections(&module, 1, &meta(), &functions).unwrap();
        let info = ModuleInfo::parse(&out).unwrap();
        let interface = PluginInterface::check(&info, &out).unwrap();
        assert_eq!(interface.meta, meta());
        assert_eq!(interface.functions, ["echo", "len"]);
        let names: Vec<_> = info
            .custom_sections
            .iter()
            .map(|(n, _)| n.as_str())
            .collect();
        assert_eq!(
            names,
            ["other", SECTION_ABI, SECTION_META, SECTION_FUNCTIONS]
        );
        // Idempotent: writing again gives the same bytes.
        assert_eq!(write_sections(&out, 1, &meta(), &functions).unwrap(), out);
    }

    #[test]
    fn bad_names_and_bad_modules_are_refused() {
        let module = wat::parse_str(MODULE).unwrap();
        for bad in [
            vec![],
            vec!["".to_string()],
            vec!["a\nb".into()],
            vec!["init".into()],
        ] {
            let e = write_sections(&module, 1, &meta(), &bad).unwrap_err();
            assert!(matches!(e, Error::InvalidPlugin { .. }), "{bad:?}: {e}");
        }
        let e = write_sections(b"\0asm\x0d\0\x01\0", 1, &meta(), &["f".into()]).unwrap_err();
        assert!(e.to_string().contains("components"), "{e}");
        let mut truncated = module.clone();
        truncated.truncate(module.len() - 3);
        let e = write_sections(&truncated, 1, &meta(), &["f".into()]).unwrap_err();
        assert!(e.to_string().contains("past the end"), "{e}");
    }
}
