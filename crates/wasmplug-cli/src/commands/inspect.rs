//! `wasmplug inspect <plugin.wasm|plugin.toml|plugin.wat> [--json]`
//!
//! Parses the module for the report, then compiles it with the same builder `run` uses
//! (manifest, grants, limits), so every check loading makes short of running guest code
//! runs here too: no instantiation, no guest code.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

use serde::Serialize;
use sha2::{Digest, Sha256};
use wasmplug::abi::{self, ExportInfo, ImportInfo, MemoryInfo};
use wasmplug::{Capabilities, Limits, Manifest, ModuleInfo, PluginInterface, PluginMeta};

use super::sandbox::{SandboxArgs, is_manifest};
use crate::exit;

mod component;

/// Show a plugin's ABI version, metadata, functions, imports, exports and memories, and
/// whether it is a valid wasmplug plugin (and why not). Exits with 3 if it is not.
#[derive(Debug, clap::Args)]
pub struct Inspect {
    /// A `plugin.toml`, `.wasm` module or `.wat` file.
    plugin: PathBuf,
    /// Print one JSON object instead of text.
    #[arg(long)]
    json: bool,
    /// Grants and limits to add, as for `run`: the report shows the effective sandbox.
    #[command(flatten)]
    sandbox: SandboxArgs,
}

/// What `inspect` reports.
#[derive(Debug, Serialize)]
struct Report {
    /// `module` (a core module of the guest ABI) or `component`.
    kind: &'static str,
    /// A component's world, as WIT.
    #[serde(skip_serializing_if = "Option::is_none")]
    world: Option<String>,
    /// A component's imports and exports with their types.
    #[serde(skip_serializing_if = "Vec::is_empty")]
    component_imports: Vec<(String, String)>,
    #[serde(skip_serializing_if = "Vec::is_empty")]
    component_exports: Vec<(String, String)>,
    /// A component's functions besides `init` and `call` (`Plugin::call_export` names).
    #[serde(skip_serializing_if = "Vec::is_empty")]
    typed_exports: Vec<String>,
    module: PathBuf,
    manifest: Option<PathBuf>,
    size: u64,
    sha256: String,
    valid: bool,
    error: Option<ErrorReport>,
    abi_version: Option<u32>,
    supported_abi_versions: String,
    meta: Option<PluginMeta>,
    functions: Vec<String>,
    exports: Vec<ExportInfo>,
    imports: Vec<ImportInfo>,
    memories: Vec<MemoryInfo>,
    custom_sections: Vec<CustomSection>,
    config: BTreeMap<String, String>,
    limits: Limits,
    grants: Grants,
}

/// The effective capabilities (environment values are not shown, only names).
#[derive(Debug, Serialize)]
struct Grants {
    fs: Vec<String>,
    env: Vec<String>,
    net: Vec<String>,
}

impl Grants {
    fn new(caps: &Capabilities) -> Grants {
        Grants {
            fs: caps.fs.iter().map(ToString::to_string).collect(),
            env: caps.env.iter().map(ToString::to_string).collect(),
            net: caps.net.iter().map(ToString::to_string).collect(),
        }
    }
}

#[derive(Debug, Serialize)]
struct ErrorReport {
    class: &'static str,
    message: String,
}

#[derive(Debug, Serialize)]
struct CustomSection {
    name: String,
    size: usize,
}

impl Inspect {
    /// Builds and prints the report.
    pub fn execute(self) -> anyhow::Result<()> {
        let report = report(&self.plugin, &self.sandbox).map_err(exit::load)?;
        if self.json {
            println!("{}", serde_json::to_string_pretty(&report)?);
        } else {
            print!("{}", render(&report));
        }
        match &report.error {
            None => Ok(()),
            Some(e) => Err(exit::load(anyhow::anyhow!(
                "`{}` is not a valid wasmplug plugin: {}",
                self.plugin.display(),
                // `Error::InvalidPlugin` already says it: do not say it twice.
                e.message
                    .strip_prefix("not a valid wasmplug plugin: ")
                    .unwrap_or(&e.message)
            ))),
        }
    }
}

