//! Static facts about a module, read with a parser and validator: no guest code runs.

use std::collections::{HashMap, HashSet};
use std::ops::Range;

use serde::Serialize;
use wasmparser::{
    ExternalKind, FuncType, Parser, Payload, TypeRef, Validator, WasmFeatures,
    types::{Types, TypesRef},
};

use crate::error::{Error, Result};

/// An import of a module.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct ImportInfo {
    /// Import module, e.g. `wasmplug`.
    pub module: String,
    /// Imported item name.
    pub name: String,
    /// Kind and signature, e.g. `func (i32, i32) -> i64`.
    pub ty: String,
}

/// An export of a module.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct ExportInfo {
    /// Export name.
    pub name: String,
    /// Kind and signature, e.g. `func (i32) -> i32` or `memory`.
    pub ty: String,
}

/// A linear memory of a module (imported or defined).
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct MemoryInfo {
    /// Initial size in 64 KiB pages.
    pub initial_pages: u64,
    /// Maximum size in pages, if declared.
    pub maximum_pages: Option<u64>,
    /// Whether it is a 64-bit memory.
    pub memory64: bool,
    /// Whether it is shared (threads).
    pub shared: bool,
}

/// What a module is made of, read statically.
#[derive(Debug, Clone, Serialize)]
pub struct ModuleInfo {
    /// Module size in bytes.
    pub size: u64,
    /// Imports, in order.
    pub imports: Vec<ImportInfo>,
    /// Exports, in order.
    pub exports: Vec<ExportInfo>,
    /// Memories (imported first).
    pub memories: Vec<MemoryInfo>,
    /// Custom sections: name and payload size.
    pub custom_sections: Vec<(String, usize)>,
    /// Functions the module defines (not counting imports).
    pub defined_functions: u32,
    #[serde(skip)]
    pub(crate) customs: Vec<(String, Range<usize>)>,
    /// Exported functions by name (`None`: not a function type the parser could resolve).
    #[serde(skip)]
    pub(crate) export_funcs: HashMap<String, Option<FuncType>>,
    #[serde(skip)]
    pub(crate) export_names: HashSet<String>,
}

impl ModuleInfo {
    /// Parses and validates `bytes` as a core WebAssembly module.
    ///
    /// # Errors
    /// [`Error::InvalidWasm`] naming the section where decoding or validation failed.
    pub fn parse(bytes: &[u8]) -> Result<ModuleInfo> {
        Self::parse_with(bytes, true)
    }

