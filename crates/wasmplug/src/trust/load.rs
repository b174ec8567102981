//! The trust check at load time, before the module is parsed or compiled.
//!
//! The policy needs the plugin's name (for the publishers' globs) and version (for the audit
//! record) before the ABI check has read them: they come from the manifest when there is
//! one, otherwise from a first `wasmplug.meta` section found by walking the section headers
//! (no validation). The ABI check that follows refuses a module whose metadata disagrees
//! with the manifest or holds more than one such section, so the name checked here is the
//! name the plugin loads under.

use wasmparser::{Parser, Payload};

use super::policy::{Signer, TrustPolicy};
use crate::abi::{PluginMeta, SECTION_META};
use crate::error::Result;

/// Checks `module` (binary) against `policy`, naming it by `expect` (from a manifest) or by
/// its own metadata.
pub(crate) fn verify_before_parse(
    policy: &TrustPolicy,
    module: &[u8],
    expect: Option<&(String, semver::Version)>,
    sha256: &str,
) -> Result<Option<Signer>> {
    if !policy.is_active() {
        return Ok(None);
    }
    let (name, version) = match expect {
        Some((name, version)) => (name.clone(), version.to_string()),
        None => peek_meta(module).map_or_else(
            || ("?".to_string(), "?".to_string()),
            |m| (m.name.to_string(), m.version.to_string()),
        ),
    };
    policy.verify(module, &name, &version, sha256)
}

/// The first `wasmplug.meta` section, if it can be found and decoded.
fn peek_meta(module: &[u8]) -> Option<PluginMeta> {
    for payload in Parser::new(0).parse_all(module) {
        match payload.ok()? {
            Payload::CustomSection(reader) if reader.name() == SECTION_META => {
                return serde_json::from_slice(reader.data()).ok();
            }
            Payload::End(_) => return None,
            _ => {}
        }
    }
    None
}