fn report(path: &Path, flags: &SandboxArgs) -> anyhow::Result<Report> {
    let (manifest, module_path) = if is_manifest(path) {
        let manifest = Manifest::from_file(path)?;
        let module = manifest.wasm.clone();
        (Some(manifest), module)
    } else {
        (None, path.to_path_buf())
    };
    let limits = flags.limits(
        manifest
            .as_ref()
            .map(|m| m.limits.clone())
            .unwrap_or_default(),
    );
    let bytes = wasmplug::read_module_file(&module_path, limits.max_module_size.bytes())?;
    let mut report = Report {
        kind: "module",
        world: None,
        component_imports: Vec::new(),
        component_exports: Vec::new(),
        typed_exports: Vec::new(),
        module: module_path,
        manifest: manifest.as_ref().map(|_| path.to_path_buf()),
        size: bytes.len() as u64,
        sha256: hex(&Sha256::digest(&bytes)),
        valid: false,
        error: None,
        abi_version: None,
        supported_abi_versions: format!(
            "{}..={}",
            abi::SUPPORTED_ABI_VERSIONS.start(),
            abi::SUPPORTED_ABI_VERSIONS.end()
        ),
        meta: None,
        functions: Vec::new(),
        exports: Vec::new(),
        imports: Vec::new(),
        memories: Vec::new(),
        custom_sections: Vec::new(),
        config: {
            let mut config = manifest
                .as_ref()
                .map(|m| m.config.clone())
                .unwrap_or_default();
            config.extend(flags.config().iter().cloned());
            config
        },
        limits,
        grants: {
            let mut caps = manifest
                .as_ref()
                .map(|m| m.capabilities.clone())
                .unwrap_or_default();
            caps.extend(flags.capabilities());
            Grants::new(&caps)
        },
    };
    let fail = |report: &mut Report, e: wasmplug::Error| {
        report.error = Some(ErrorReport {
            class: e.class(),
            message: e.to_string(),
        });
    };
    let binary = match abi::to_binary(&bytes) {
        Ok(b) => b,
        Err(e) => {
            fail(&mut report, e);
            return Ok(report);
        }
    };
    if wasmplug::component::is_component(&binary) {
        let limits = report.limits.clone();
        component::fill(&mut report, &binary, &limits);
        return Ok(report);
    }
    let info = match ModuleInfo::parse(&binary) {
        Ok(info) => info,
        Err(e) => {
            fail(&mut report, e);
            return Ok(report);
        }
    };
    report.exports = info.exports.clone();
    report.imports = info.imports.clone();
    report.memories = info.memories.clone();
    report.custom_sections = info
        .custom_sections
        .iter()
        .map(|(name, size)| CustomSection {
            name: name.clone(),
            size: *size,
        })
        .collect();
    match PluginInterface::check(&info, &binary) {
        Ok(interface) => {
            report.abi_version = Some(interface.abi_version);
            report.meta = Some(interface.meta);
            report.functions = interface.functions;
        }
        Err(e) => {
            fail(&mut report, e);
            return Ok(report);
        }
    }
    // Every other check loading makes short of running guest code (the manifest against
    // the module, requirements, imports against the linker, limits against the engine
    // and the pool): the same compile `run` does, so the two verdicts agree.
    match flags.builder(path).and_then(|b| b.compile(path)) {
        Ok(_) => report.valid = true,
        Err(e) => fail(&mut report, e),
    }
    Ok(report)
}

fn hex(bytes: &[u8]) -> String {
    bytes.iter().map(|b| format!("{b:02x}")).collect()
}

