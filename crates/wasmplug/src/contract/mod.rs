//! The contract of a plugin — what callers and the host rely on — and the diff of two.
//!
//! A [`Contract`] is a stable JSON snapshot (`wasmplug contract`): ABI version, plugin
//! functions, imports with their wasm signatures, requested capabilities, limits and
//! requirements. Lists are sorted and paths inside the plugin folder are written relative to
//! it, so the same plugin gives the same bytes on every machine and a snapshot can be
//! committed and compared in CI. [`Diff::between`] classifies every change as compatible or
//! breaking (`wasmplug diff` exits 1 on a breaking one); the registry runs the same diff
//! against the running version before a candidate may serve (docs/contract.md).
//!
//! Reading a contract never runs or compiles guest code.

mod diff;
pub(crate) mod gate;
mod range;

pub use diff::{Change, ChangeKind, Diff};

use std::path::Path;

use serde::{Deserialize, Serialize};

use crate::abi::{ModuleInfo, PluginInterface};
use crate::capability::{Capabilities, FsMode};
use crate::error::Result;
use crate::limits::Limits;
use crate::manifest::Manifest;
use crate::plugin::{CompiledPlugin, PluginSource};
use crate::requirements::Requirements;

/// Version of the contract's JSON layout.
pub const CONTRACT_FORMAT: u32 = 1;

/// A plugin's contract (see the module docs). Field order is the JSON order.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Contract {
    /// [`CONTRACT_FORMAT`].
    pub format: u32,
    /// Plugin name.
    pub name: String,
    /// Plugin version.
    pub version: String,
    /// Guest ABI version (`wasmplug.abi`).
    pub abi_version: u32,
    /// Plugin functions, sorted.
    pub functions: Vec<String>,
    /// Imports, sorted by module and name.
    pub imports: Vec<Import>,
    /// Requested grants.
    pub capabilities: Grants,
    /// Limits (sizes in bytes, the timeout in milliseconds; `null` is unlimited).
    pub limits: LimitSet,
    /// Required plugin API and host-module versions.
    pub requires: Requirements,
}

/// One import of the module.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Import {
    /// Import module (`wasmplug`, `wasi_snapshot_preview1`, an application module).
    pub module: String,
    /// Item name.
    pub name: String,
    /// Kind and signature, e.g. `func (i32, i32) -> i64`.
    pub signature: String,
}

/// Requested grants, each list sorted.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Grants {
    /// Directory mounts.
    pub fs: Vec<Mount>,
    /// Environment variable names.
    pub env: Vec<String>,
    /// Outbound destination patterns.
    pub net: Vec<String>,
}

/// A directory mount; `host` is relative to the plugin folder when it lies inside it.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Mount {
    /// Host directory.
    pub host: String,
    /// Guest path.
    pub guest: String,
    /// Whether the guest may write.
    pub writable: bool,
}

/// The limits, as numbers (`None`: unlimited).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
#[allow(missing_docs)] // each field is the `Limits` field of the same name
pub struct LimitSet {
    pub memory: u64,
    pub timeout_ms: Option<u64>,
    pub fuel: Option<u64>,
    pub stack: u64,
    pub max_input: u64,
    pub max_output: u64,
    pub max_module_size: u64,
    pub max_stdio: u64,
    pub max_http_response: u64,
    pub max_kv_key: u64,
    pub max_kv_value: u64,
    pub max_kv_total: u64,
    pub log_lines_per_second: u64,
}

impl LimitSet {
    fn new(l: &Limits) -> LimitSet {
        LimitSet {
            memory: l.memory.bytes(),
            timeout_ms: l.timeout.map(|t| t.as_millis() as u64),
            fuel: l.fuel,
            stack: l.stack.bytes(),
            max_input: l.max_input.bytes(),
            max_output: l.max_output.bytes(),
            max_module_size: l.max_module_size.bytes(),
            max_stdio: l.max_stdio.bytes(),
            max_http_response: l.max_http_response.bytes(),
            max_kv_key: l.max_kv_key.bytes(),
            max_kv_value: l.max_kv_value.bytes(),
            max_kv_total: l.max_kv_total.bytes(),
            log_lines_per_second: u64::from(l.log_lines_per_second),
        }
    }