    /// Like [`ModuleInfo::parse`], optionally without validating function bodies: for a
    /// module whose compiled form comes from the cache, i.e. that wasmtime compiled (and so
    /// validated completely) before. Everything else is still decoded and validated.
    pub(crate) fn parse_with(bytes: &[u8], validate_bodies: bool) -> Result<ModuleInfo> {
        let mut sections: Vec<(String, Range<usize>)> = Vec::new();
        let invalid = |sections: &[(String, Range<usize>)], e: wasmparser::BinaryReaderError| {
            let offset = e.offset();
            Error::InvalidWasm {
                section: section_at(bytes, sections, offset),
                offset: Some(offset),
                message: e.message().to_string(),
            }
        };
        let mut validator = Validator::new_with_features(WasmFeatures::default());
        let mut types: Option<Types> = None;
        let mut info = ModuleInfo {
            size: bytes.len() as u64,
            imports: Vec::new(),
            exports: Vec::new(),
            memories: Vec::new(),
            custom_sections: Vec::new(),
            defined_functions: 0,
            customs: Vec::new(),
            export_funcs: HashMap::new(),
            export_names: HashSet::new(),
        };
        let mut raw_imports = Vec::new();
        let mut raw_exports = Vec::new();
        for payload in Parser::new(0).parse_all(bytes) {
            let payload = payload.map_err(|e| invalid(&sections, e))?;
            if let Some((name, range)) = section_name(&payload) {
                sections.push((name, range));
            }
            match validator
                .payload(&payload)
                .map_err(|e| invalid(&sections, e))?
            {
                wasmparser::ValidPayload::Func(func, body) if validate_bodies => {
                    let mut v = func.into_validator(Default::default());
                    v.validate(&body).map_err(|e| invalid(&sections, e))?;
                }
                wasmparser::ValidPayload::End(t) => types = Some(t),
                wasmparser::ValidPayload::Parser(_) => {
                    return Err(Error::invalid_plugin(
                        "the file is a component or contains nested modules; wasmplug v1 plugins are core modules",
                    ));
                }
                wasmparser::ValidPayload::Func(..) | wasmparser::ValidPayload::Ok => {}
            }
            match payload {
                Payload::Version { encoding, .. } if encoding != wasmparser::Encoding::Module => {
                    return Err(Error::invalid_plugin(
                        "the file is a WebAssembly component; wasmplug v1 plugins are core modules",
                    ));
                }
                Payload::ImportSection(reader) => {
                    for imports in reader {
                        for import in imports.map_err(|e| invalid(&sections, e))? {
                            let (_, import) = import.map_err(|e| invalid(&sections, e))?;
                            raw_imports.push((
                                import.module.to_string(),
                                import.name.to_string(),
                                import.ty,
                            ));
                        }
                    }
                }
                Payload::FunctionSection(ref reader) => {
                    info.defined_functions = reader.count();
                    if reader.count() > crate::abi::MAX_DEFINED_FUNCTIONS {
                        return Err(Error::invalid_plugin(format!(
                            "the module defines {} functions, more than the {} a plugin may have; split it or strip unused code (e.g. `wasm-opt -Oz`)",
                            reader.count(),
                            crate::abi::MAX_DEFINED_FUNCTIONS
                        )));
                    }
                }
                Payload::ExportSection(reader) => {
                    if reader.count() as usize > crate::abi::MAX_EXPORTS {
                        return Err(Error::invalid_plugin(format!(
                            "the module has {} exports, more than the {} a plugin may have; export only the plugin's functions (C/Zig: no `--export-all`)",
                            reader.count(),
                            crate::abi::MAX_EXPORTS
                        )));
                    }
                    for export in reader {
                        let export = export.map_err(|e| invalid(&sections, e))?;
                        raw_exports.push((export.name.to_string(), export.kind, export.index));
                    }
                }
                Payload::CustomSection(reader) => {
                    let range = reader.data_offset()..reader.data_offset() + reader.data().len();
                    info.custom_sections
                        .push((reader.name().to_string(), reader.data().len()));
                    info.customs.push((reader.name().to_string(), range));
                }
                _ => {}
            }
        }
        let types = types.ok_or_else(|| Error::InvalidWasm {
            section: None,
            offset: Some(bytes.len()),
            message: "unexpected end of module".into(),
        })?;
        let types = types.as_ref();
        for (module, name, ty) in raw_imports {
            let ty = match ty {
                TypeRef::Func(idx) | TypeRef::FuncExact(idx) => {
                    format!(
                        "func {}",
                        signature(func_type(&types, types.core_type_at_in_module(idx)))
                    )
                }
                TypeRef::Memory(m) => format!("memory {}", memory_info(&m).describe()),
                TypeRef::Table(t) => format!("table {}", t.element_type),
                TypeRef::Global(g) => format!("global {}", g.content_type),
                TypeRef::Tag(_) => "tag".to_string(),
            };
            info.imports.push(ImportInfo { module, name, ty });
        }
        for (name, kind, index) in raw_exports {
            let (ty, func) = match kind {
                ExternalKind::Func | ExternalKind::FuncExact => {
                    let f = func_type(&types, types.core_function_at(index)).cloned();
                    (format!("func {}", signature(f.as_ref())), f)
                }
                ExternalKind::Memory => ("memory".to_string(), None),
                ExternalKind::Table => ("table".to_string(), None),
                ExternalKind::Global => (
                    format!("global {}", types.global_at(index).content_type),
                    None,
                ),
                ExternalKind::Tag => ("tag".to_string(), None),
            };
            if matches!(kind, ExternalKind::Func | ExternalKind::FuncExact) {
                info.export_funcs.insert(name.clone(), func);
            }
            info.export_names.insert(name.clone());
            info.exports.push(ExportInfo { name, ty });
        }
        for idx in 0..types.memory_count() {
            info.memories.push(memory_info(&types.memory_at(idx)));
        }
        Ok(info)
    }

