//! [`ReplicaStatus`]: what each replica publishes about itself (which version of each plugin
//! it serves, what it refused), refreshed every check interval under a TTL.

use serde::{Deserialize, Serialize};

use crate::registry::Registry;

/// One replica, as the others see it.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[non_exhaustive]
pub struct ReplicaStatus {
    /// Its id ([`super::SyncConfig::id`]).
    pub id: String,
    /// When it refreshed this, in milliseconds since the Unix epoch.
    pub updated_ms: u64,
    /// The last shared revision it has seen.
    pub revision: u64,
    /// Its plugins.
    pub plugins: Vec<ReplicaPlugin>,
    /// Versions learnt from the others that it refused (it keeps its routing for them).
    pub rejected: Vec<Rejection>,
}

/// One plugin on one replica.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[non_exhaustive]
pub struct ReplicaPlugin {
    /// Plugin name.
    pub name: String,
    /// The version with the most weight, if any has weight.
    pub serving: Option<String>,
    /// Weight of each loaded version.
    pub weights: std::collections::BTreeMap<String, u32>,
}

/// A version this replica refused.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[non_exhaustive]
pub struct Rejection {
    /// Plugin name.
    pub plugin: String,
    /// The version (empty when the routing itself was refused).
    pub version: String,
    /// Its module sha256.
    pub sha256: String,
    /// Error class.
    pub class: String,
    /// Why.
    pub reason: String,
}

impl Registry {
    /// This replica's status.
    pub(super) fn replica_status(
        &self,
        id: &str,
        revision: u64,
        rejected: Vec<Rejection>,
    ) -> ReplicaStatus {
        let plugins = self
            .plugins()
            .into_iter()
            .map(|p| ReplicaPlugin {
                weights: p
                    .versions
                    .iter()
                    .map(|v| (v.version.clone(), v.weight))
                    .collect(),
                serving: p.current,
                name: p.name,
            })
            .collect();
        ReplicaStatus {
            id: id.to_string(),
            updated_ms: std::time::SystemTime::now()
                .duration_since(std::time::UNIX_EPOCH)
                .map(|d| d.as_millis() as u64)
                .unwrap_or_default(),
            revision,
            plugins,
            rejected,
        }
    }
}
