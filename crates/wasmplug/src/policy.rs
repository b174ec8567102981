//! How a plugin's instances are pooled and isolated (`[instances]` in `plugin.toml`).
//!
//! ```toml
//! [instances]
//! isolation = "per-call"     # or "reuse"
//! min = 1                    # instances created (and `init`-ed) when the plugin loads
//! max = 16                   # instances alive at once; the bound on concurrent calls
//! acquire_timeout = "1s"     # how long a call waits for a free instance before `Busy`
//! max_waiting = 64           # calls that may wait at once; one more is `Busy` at once
//! preinit = true             # snapshot the instance after `_initialize` + `init` (see below)
//! ```
//!
//! **Pre-initialisation** (`preinit`, on by default): when the plugin loads, one instance
//! runs `_initialize` and `init(config)`, and its memory and globals are snapshotted into a
//! new module (wasmtime-wizer); every later instance starts from that snapshot without
//! running either function. A snapshot freezes what `init` computed: random seeds drawn
//! (hash-map keys, ids), the clock read, environment variables and files read, all as they
//! were at load. A plugin whose instances must each draw their own randomness or read the
//! clock in `init` sets `preinit = false`. Modules that cannot be snapshotted (table
//! mutation, imported memory, ...) fall back to running `init` per instance, with a log
//! line saying why.

use std::time::Duration;

use serde::{Deserialize, Serialize};

use crate::units::{de_duration_required, ser_duration_required};

/// Whether instances serve one call or many.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Default, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum Isolation {
    /// A fresh instance for every call: nothing a call leaves in memory or globals is seen
    /// by the next. The default: safe for untrusted plugins, and cheap thanks to the pooling
    /// allocator's copy-on-write memory images.
    #[default]
    PerCall,
    /// Instances serve many calls, one at a time; guest globals and memory persist
    /// between calls of the same instance. Faster for plugins with expensive `init`.
    Reuse,
}

/// Pooling and isolation of a plugin's instances.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct InstancePolicy {
    /// `per-call` (default) or `reuse`.
    pub isolation: Isolation,
    /// Instances created when the plugin loads (at least one is always created, to run
    /// `init` before the plugin is accepted). By default 1.
    pub min: usize,
    /// Most instances alive at once, busy or idle. By default 16.
    pub max: usize,
    /// How long a call waits for an instance when `max` are busy before failing with
    /// [`crate::Error::Busy`]. By default 1 s.
    #[serde(
        deserialize_with = "de_duration_required",
        serialize_with = "ser_duration_required"
    )]
    pub acquire_timeout: Duration,
    /// Calls that may wait for an instance at once; a call beyond it fails with
    /// [`crate::Error::Busy`] at once instead of queueing, so one plugin's backlog stays
    /// bounded. By default 64.
    pub max_waiting: usize,
    /// Start instances from a snapshot taken after `_initialize` and `init` (see the module
    /// docs for what a snapshot freezes). By default `true`.
    pub preinit: bool,
}

impl Default for InstancePolicy {
    fn default() -> Self {
        InstancePolicy {
            isolation: Isolation::default(),
            min: 1,
            max: 16,
            acquire_timeout: Duration::from_secs(1),
            max_waiting: 64,
            preinit: true,
        }
    }
}

impl InstancePolicy {
    /// Checks `1 <= min <= max`.
    ///
    /// # Errors
    /// A message naming the bad value.
    pub fn validate(&self) -> Result<(), String> {
        if self.max == 0 {
            return Err("`instances.max` must be at least 1".into());
        }
        if self.min > self.max {
            return Err(format!(
                "`instances.min` ({}) is larger than `instances.max` ({})",
                self.min, self.max
            ));
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parses_from_toml() {
        let p: InstancePolicy =
            toml::from_str("isolation = \"reuse\"\nmax = 4\nacquire_timeout = \"250ms\"").unwrap();
        assert_eq!(p.isolation, Isolation::Reuse);
        assert_eq!((p.min, p.max), (1, 4));
        assert_eq!(p.acquire_timeout, Duration::from_millis(250));
        assert!(toml::from_str::<InstancePolicy>("isolation = \"sometimes\"").is_err());
    }

    #[test]
    fn validate_checks_bounds() {
        assert!(InstancePolicy::default().validate().is_ok());
        let zero = InstancePolicy {
            max: 0,
            ..InstancePolicy::default()
        };
        assert!(zero.validate().unwrap_err().contains("max"));
        let inverted = InstancePolicy {
            min: 5,
            max: 2,
            ..InstancePolicy::default()
        };
        assert!(inverted.validate().unwrap_err().contains("larger"));
    }
}
