//! Checks a module against the ABI and extracts its metadata and function list.

use serde::{Deserialize, Serialize};
use wasmparser::{FuncType, ValType};

use super::hints;
use super::module_info::{ModuleInfo, signature};
use super::*;
use crate::error::{Error, Result};
use crate::name::PluginName;

/// Plugin metadata from the `wasmplug.meta` custom section.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct PluginMeta {
    /// Plugin name.
    pub name: PluginName,
    /// Plugin version.
    #[serde(with = "version_string")]
    pub version: semver::Version,
    /// Description (empty if not given).
    #[serde(default)]
    pub description: String,
    /// Author (empty if not given).
    #[serde(default)]
    pub author: String,
    /// What the plugin requires of its host (optional; docs/abi.md, `wasmplug.meta`).
    #[serde(default, skip_serializing_if = "crate::Requirements::is_empty")]
    pub requires: crate::Requirements,
}

mod version_string {
    use serde::{Deserialize, Deserializer, Serializer, de};

    pub fn serialize<S: Serializer>(v: &semver::Version, s: S) -> Result<S::Ok, S::Error> {
        s.collect_str(v)
    }

    pub fn deserialize<'de, D: Deserializer<'de>>(d: D) -> Result<semver::Version, D::Error> {
        let s = String::deserialize(d)?;
        s.parse()
            .map_err(|e| de::Error::custom(format!("version `{s}` is not semver: {e}")))
    }
}

/// Everything the host needs to know to call a module as a plugin, checked against the ABI.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct PluginInterface {
    /// ABI version from `wasmplug.abi`.
    pub abi_version: u32,
    /// Metadata from `wasmplug.meta`.
    pub meta: PluginMeta,
    /// Plugin functions from `wasmplug.functions`, deduplicated, in order.
    pub functions: Vec<String>,
    /// The export that implements each function (same order as `functions`): the function's
    /// name itself or `wasmplug:<name>`.
    pub function_exports: Vec<String>,
    /// Whether the module exports `init`.
    pub has_init: bool,
    /// Whether the module exports `_initialize`.
    pub has_initialize: bool,
}

fn sig(params: &[ValType], results: &[ValType]) -> String {
    signature(Some(&FuncType::new(
        params.iter().copied(),
        results.iter().copied(),
    )))
}

impl PluginInterface {
    /// Checks `info` (parsed from `bytes`) against ABI v1: sections, exports, signatures
    /// and imports. Reports the first problem found.
    ///
    /// # Errors
    /// [`Error::AbiVersionMismatch`], [`Error::MissingExport`], [`Error::ExportType`] or
    /// [`Error::InvalidPlugin`].
    pub fn check(info: &ModuleInfo, bytes: &[u8]) -> Result<PluginInterface> {
        let abi_version = abi_version(info, bytes)?;
        let meta = meta(info, bytes)?;
        match info.exports.iter().find(|e| e.name == EXPORT_MEMORY) {
            Some(e) if e.ty == "memory" => {}
            Some(e) => {
                return Err(Error::ExportType {
                    name: EXPORT_MEMORY.into(),
                    expected: "memory".into(),
                    found: e.ty.clone(),
                });
            }
            None => {
                return Err(Error::MissingExport {
                    name: EXPORT_MEMORY.into(),
                    expected: "the linear memory".into(),
                });
            }
        }
        use ValType::{I32, I64};
        expect_func(info, EXPORT_ALLOCATE, &[I32], &[I32], true)?;
        expect_func(info, EXPORT_DEALLOCATE, &[I32, I32], &[], true)?;
        let has_init = expect_func(info, EXPORT_INIT, &[I32, I32], &[I64], false)?;
        let has_initialize = expect_func(info, EXPORT_INITIALIZE, &[], &[], false)?;
        if info.has_export(EXPORT_START) && !has_initialize {
            return Err(Error::invalid_plugin(
                "the module exports `_start` (a WASI command); build it as a reactor/library instead (Rust: crate-type = [\"cdylib\"]; clang: -mexec-model=reactor; Go: -buildmode=c-shared)",
            ));
        }
        let functions = functions(info, bytes)?;
        let mut function_exports = Vec::with_capacity(functions.len());
        for f in &functions {
            let prefixed = format!("{FUNCTION_EXPORT_PREFIX}{f}");
            let export = if info.has_export(f) || !info.has_export(&prefixed) {
                f.clone()
            } else {
                prefixed
            };
            expect_func(info, &export, &[I32, I32], &[I64], true).map_err(|e| match e {
                Error::MissingExport { expected, .. } => Error::MissingExport {
                    name: f.clone(),
                    expected: format!(
                        "{expected}, exported as `{f}` or `{FUNCTION_EXPORT_PREFIX}{f}`"
                    ),
                },
                other => other,
            })?;
            function_exports.push(export);
        }
        for import in info.imports.iter().filter(|i| i.module == HOST_MODULE) {
            let Some((params, results)) = crate::host_fn::builtin_signature(&import.name) else {
                return Err(Error::invalid_plugin(format!(
                    "unsupported import `{HOST_MODULE}::{}` ({}): no such host function (see docs/abi.md section 5)",
                    import.name, import.ty
                )));
            };
            let expected = format!("func {}", sig(params, results));
            if import.ty != expected {
                return Err(Error::invalid_plugin(format!(
                    "import `{HOST_MODULE}::{}` has type `{}`, expected `{expected}` (see docs/abi.md section 5)",
                    import.name, import.ty
                )));
            }
        }
        Ok(PluginInterface {
            abi_version,
            meta,
            functions,
            function_exports,
            has_init,
            has_initialize,
        })
    }
}

