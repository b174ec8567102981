//! Static facts about a module, read with a parser and validator: no guest code runs.

use std::collections::{HashMap, HashSet};
use std::ops::Range;

use serde::Serialize;
use wasmparser::{
    Chunk, ExternalKind, FuncType, Parser, Payload, TypeRef, ValType, Validator, WasmFeatures,
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

    /// Like [`ModuleInfo::parse`], optionally without validating: for a module whose
    /// compiled form comes from the cache, i.e. whose exact bytes (the cache key is their
    /// sha256) wasmtime compiled, and so validated completely, before. Without validation
    /// the code section is skipped unread and signatures are resolved from the type section
    /// directly; the plugin limits (function and export counts) are checked either way.
    pub(crate) fn parse_with(bytes: &[u8], validate: bool) -> Result<ModuleInfo> {
        let mut sections: Vec<(String, Range<usize>)> = Vec::new();
        let invalid = |sections: &[(String, Range<usize>)], e: wasmparser::BinaryReaderError| {
            let offset = e.offset();
            Error::InvalidWasm {
                section: section_at(bytes, sections, offset),
                offset: Some(offset),
                message: e.message().to_string(),
            }
        };
        let mut validator = validate.then(|| Validator::new_with_features(WasmFeatures::default()));
        let mut types: Option<Types> = None;
        let mut own = OwnTypes::default();
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
        let mut parser = Parser::new(0);
        let mut rest = bytes;
        loop {
            let (consumed, payload) = match parser
                .parse(rest, true)
                .map_err(|e| invalid(&sections, e))?
            {
                Chunk::Parsed { consumed, payload } => (consumed, payload),
                // Not with `eof = true`; treated as a truncated module all the same.
                Chunk::NeedMoreData(_) => (rest.len(), Payload::End(bytes.len())),
            };
            if let Some((name, range)) = section_name(&payload) {
                sections.push((name, range));
            }
            if let Some(validator) = &mut validator {
                match validator
                    .payload(&payload)
                    .map_err(|e| invalid(&sections, e))?
                {
                    wasmparser::ValidPayload::Func(func, body) => {
                        let mut v = func.into_validator(Default::default());
                        v.validate(&body).map_err(|e| invalid(&sections, e))?;
                    }
                    wasmparser::ValidPayload::End(t) => types = Some(t),
                    wasmparser::ValidPayload::Parser(_) => {
                        return Err(Error::invalid_plugin(
                            "the file is a component or contains nested modules; wasmplug v1 plugins are core modules",
                        ));
                    }
                    wasmparser::ValidPayload::Ok => {}
                }
            }
            let mut skip = 0;
            match payload {
                Payload::Version { encoding, .. } if encoding != wasmparser::Encoding::Module => {
                    return Err(Error::invalid_plugin(
                        "the file is a WebAssembly component; wasmplug v1 plugins are core modules",
                    ));
                }
                Payload::TypeSection(reader) if validator.is_none() => {
                    for group in reader {
                        let group = group.map_err(|e| invalid(&sections, e))?;
                        own.types.extend(group.into_types().map(
                            |t| match t.composite_type.inner {
                                wasmparser::CompositeInnerType::Func(f) => Some(f),
                                _ => None,
                            },
                        ));
                    }
                }
                Payload::ImportSection(reader) => {
                    for imports in reader {
                        for import in imports.map_err(|e| invalid(&sections, e))? {
                            let (_, import) = import.map_err(|e| invalid(&sections, e))?;
                            own.import(&import.ty);
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
                    if validator.is_none() {
                        for ty in reader.clone() {
                            own.functions.push(ty.map_err(|e| invalid(&sections, e))?);
                        }
                    }
                }
                Payload::MemorySection(reader) if validator.is_none() => {
                    for memory in reader {
                        own.memories
                            .push(memory_info(&memory.map_err(|e| invalid(&sections, e))?));
                    }
                }
                Payload::GlobalSection(reader) if validator.is_none() => {
                    for global in reader {
                        let global = global.map_err(|e| invalid(&sections, e))?;
                        own.globals.push(global.ty.content_type);
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
                Payload::CodeSectionStart { size, .. } if validator.is_none() => {
                    parser.skip_section();
                    skip = size as usize;
                }
                Payload::ModuleSection { .. } | Payload::ComponentSection { .. } => {
                    return Err(Error::invalid_plugin(
                        "the file is a component or contains nested modules; wasmplug v1 plugins are core modules",
                    ));
                }
                Payload::End(_) => break,
                _ => {}
            }
            rest = rest
                .get(consumed + skip..)
                .ok_or_else(|| Error::InvalidWasm {
                    section: Some("code".into()),
                    offset: Some(bytes.len()),
                    message: "unexpected end of module".into(),
                })?;
        }
        let resolved = match &types {
            Some(types) => Resolve::Validated(types.as_ref()),
            None if validator.is_some() => {
                return Err(Error::InvalidWasm {
                    section: None,
                    offset: Some(bytes.len()),
                    message: "unexpected end of module".into(),
                });
            }
            None => Resolve::Own(&own),
        };
        for (module, name, ty) in raw_imports {
            let ty = match ty {
                TypeRef::Func(idx) | TypeRef::FuncExact(idx) => {
                    format!("func {}", signature(resolved.type_at(idx)))
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
                    let f = resolved.function(index).cloned();
                    (format!("func {}", signature(f.as_ref())), f)
                }
                ExternalKind::Memory => ("memory".to_string(), None),
                ExternalKind::Table => ("table".to_string(), None),
                ExternalKind::Global => match resolved.global(index) {
                    Some(ty) => (format!("global {ty}"), None),
                    None => ("global".to_string(), None),
                },
                ExternalKind::Tag => ("tag".to_string(), None),
            };
            if matches!(kind, ExternalKind::Func | ExternalKind::FuncExact) {
                info.export_funcs.insert(name.clone(), func);
            }
            info.export_names.insert(name.clone());
            info.exports.push(ExportInfo { name, ty });
        }
        info.memories = resolved.memories();
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

/// The types, functions, globals and memories of a module read without the validator (in
/// index order, imports first), to resolve signatures of a module known to be valid.
#[derive(Default)]
struct OwnTypes {
    /// By type index; `None` for a non-function type.
    types: Vec<Option<FuncType>>,
    /// Type index of each function.
    functions: Vec<u32>,
    globals: Vec<ValType>,
    memories: Vec<MemoryInfo>,
}

impl OwnTypes {
    fn import(&mut self, ty: &TypeRef) {
        match ty {
            TypeRef::Func(idx) | TypeRef::FuncExact(idx) => self.functions.push(*idx),
            TypeRef::Global(g) => self.globals.push(g.content_type),
            TypeRef::Memory(m) => self.memories.push(memory_info(m)),
            TypeRef::Table(_) | TypeRef::Tag(_) => {}
        }
    }
}

/// Where signatures come from: the validator's types, or the module's own sections.
enum Resolve<'a> {
    Validated(TypesRef<'a>),
    Own(&'a OwnTypes),
}

impl Resolve<'_> {
    fn type_at(&self, idx: u32) -> Option<&FuncType> {
        match self {
            Resolve::Validated(types) => func_type(types, types.core_type_at_in_module(idx)),
            Resolve::Own(own) => own.types.get(idx as usize)?.as_ref(),
        }
    }

    fn function(&self, index: u32) -> Option<&FuncType> {
        match self {
            Resolve::Validated(types) => func_type(types, types.core_function_at(index)),
            Resolve::Own(own) => self.type_at(*own.functions.get(index as usize)?),
        }
    }

    fn global(&self, index: u32) -> Option<ValType> {
        match self {
            Resolve::Validated(types) => Some(types.global_at(index).content_type),
            Resolve::Own(own) => own.globals.get(index as usize).copied(),
        }
    }

    fn memories(&self) -> Vec<MemoryInfo> {
        match self {
            Resolve::Validated(types) => (0..types.memory_count())
                .map(|idx| memory_info(&types.memory_at(idx)))
                .collect(),
            Resolve::Own(own) => own.memories.clone(),
        }
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

#[cfg(test)]
mod tests {
    use std::path::Path;

    use super::ModuleInfo;

    /// The unvalidated scan (cache hits) reads exactly what the validating parse reads.
    fn assert_same(what: &str, bytes: &[u8]) {
        let full = ModuleInfo::parse_with(bytes, true).unwrap();
        let scan = ModuleInfo::parse_with(bytes, false).unwrap();
        assert_eq!(full.imports, scan.imports, "{what}");
        assert_eq!(full.exports, scan.exports, "{what}");
        assert_eq!(full.memories, scan.memories, "{what}");
        assert_eq!(full.custom_sections, scan.custom_sections, "{what}");
        assert_eq!(full.customs, scan.customs, "{what}");
        assert_eq!(full.defined_functions, scan.defined_functions, "{what}");
        assert_eq!(full.export_funcs, scan.export_funcs, "{what}");
        assert_eq!(full.export_names, scan.export_names, "{what}");
    }

    #[test]
    fn the_scan_of_a_cached_module_matches_the_validating_parse() {
        let root = Path::new(env!("CARGO_MANIFEST_DIR")).join("../..");
        let mut wat_files = 0;
        for entry in std::fs::read_dir(root.join("tests/guests/wat")).unwrap() {
            let path = entry.unwrap().path();
            if path.extension().is_some_and(|e| e == "wat")
                && let Ok(bytes) = wat::parse_file(&path)
                && ModuleInfo::parse(&bytes).is_ok()
            {
                assert_same(&path.display().to_string(), &bytes);
                wat_files += 1;
            }
        }
        assert!(wat_files >= 5, "only {wat_files} WAT modules parsed");
        // The example modules of every language (core modules; components are not parsed here).
        let mut modules = 0;
        for entry in std::fs::read_dir(root.join("examples/plugins")).unwrap() {
            let dir = entry.unwrap().path();
            let name = dir.file_name().unwrap().to_string_lossy().into_owned();
            let wasm = dir.join(format!("{name}.wasm"));
            if let Ok(bytes) = std::fs::read(&wasm)
                && !wasmparser::Parser::is_component(&bytes)
            {
                assert_same(&wasm.display().to_string(), &bytes);
                modules += 1;
            }
        }
        assert!(
            modules >= 5,
            "only {modules} example modules found: run `bash scripts/build-guests.sh --all`"
        );
        // A module with every kind of import and export, and a global and memories of its own.
        let all = wat::parse_str(
            r#"(module
                (type $pair (func (param i32 i32) (result i64)))
                (import "env" "f" (func $f (type $pair)))
                (import "env" "g" (global $g i64))
                (import "env" "m" (memory 1 2))
                (import "env" "t" (table 1 funcref))
                (memory (export "mem") 3)
                (global $own (export "own") (mut f32) (f32.const 1))
                (func (export "run") (param i32 i32) (result i64) local.get 0 i64.extend_i32_u)
                (func (export "none"))
                (export "f" (func $f))
                (export "g" (global $g))
                (@custom "wasmplug.meta" "{}"))"#,
        )
        .unwrap();
        assert_same("all kinds", &all);
    }
}
