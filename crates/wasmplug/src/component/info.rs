//! Static facts about a component: its custom sections (the `wasmplug.*` metadata, found in
//! its core module), and its world as wasmtime types it (imports, exports with their types),
//! with the reasons it is not a valid wasmplug plugin. No guest code runs.

use std::collections::{HashMap, HashSet};
use std::fmt::Write;

use serde::Serialize;
use wasmparser::{Parser, Payload};
use wasmtime::component::types::{self, ComponentItem as Item};

use crate::abi::{ExportInfo, ImportInfo, ModuleInfo};
use crate::error::{Error, Result};

/// One import or export of a component, with its type in WIT-like text.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct ComponentItem {
    /// Its name, e.g. `wasi:cli/environment@0.2.0` or `call`.
    pub name: String,
    /// Its type, e.g. `func(function: string, input: list<u8>) -> result<...>`, or
    /// `instance { ... }` with the functions of an interface.
    pub ty: String,
}

/// A component's world and whether it is a valid wasmplug plugin.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct ComponentInfo {
    /// What the component imports.
    pub imports: Vec<ComponentItem>,
    /// What the component exports.
    pub exports: Vec<ComponentItem>,
    /// The functions it exports besides the plugin protocol's `init` and `call`, as
    /// [`crate::Plugin::call_export`] names them: `name` at the top level,
    /// `interface#name` inside an exported interface (e.g. `example:typed/geometry@1.0.0#distance`).
    pub typed_exports: Vec<String>,
    /// Why it is not a `wasmplug:plugin` component (empty when it is one).
    pub problems: Vec<String>,
}

/// The type `call` must have (the `wasmplug:plugin` world).
pub(crate) const CALL_TYPE: &str = "func(function: string, input: list<u8>) -> result<list<u8>, record { message: string, code: option<s32> }>";
/// The type `init` must have.
pub(crate) const INIT_TYPE: &str = "func(config: list<tuple<string, string>>) -> result<_, record { message: string, code: option<s32> }>";

/// The sizes, custom sections (of the component and its core modules) and top-level imports
/// and exports of a component, as a [`ModuleInfo`] (memories and function counts are those
/// of core modules: empty here).
///
/// # Errors
/// [`Error::InvalidWasm`] if the bytes cannot be decoded.
pub(crate) fn component_module_info(bytes: &[u8]) -> Result<ModuleInfo> {
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
    let mut depth = 0usize;
    for payload in Parser::new(0).parse_all(bytes) {
        let payload = payload.map_err(|e| Error::InvalidWasm {
            section: None,
            offset: Some(e.offset()),
            message: e.message().to_string(),
        })?;
        match payload {
            Payload::Version { .. } => depth += 1,
            Payload::End(_) => depth = depth.saturating_sub(1),
            Payload::CustomSection(reader) => {
                info.custom_sections
                    .push((reader.name().to_string(), reader.data().len()));
                let start = reader.data_offset();
                info.customs.push((
                    reader.name().to_string(),
                    start..start + reader.data().len(),
                ));
            }
            Payload::ComponentImportSection(reader) if depth == 1 => {
                for import in reader.into_iter().flatten() {
                    info.imports.push(ImportInfo {
                        module: String::new(),
                        name: import.name.name.to_string(),
                        ty: format!("{:?}", import.ty).to_lowercase(),
                    });
                }
            }
            Payload::ComponentExportSection(reader) if depth == 1 => {
                for export in reader.into_iter().flatten() {
                    info.export_names.insert(export.name.name.to_string());
                    info.exports.push(ExportInfo {
                        name: export.name.name.to_string(),
                        ty: format!("{:?}", export.kind).to_lowercase(),
                    });
                }
            }
            _ => {}
        }
    }
    Ok(info)
}

/// The world of `component` and what keeps it from being a wasmplug plugin.
pub(crate) fn describe(
    engine: &wasmtime::Engine,
    component: &wasmtime::component::Component,
) -> ComponentInfo {
    let ty = component.component_type();
    let imports = ty
        .imports(engine)
        .map(|(name, ext)| ComponentItem {
            name: name.to_string(),
            ty: item(engine, &ext.ty),
        })
        .collect();
    let exports: Vec<ComponentItem> = ty
        .exports(engine)
        .map(|(name, ext)| ComponentItem {
            name: name.to_string(),
            ty: item(engine, &ext.ty),
        })
        .collect();
    let mut problems = Vec::new();
    for (name, expected) in [("call", CALL_TYPE), ("init", INIT_TYPE)] {
        match exports.iter().find(|e| e.name == name) {
            None => problems.push(format!(
                "no `{name}` export; a wasmplug component exports `{name}: {expected}` (world `wasmplug:plugin/plugin@1.0.0`, wit/plugin/plugin.wit)"
            )),
            Some(e) if e.ty != expected => problems.push(format!(
                "export `{name}` has type `{}`, expected `{expected}`",
                e.ty
            )),
            Some(_) => {}
        }
    }
    ComponentInfo {
        imports,
        exports,
        typed_exports: typed_exports(engine, component),
        problems,
    }
}