impl PluginInterface {
    /// For a component: the `wasmplug.abi`, `wasmplug.meta` and `wasmplug.functions`
    /// sections only (its exports are checked against the `wasmplug:plugin` world when it is
    /// compiled). Every function is reached through the world's `call` export.
    ///
    /// # Errors
    /// As [`PluginInterface::check`] for the sections.
    pub(crate) fn check_sections(info: &ModuleInfo, bytes: &[u8]) -> Result<PluginInterface> {
        let abi_version = abi_version(info, bytes)?;
        let meta = meta(info, bytes)?;
        let functions = functions(info, bytes)?;
        Ok(PluginInterface {
            abi_version,
            meta,
            function_exports: functions.clone(),
            functions,
            has_init: true,
            has_initialize: false,
        })
    }
}

fn abi_version(info: &ModuleInfo, bytes: &[u8]) -> Result<u32> {
    match info.custom(bytes, SECTION_ABI).as_slice() {
        [] => Err(Error::invalid_plugin(format!(
            "no `{SECTION_ABI}` custom section, so this is not a wasmplug plugin; fix: {} (docs/abi.md section 2)",
            hints::sections_fix(hints::toolchain(info, bytes))
        ))),
        [data] => {
            let raw: [u8; 4] = (*data).try_into().map_err(|_| {
                Error::invalid_plugin(format!(
                    "the `{SECTION_ABI}` section must be exactly 4 bytes, the ABI version as a u32 little-endian (`01 00 00 00`), found {} byte{}: {:02x?}{}",
                    data.len(),
                    if data.len() == 1 { "" } else { "s" },
                    &data[..data.len().min(16)],
                    if data.len() == 8 { " (two copies: the linker concatenates same-named sections; is the kit's section macro used twice?)" } else { "" }
                ))
            })?;
            let found = u32::from_le_bytes(raw);
            if SUPPORTED_ABI_VERSIONS.contains(&found) {
                Ok(found)
            } else {
                Err(Error::AbiVersionMismatch {
                    found,
                    supported: SUPPORTED_ABI_VERSIONS,
                })
            }
        }
        _ => Err(Error::invalid_plugin(format!(
            "more than one `{SECTION_ABI}` section"
        ))),
    }
}

fn meta(info: &ModuleInfo, bytes: &[u8]) -> Result<PluginMeta> {
    match info.custom(bytes, SECTION_META).as_slice() {
        [data] => serde_json::from_slice(data).map_err(|e| {
            Error::invalid_plugin(format!(
                "the `{SECTION_META}` section is not valid metadata: {e}; found {}",
                hints::describe_bytes(data)
            ))
        }),
        [] => Err(Error::invalid_plugin(format!(
            "no `{SECTION_META}` custom section with the plugin's name and version; fix: {}",
            hints::sections_fix(hints::toolchain(info, bytes))
        ))),
        _ => Err(Error::invalid_plugin(format!(
            "more than one `{SECTION_META}` section"
        ))),
    }
}

fn functions(info: &ModuleInfo, bytes: &[u8]) -> Result<Vec<String>> {
    let mut names: Vec<String> = Vec::new();
    let mut seen: std::collections::HashSet<&str> = std::collections::HashSet::new();
    for data in info.custom(bytes, SECTION_FUNCTIONS) {
        let text = std::str::from_utf8(data).map_err(|_| {
            Error::invalid_plugin(format!(
                "the `{SECTION_FUNCTIONS}` section is not UTF-8: found {}",
                hints::describe_bytes(data)
            ))
        })?;
        let Some(body) = text.strip_suffix('\n').or(text.is_empty().then_some("")) else {
            return Err(Error::invalid_plugin(format!(
                "the `{SECTION_FUNCTIONS}` section must end every name with `\\n` (0x0a), found {}",
                hints::describe_bytes(data)
            )));
        };
        for name in body.split('\n').filter(|_| !body.is_empty()) {
            if name.is_empty() || name.len() > MAX_FUNCTION_NAME_LEN {
                return Err(Error::invalid_plugin(format!(
                    "plugin function name `{name}` must be 1..={MAX_FUNCTION_NAME_LEN} bytes"
                )));
            }
            if RESERVED_EXPORTS.contains(&name) {
                return Err(Error::invalid_plugin(format!(
                    "`{name}` is a reserved export and cannot be a plugin function"
                )));
            }
            if seen.insert(name) {
                if names.len() == MAX_PLUGIN_FUNCTIONS {
                    return Err(Error::invalid_plugin(format!(
                        "the `{SECTION_FUNCTIONS}` section lists more than {MAX_PLUGIN_FUNCTIONS} plugin functions, the most a plugin may have"
                    )));
                }
                names.push(name.to_string());
            }
        }
    }
    if names.is_empty() {
        return Err(Error::invalid_plugin(format!(
            "no plugin functions: the `{SECTION_FUNCTIONS}` section is missing or empty; fix: {}",
            hints::sections_fix(hints::toolchain(info, bytes))
        )));
    }
    Ok(names)
}

/// Checks that `name` is an exported function with the given signature. Returns whether it
/// exists; a missing optional export is `Ok(false)`.
fn expect_func(
    info: &ModuleInfo,
    name: &str,
    params: &[ValType],
    results: &[ValType],
    required: bool,
) -> Result<bool> {
    let expected = format!("func {}", sig(params, results));
    match info.export_func(name) {
        None if required => Err(Error::MissingExport {
            name: name.into(),
            expected,
        }),
        None => Ok(false),
        Some(Some(f)) if f.params() == params && f.results() == results => Ok(true),
        Some(found) => Err(Error::ExportType {
            name: name.into(),
            expected,
            found: info
                .exports
                .iter()
                .find(|e| e.name == name)
                .map(|e| e.ty.clone())
                .unwrap_or_else(|| signature(found)),
        }),
    }
}
