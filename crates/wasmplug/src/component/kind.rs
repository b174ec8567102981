//! [`PluginKind`]: what a `plugin.toml` says its binary is (`kind = "..."`).

use serde::Deserialize;

/// The kind of binary a plugin folder holds. Loading checks it against the binary's header
/// (a mismatch is refused with both named), so a manifest can never make a host treat a
/// binary as something it is not.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Hash, Deserialize)]
#[serde(rename_all = "kebab-case")]
#[non_exhaustive]
pub enum PluginKind {
    /// A core module of the guest ABI v1 (docs/abi.md). The default.
    #[default]
    Module,
    /// A component of the `wasmplug:plugin` world (docs/components.md).
    Component,
    /// A standard `wasi:http/proxy` component, served by the gateway under
    /// `/v1/http/{name}/{path...}` (docs/components.md).
    WasiHttp,
}

impl PluginKind {
    /// The name used in `plugin.toml`.
    pub fn as_str(self) -> &'static str {
        match self {
            PluginKind::Module => "module",
            PluginKind::Component => "component",
            PluginKind::WasiHttp => "wasi-http",
        }
    }

    /// Whether binaries of this kind are components.
    pub fn is_component(self) -> bool {
        !matches!(self, PluginKind::Module)
    }
}

impl std::fmt::Display for PluginKind {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.as_str())
    }
}