    /// `(name, value, unit)` of every limit, `None` meaning unlimited.
    pub(crate) fn entries(&self) -> [(&'static str, Option<u64>, Unit); 13] {
        use Unit::*;
        [
            ("memory", Some(self.memory), Bytes),
            ("timeout", self.timeout_ms, Millis),
            ("fuel", self.fuel, Count),
            ("stack", Some(self.stack), Bytes),
            ("max_input", Some(self.max_input), Bytes),
            ("max_output", Some(self.max_output), Bytes),
            ("max_module_size", Some(self.max_module_size), Bytes),
            ("max_stdio", Some(self.max_stdio), Bytes),
            ("max_http_response", Some(self.max_http_response), Bytes),
            ("max_kv_key", Some(self.max_kv_key), Bytes),
            ("max_kv_value", Some(self.max_kv_value), Bytes),
            ("max_kv_total", Some(self.max_kv_total), Bytes),
            (
                "log_lines_per_second",
                Some(self.log_lines_per_second),
                Count,
            ),
        ]
    }
}

/// How a limit's number is shown.
#[derive(Debug, Clone, Copy)]
pub(crate) enum Unit {
    Bytes,
    Millis,
    Count,
}

impl Contract {
    /// The contract of a compiled plugin (what the registry compares).
    pub fn of(plugin: &CompiledPlugin) -> Contract {
        let base = match plugin.source() {
            PluginSource::Manifest(path) => path.parent(),
            _ => None,
        };
        let mut contract = Contract::new(
            plugin.interface(),
            plugin.module_info(),
            plugin.capabilities(),
            plugin.limits(),
            plugin.requirements().clone(),
            base,
        );
        if let Some(world) = plugin.component() {
            // A component's imports typed structurally (as wasmtime sees them), not by the
            // type indices of its binary, which differ between builds of one interface.
            contract.imports = world
                .imports
                .iter()
                .map(|i| Import {
                    module: String::new(),
                    name: i.name.clone(),
                    signature: i.ty.clone(),
                })
                .collect();
            contract.imports.sort();
        }
        contract
    }

    /// Reads the contract of a `plugin.toml` (with its module) or of a `.wasm` / `.wat`
    /// module alone (default limits, no grants), without compiling anything.
    ///
    /// # Errors
    /// Any error reading the manifest or the module, or checking it against the ABI.
    pub fn from_path(path: impl AsRef<Path>) -> Result<Contract> {
        let path = path.as_ref();
        let (manifest, module) = if path.extension().is_some_and(|e| e == "toml") {
            let m = Manifest::from_file(path)?;
            let module = m.wasm.clone();
            (Some(m), module)
        } else {
            (None, path.to_path_buf())
        };
        let limit = manifest
            .as_ref()
            .map_or_else(Limits::default, |m| m.limits.clone())
            .max_module_size
            .bytes();
        let raw = crate::file::read_module_file(&module, limit)?;
        let bytes = crate::abi::to_binary(&raw)?;
        let info = ModuleInfo::parse(&bytes)?;
        let interface = PluginInterface::check(&info, &bytes)?;
        let requires = match &manifest {
            Some(m) => m.requires.merged(&interface.meta.requires),
            None => interface.meta.requires.clone(),
        };
        let (caps, limits) = manifest
            .as_ref()
            .map(|m| (m.capabilities.clone(), m.limits.clone()))
            .unwrap_or_default();
        Ok(Contract::new(
            &interface,
            &info,
            &caps,
            &limits,
            requires,
            manifest.is_some().then(|| path.parent()).flatten(),
        ))
    }

    fn new(
        interface: &PluginInterface,
        info: &ModuleInfo,
        caps: &Capabilities,
        limits: &Limits,
        requires: Requirements,
        base: Option<&Path>,
    ) -> Contract {
        let mut functions = interface.functions.clone();
        functions.sort();
        let mut imports: Vec<Import> = info
            .imports
            .iter()
            .map(|i| Import {
                module: i.module.clone(),
                name: i.name.clone(),
                signature: i.ty.clone(),
            })
            .collect();
        imports.sort();
        let sorted = |mut v: Vec<String>| {
            v.sort();
            v.dedup();
            v
        };
        let mut fs: Vec<Mount> = caps
            .fs
            .iter()
            .map(|m| Mount {
                host: base
                    .and_then(|b| m.host.strip_prefix(b).ok())
                    .map(|rel| {
                        if rel.as_os_str().is_empty() {
                            Path::new(".")
                        } else {
                            rel
                        }
                    })
                    .unwrap_or(&m.host)
                    .display()
                    .to_string(),
                guest: m.guest.clone(),
                writable: m.mode == FsMode::ReadWrite,
            })
            .collect();
        fs.sort();
        fs.dedup();
        Contract {
            format: CONTRACT_FORMAT,
            name: interface.meta.name.to_string(),
            version: interface.meta.version.to_string(),
            abi_version: interface.abi_version,
            functions,
            imports,
            capabilities: Grants {
                fs,
                env: sorted(caps.env.iter().map(|e| e.name().to_string()).collect()),
                net: sorted(caps.net.iter().map(ToString::to_string).collect()),
            },
            limits: LimitSet::new(limits),
            requires,
        }
    }

    /// The contract as pretty JSON, ending with a newline (what `wasmplug contract` prints).
    pub fn to_json(&self) -> String {
        let mut text = serde_json::to_string_pretty(self).expect("a contract serialises");
        text.push('\n');
        text
    }
}

impl std::fmt::Display for Mount {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        let mode = if self.writable { "rw" } else { "ro" };
        write!(f, "{}:{}:{mode}", self.host, self.guest)
    }
}

#[cfg(test)]
mod tests;
