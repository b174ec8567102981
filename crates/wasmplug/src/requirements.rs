//! Version requirements: what a plugin needs from its host, and what the host provides.
//!
//! A plugin states them in `plugin.toml` and/or in its `wasmplug.meta` section (both apply):
//!
//! ```toml
//! [requires]
//! wasmplug = "^0.2"          # the plugin API version (PLUGIN_API_VERSION)
//! [requires.host]
//! shop = "^1"                # an application host module (HostFunctions::module_version)
//! ```
//!
//! ```json
//! {"name": "price-quote", "version": "1.0.0", "requires": {"wasmplug": "^0.2", "host": {"shop": "^1"}}}
//! ```
//!
//! Ranges are Cargo-style semver requirements. Loading checks them after the ABI check and
//! before compiling; an unmet one is [`Error::RequirementNotMet`] naming the range and what
//! the host provides. A host module that registers functions but declares no version meets
//! no requirement.

use std::collections::BTreeMap;

use semver::{Version, VersionReq};
use serde::{Deserialize, Serialize};

use crate::error::{Error, Result};
use crate::host_fn::HostFunctions;

/// The version of the plugin API this host implements: guest ABI v1 (docs/abi.md) with the
/// built-in host functions of section 5 (`log`, `config_get`, `kv_*`, `http_request`).
/// A minor bump adds host functions; a major bump would change the ABI.
pub const PLUGIN_API_VERSION: Version = Version::new(0, 2, 0);

/// What a plugin requires of its host. The default requires nothing.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Requirements {
    /// Range of the plugin API version ([`PLUGIN_API_VERSION`]).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub wasmplug: Option<VersionReq>,
    /// Ranges of application host modules, by module name.
    #[serde(default, skip_serializing_if = "BTreeMap::is_empty")]
    pub host: BTreeMap<String, VersionReq>,
}

impl Requirements {
    /// Whether nothing is required.
    pub fn is_empty(&self) -> bool {
        self.wasmplug.is_none() && self.host.is_empty()
    }

    /// Both sets at once: a range given in both must hold in both (their comparators are
    /// joined, `^0.2, >=0.2.1`).
    pub fn merged(&self, other: &Requirements) -> Requirements {
        let join = |a: Option<&VersionReq>, b: Option<&VersionReq>| match (a, b) {
            (Some(a), Some(b)) => {
                let mut comparators = a.comparators.clone();
                for c in &b.comparators {
                    if !comparators.contains(c) {
                        comparators.push(c.clone());
                    }
                }
                Some(VersionReq { comparators })
            }
            (a, b) => a.or(b).cloned(),
        };
        let mut host = self.host.clone();
        for (module, range) in &other.host {
            let joined = join(host.get(module), Some(range)).expect("one side is set");
            host.insert(module.clone(), joined);
        }
        Requirements {
            wasmplug: join(self.wasmplug.as_ref(), other.wasmplug.as_ref()),
            host,
        }
    }

    /// Checks every requirement against this host: [`PLUGIN_API_VERSION`] and the module
    /// versions declared in `host`.
    ///
    /// # Errors
    /// [`Error::RequirementNotMet`] for the first unmet requirement.
    pub fn check(&self, plugin: &str, host: &HostFunctions) -> Result<()> {
        let unmet = |requirement: String, range: &VersionReq, provided: Option<&Version>| {
            Err(Error::RequirementNotMet {
                plugin: plugin.to_string(),
                requirement,
                range: range.clone(),
                provided: provided.map(ToString::to_string),
            })
        };
        if let Some(range) = &self.wasmplug
            && !range.matches(&PLUGIN_API_VERSION)
        {
            return unmet(
                "the plugin API (`wasmplug`)".into(),
                range,
                Some(&PLUGIN_API_VERSION),
            );
        }
        for (module, range) in &self.host {
            let provided = host.module_version_of(module);
            if !provided.is_some_and(|v| range.matches(v)) {
                return unmet(format!("host module `{module}`"), range, provided);
            }
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn req(s: &str) -> VersionReq {
        s.parse().unwrap()
    }

    fn parse(text: &str) -> Requirements {
        toml::from_str(text).unwrap()
    }

    #[test]
    fn api_and_host_module_ranges_are_checked_in_pairs() {
        let mut host = HostFunctions::new();
        host.module_version("shop", Version::new(1, 4, 0)).unwrap();
        let met = parse("wasmplug = \"^0.2\"\n[host]\nshop = \"^1.2\"\n");
        met.check("p", &host).unwrap();
        let err = parse("wasmplug = \"^9\"\n").check("p", &host).unwrap_err();
        assert_eq!(
            err.to_string(),
            "plugin `p` requires the plugin API (`wasmplug`) `^9` but this host provides 0.2.0; upgrade the host or build the plugin against what it provides"
        );
        let err = parse("[host]\nshop = \"^2\"\n")
            .check("p", &host)
            .unwrap_err();
        assert!(
            matches!(&err, Error::RequirementNotMet { provided: Some(v), range, .. } if v == "1.4.0" && *range == req("^2")),
            "{err:?}"
        );
        let err = parse("[host]\ncart = \"^1\"\n")
            .check("p", &host)
            .unwrap_err();
        assert!(err.to_string().contains("does not declare it"), "{err}");
    }

    #[test]
    fn merged_ranges_must_hold_on_both_sides() {
        let a = parse("wasmplug = \"^0.2\"\n[host]\nshop = \"^1\"\n");
        let b = parse("wasmplug = \">=0.2.1\"\n[host]\ncart = \"~2.1\"\n");
        let m = a.merged(&b);
        assert_eq!(m.wasmplug, Some(req("^0.2, >=0.2.1")));
        assert_eq!(m.host["shop"], req("^1"));
        assert_eq!(m.host["cart"], req("~2.1"));
        assert_eq!(a.merged(&a), a, "identical comparators are not repeated");
        assert!(
            Requirements::default()
                .merged(&Requirements::default())
                .is_empty()
        );
        let err = toml::from_str::<Requirements>("wasmplugg = \"^1\"\n").unwrap_err();
        assert!(err.to_string().contains("wasmplugg"), "{err}");
    }
}