/// The functions `component` exports besides `init` and `call` (see
/// [`ComponentInfo::typed_exports`]).
fn typed_exports(
    engine: &wasmtime::Engine,
    component: &wasmtime::component::Component,
) -> Vec<String> {
    let mut names = Vec::new();
    for (name, ext) in component.component_type().exports(engine) {
        match &ext.ty {
            Item::ComponentFunc(_) if name != "init" && name != "call" => {
                names.push(name.to_string());
            }
            Item::ComponentInstance(instance) => {
                for (function, ext) in instance.exports(engine) {
                    if matches!(ext.ty, Item::ComponentFunc(_)) {
                        names.push(format!("{name}#{function}"));
                    }
                }
            }
            _ => {}
        }
    }
    names
}

fn item(engine: &wasmtime::Engine, it: &Item) -> String {
    match it {
        Item::ComponentFunc(f) => func(f),
        Item::ComponentInstance(instance) => {
            let mut s = String::from("instance {");
            for (name, ext) in instance.exports(engine) {
                let _ = write!(s, " {name}: {};", item(engine, &ext.ty));
            }
            s.push_str(" }");
            s
        }
        Item::CoreFunc(_) => "core func".into(),
        Item::Module(_) => "core module".into(),
        Item::Component(_) => "component".into(),
        Item::Type(t) => format!("type {}", ty(t)),
        Item::Resource(_) => "resource".into(),
    }
}

fn func(f: &types::ComponentFunc) -> String {
    let params: Vec<String> = f
        .params()
        .map(|(name, t)| format!("{name}: {}", ty(&t)))
        .collect();
    let results: Vec<String> = f.results().map(|t| ty(&t)).collect();
    let mut s = format!("func({})", params.join(", "));
    match results.as_slice() {
        [] => {}
        [one] => {
            let _ = write!(s, " -> {one}");
        }
        many => {
            let _ = write!(s, " -> ({})", many.join(", "));
        }
    }
    s
}

fn ty(t: &types::Type) -> String {
    use types::Type as T;
    let opt = |t: Option<types::Type>| t.map_or("_".to_string(), |t| ty(&t));
    match t {
        T::Bool => "bool".into(),
        T::S8 => "s8".into(),
        T::U8 => "u8".into(),
        T::S16 => "s16".into(),
        T::U16 => "u16".into(),
        T::S32 => "s32".into(),
        T::U32 => "u32".into(),
        T::S64 => "s64".into(),
        T::U64 => "u64".into(),
        T::Float32 => "f32".into(),
        T::Float64 => "f64".into(),
        T::Char => "char".into(),
        T::String => "string".into(),
        T::List(l) => format!("list<{}>", ty(&l.ty())),
        T::Record(r) => {
            let fields: Vec<String> = r
                .fields()
                .map(|f| format!("{}: {}", f.name, ty(&f.ty)))
                .collect();
            format!("record {{ {} }}", fields.join(", "))
        }
        T::Tuple(t) => {
            let types: Vec<String> = t.types().map(|t| ty(&t)).collect();
            format!("tuple<{}>", types.join(", "))
        }
        T::Variant(v) => {
            let cases: Vec<String> = v
                .cases()
                .map(|c| match c.ty {
                    Some(t) => format!("{}({})", c.name, ty(&t)),
                    None => c.name.to_string(),
                })
                .collect();
            format!("variant {{ {} }}", cases.join(", "))
        }
        T::Enum(e) => format!("enum {{ {} }}", e.names().collect::<Vec<_>>().join(", ")),
        T::Option(o) => format!("option<{}>", ty(&o.ty())),
        T::Result(r) => format!("result<{}, {}>", opt(r.ok()), opt(r.err())),
        T::Flags(f) => format!("flags {{ {} }}", f.names().collect::<Vec<_>>().join(", ")),
        T::Own(_) => "own<resource>".into(),
        T::Borrow(_) => "borrow<resource>".into(),
        other => format!("{other:?}").to_lowercase(),
    }
}