fn render(r: &Report) -> String {
    use std::fmt::Write;
    let mut out = String::new();
    let w = &mut out;
    if let Some(m) = &r.meta {
        let _ = writeln!(w, "plugin       {} {}", m.name, m.version);
        if !m.description.is_empty() {
            let _ = writeln!(w, "description  {}", m.description);
        }
        if !m.author.is_empty() {
            let _ = writeln!(w, "author       {}", m.author);
        }
    }
    match &r.error {
        None => {
            let _ = writeln!(w, "valid        yes (wasmplug plugin)");
        }
        Some(e) => {
            let _ = writeln!(w, "valid        no: {} [{}]", e.message, e.class);
        }
    }
    if let Some(v) = r.abi_version {
        let _ = writeln!(
            w,
            "abi          {v} (host supports {})",
            r.supported_abi_versions
        );
    }
    if let Some(m) = &r.manifest {
        let _ = writeln!(w, "manifest     {}", m.display());
    }
    let _ = writeln!(
        w,
        "{:<12} {} ({} bytes)",
        r.kind,
        r.module.display(),
        r.size
    );
    let _ = writeln!(w, "sha256       {}", r.sha256);
    if !r.functions.is_empty() {
        let _ = writeln!(w, "functions    {}", r.functions.join(", "));
    }
    if !r.typed_exports.is_empty() {
        let _ = writeln!(
            w,
            "typed        {} (Plugin::call_export)",
            r.typed_exports.join(", ")
        );
    }
    section(w, "exports", r.component_exports.iter().cloned());
    section(w, "imports", r.component_imports.iter().cloned());
    if let Some(world) = &r.world {
        let _ = writeln!(w, "world (WIT)");
        for line in world.lines() {
            let _ = writeln!(w, "  {line}");
        }
    }
    section(
        w,
        "exports",
        r.exports.iter().map(|e| (e.name.clone(), e.ty.clone())),
    );
    section(
        w,
        "imports",
        r.imports
            .iter()
            .map(|i| (format!("{}::{}", i.module, i.name), i.ty.clone())),
    );
    section(
        w,
        "memories",
        r.memories.iter().enumerate().map(|(i, m)| {
            let max = m
                .maximum_pages
                .map_or("none".to_string(), |p| p.to_string());
            (
                format!("{i}"),
                format!("{} pages initial, max {max}", m.initial_pages),
            )
        }),
    );
    section(
        w,
        "custom sections",
        r.custom_sections
            .iter()
            .map(|c| (c.name.clone(), format!("{} bytes", c.size))),
    );
    section(
        w,
        "config",
        r.config.iter().map(|(k, v)| (k.clone(), v.clone())),
    );
    let g = &r.grants;
    let list = |v: &[String]| {
        if v.is_empty() {
            "none".to_string()
        } else {
            v.join(", ")
        }
    };
    let _ = writeln!(
        w,
        "grants       fs: {}; env: {}; net: {}",
        list(&g.fs),
        list(&g.env),
        list(&g.net)
    );
    let l = &r.limits;
    let timeout = l.timeout.map_or("none".to_string(), |t| format!("{t:?}"));
    let fuel = l.fuel.map_or("unmetered".to_string(), |f| f.to_string());
    let _ = writeln!(
        w,
        "limits       memory {}, timeout {timeout}, fuel {fuel}, stack {}, max_input {}, max_output {}, max_module_size {}, max_stdio {}",
        l.memory, l.stack, l.max_input, l.max_output, l.max_module_size, l.max_stdio
    );
    out
}

fn section(w: &mut String, title: &str, rows: impl Iterator<Item = (String, String)>) {
    use std::fmt::Write;
    let rows: Vec<_> = rows.collect();
    if rows.is_empty() {
        return;
    }
    let _ = writeln!(w, "{title}");
    let width = rows.iter().map(|(k, _)| k.len()).max().unwrap_or(0);
    for (k, v) in rows {
        let _ = writeln!(w, "  {k:width$}  {v}");
    }
}