    /// The payloads of all custom sections called `name`, in order.
    pub(crate) fn custom<'a>(&self, bytes: &'a [u8], name: &str) -> Vec<&'a [u8]> {
        self.customs
            .iter()
            .filter(|(n, _)| n == name)
            .map(|(_, r)| &bytes[r.clone()])
            .collect()
    }

    /// Whether an export named `name` exists.
    pub(crate) fn has_export(&self, name: &str) -> bool {
        self.export_names.contains(name)
    }

    /// The signature of exported function `name`: `None` if no such export exists,
    /// `Some(None)` if it exists but is not a function.
    pub(crate) fn export_func(&self, name: &str) -> Option<Option<&FuncType>> {
        if let Some(f) = self.export_funcs.get(name) {
            return Some(f.as_ref());
        }
        self.has_export(name).then_some(None)
    }
}

impl MemoryInfo {
    fn describe(&self) -> String {
        let max = self
            .maximum_pages
            .map(|m| m.to_string())
            .unwrap_or_else(|| "none".into());
        format!(
            "{} pages (max {max}){}",
            self.initial_pages,
            if self.shared { " shared" } else { "" }
        )
    }
}

fn memory_info(m: &wasmparser::MemoryType) -> MemoryInfo {
    MemoryInfo {
        initial_pages: m.initial,
        maximum_pages: m.maximum,
        memory64: m.memory64,
        shared: m.shared,
    }
}

fn func_type<'a>(
    types: &'a TypesRef<'_>,
    id: wasmparser::types::CoreTypeId,
) -> Option<&'a FuncType> {
    match &types[id].composite_type.inner {
        wasmparser::CompositeInnerType::Func(f) => Some(f),
        _ => None,
    }
}

/// Formats a signature as `(i32, i32) -> i64`.
pub(crate) fn signature(f: Option<&FuncType>) -> String {
    let Some(f) = f else {
        return "<non-function type>".into();
    };
    let list = |tys: &[wasmparser::ValType]| {
        tys.iter()
            .map(|t| t.to_string())
            .collect::<Vec<_>>()
            .join(", ")
    };
    match f.results() {
        [] => format!("({})", list(f.params())),
        [one] => format!("({}) -> {one}", list(f.params())),
        many => format!("({}) -> ({})", list(f.params()), list(many)),
    }
}

fn section_name(payload: &Payload<'_>) -> Option<(String, Range<usize>)> {
    let (name, range) = match payload {
        Payload::TypeSection(r) => ("type", r.range()),
        Payload::ImportSection(r) => ("import", r.range()),
        Payload::FunctionSection(r) => ("function", r.range()),
        Payload::TableSection(r) => ("table", r.range()),
        Payload::MemorySection(r) => ("memory", r.range()),
        Payload::TagSection(r) => ("tag", r.range()),
        Payload::GlobalSection(r) => ("global", r.range()),
        Payload::ExportSection(r) => ("export", r.range()),
        Payload::StartSection { range, .. } => ("start", range.clone()),
        Payload::ElementSection(r) => ("element", r.range()),
        Payload::DataCountSection { range, .. } => ("data count", range.clone()),
        Payload::DataSection(r) => ("data", r.range()),
        Payload::CodeSectionStart { range, .. } => ("code", range.clone()),
        Payload::CustomSection(r) => return Some((format!("custom `{}`", r.name()), r.range())),
        _ => return None,
    };
    Some((name.to_string(), range))
}

/// Names the section containing `offset`; for a section whose header could not be read,
/// names it from its id byte.
fn section_at(bytes: &[u8], sections: &[(String, Range<usize>)], offset: usize) -> Option<String> {
    if offset < 8 {
        return Some("header".into());
    }
    if let Some((name, _)) = sections
        .iter()
        .rev()
        .find(|(_, r)| r.start <= offset && offset <= r.end)
    {
        return Some(name.clone());
    }
    let next = sections.last().map_or(8, |(_, r)| r.end);
    let name = match bytes.get(next)? {
        0 => "custom",
        1 => "type",
        2 => "import",
        3 => "function",
        4 => "table",
        5 => "memory",
        6 => "global",
        7 => "export",
        8 => "start",
        9 => "element",
        10 => "code",
        11 => "data",
        12 => "data count",
        13 => "tag",
        _ => return None,
    };
    Some(name.to_string())
}
