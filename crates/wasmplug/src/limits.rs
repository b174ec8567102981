//! Resource limits of a plugin and the per-instance memory accountant that enforces them.
//!
//! [`Limits`] is what a manifest's `[limits]` table and the builder set. Every field has a
//! documented default chosen so that a plugin that forgot to ask for limits is still
//! bounded. [`MemoryAccountant`] is the wasmtime resource limiter of one instance: it counts
//! the bytes of *all* linear memories and tables together against one ceiling, and remembers
//! the first growth it refused so that a guest that then traps reports
//! [`crate::Error::MemoryLimit`] with the size it asked for.

use std::time::Duration;

use serde::{Deserialize, Serialize};

use crate::units::{ByteSize, de_duration, ser_duration};

/// Size in bytes charged for one table element (a function reference is a pointer).
pub(crate) const TABLE_ELEMENT_BYTES: u64 = 8;

/// Resource limits applied to every instance and call of a plugin.
///
/// Manifest form (`plugin.toml`), every key optional:
/// ```toml
/// [limits]
/// memory = "64MiB"        # all linear memories + tables of one instance
/// timeout = "5s"          # wall-clock deadline per call
/// fuel = 1000000000       # optional instruction budget per call
/// stack = "512KiB"        # wasm stack per call
/// max_input = "4MiB"
/// max_output = "4MiB"
/// max_module_size = "64MiB"
/// max_stdio = "1MiB"      # captured stdout / stderr per call
/// max_http_response = "4MiB"
/// max_kv_key = "1KiB"
/// max_kv_value = "1MiB"
/// max_kv_total = "64MiB"  # all keys + values of the plugin's kv namespace
/// log_lines_per_second = 100
/// ```
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct Limits {
    /// Ceiling on the bytes of all linear memories and tables of one instance together.
    /// Growth past it fails inside the guest (`memory.grow` returns -1). By default 64 MiB.
    pub memory: ByteSize,
    /// Wall-clock deadline of one call, enforced by epoch interruption. By default 5 s.
    #[serde(deserialize_with = "de_duration", serialize_with = "ser_duration")]
    pub timeout: Option<Duration>,
    /// Optional instruction budget per call; `None` (the default) means unmetered.
    pub fuel: Option<u64>,
    /// Maximum wasm stack of a call; deeper recursion traps with
    /// [`crate::TrapKind::StackOverflow`]. By default 512 KiB. (An engine setting: plugins
    /// with different values run on different shared engines.)
    pub stack: ByteSize,
    /// Largest input accepted by `call`, checked before copying. By default 4 MiB.
    pub max_input: ByteSize,
    /// Largest output accepted from the guest, checked before copying. By default 4 MiB.
    pub max_output: ByteSize,
    /// Largest module accepted, checked before compiling. By default 64 MiB.
    pub max_module_size: ByteSize,
    /// Bytes of stdout, and separately of stderr, kept per call; the rest is dropped and
    /// counted. By default 1 MiB.
    pub max_stdio: ByteSize,
    /// Largest response body `http_request` accepts; a larger one is an error value for the
    /// guest. By default 4 MiB.
    pub max_http_response: ByteSize,
    /// Largest kv key. By default 1 KiB.
    pub max_kv_key: ByteSize,
    /// Largest kv value. By default 1 MiB.
    pub max_kv_value: ByteSize,
    /// Most bytes (keys + values) the plugin's kv namespace may hold. By default 64 MiB.
    pub max_kv_total: ByteSize,
    /// Log lines per second the plugin may emit through `log` (burst: one second's worth);
    /// the rest are dropped and counted. By default 100.
    pub log_lines_per_second: u32,
}

impl Default for Limits {
    fn default() -> Self {
        Limits {
            memory: ByteSize::mib(64),
            timeout: Some(Duration::from_secs(5)),
            fuel: None,
            stack: ByteSize(crate::engine::DEFAULT_MAX_WASM_STACK as u64),
            max_input: ByteSize::mib(4),
            max_output: ByteSize::mib(4),
            max_module_size: ByteSize::mib(64),
            max_stdio: ByteSize::mib(1),
            max_http_response: ByteSize::mib(4),
            max_kv_key: ByteSize::kib(1),
            max_kv_value: ByteSize::mib(1),
            max_kv_total: ByteSize::mib(64),
            log_lines_per_second: 100,
        }
    }
}

/// Longest `timeout` a plugin may set: one day. A call deadline is counted in epoch ticks
/// added to the engine's epoch, so an unbounded value would overflow that sum; anything
/// near it is a typo (`500000000000y`), not a plan.
pub const MAX_TIMEOUT: Duration = Duration::from_secs(24 * 60 * 60);

impl Limits {
    /// Checks the values the host cannot enforce as given.
    ///
    /// # Errors
    /// [`crate::Error::InvalidLimit`] for a `timeout` over [`MAX_TIMEOUT`].
    pub fn validate(&self) -> crate::Result<()> {
        if let Some(timeout) = self.timeout
            && timeout > MAX_TIMEOUT
        {
            return Err(crate::Error::InvalidLimit {
                limit: "timeout",
                value: humantime::format_duration(timeout).to_string(),
                reason: format!(
                    "at most {} per call; leave `timeout` unset for no deadline",
                    humantime::format_duration(MAX_TIMEOUT)
                ),
            });
        }
        Ok(())
    }
}

/// Most core instances one component instance may create (a Rust component has 3 or 4:
/// its module, the WASI adapter and shims; componentize-py's have a dozen).
pub(crate) const MAX_COMPONENT_CORE_INSTANCES: usize = 64;

/// Most host resources (WASI streams, pollables, HTTP requests and bodies...) one component
/// instance may hold at once: past it, creating another traps ("resource table has no free
/// keys") instead of growing host memory (wasmtime's default allows 1,000,000).
pub(crate) const MAX_COMPONENT_RESOURCES: usize = 10_000;

/// Tracks the memory and table bytes of one instance against [`Limits::memory`].
#[derive(Debug)]
pub(crate) struct MemoryAccountant {
    limit: u64,
    /// Most elements of one table (the engine's pool slot size), if bounded.
    max_table_elements: Option<usize>,
    /// Bytes currently reserved by memories and tables.
    used: u64,
    /// Core instances the store may hold: 1 for a core module; a component is several (its
    /// module, the WASI adapter, shims).
    max_instances: usize,
    /// Total size the guest tried to reach when growth was first refused.
    refused: Option<u64>,
}

impl MemoryAccountant {
    pub(crate) fn new(limit: ByteSize, max_table_elements: Option<usize>) -> Self {
        MemoryAccountant {
            limit: limit.bytes(),
            max_table_elements,
            used: 0,
            max_instances: 1,
            refused: None,
        }
    }

    /// The same accounting for a component's store, which holds up to
    /// [`MAX_COMPONENT_CORE_INSTANCES`] core instances (their memories and tables count
    /// against the one limit).
    pub(crate) fn for_component(mut self) -> Self {
        self.max_instances = MAX_COMPONENT_CORE_INSTANCES;
        self
    }

    pub(crate) fn limit(&self) -> u64 {
        self.limit
    }

    /// Bytes of memories and tables the instance holds now.
    pub(crate) fn used(&self) -> u64 {
        self.used
    }

    /// The attempted total of the first refused growth since the last [`Self::reset_refusal`].
    pub(crate) fn refused(&self) -> Option<u64> {
        self.refused
    }

    pub(crate) fn reset_refusal(&mut self) {
        self.refused = None;
    }

    fn grow(&mut self, current: u64, desired: u64) -> bool {
        let attempted = self.used.saturating_sub(current).saturating_add(desired);
        if attempted > self.limit {
            self.refused.get_or_insert(attempted);
            return false;
        }
        self.used = attempted;
        true
    }
}

impl wasmtime::ResourceLimiter for MemoryAccountant {
    fn memory_growing(
        &mut self,
        current: usize,
        desired: usize,
        _maximum: Option<usize>,
    ) -> wasmtime::Result<bool> {
        Ok(self.grow(current as u64, desired as u64))
    }

    fn table_growing(
        &mut self,
        current: usize,
        desired: usize,
        _maximum: Option<usize>,
    ) -> wasmtime::Result<bool> {
        let (current, desired_bytes) = (
            current as u64 * TABLE_ELEMENT_BYTES,
            desired as u64 * TABLE_ELEMENT_BYTES,
        );
        if self.max_table_elements.is_some_and(|max| desired > max) {
            let attempted = self
                .used
                .saturating_sub(current)
                .saturating_add(desired_bytes);
            self.refused.get_or_insert(attempted);
            return Ok(false);
        }
        Ok(self.grow(current, desired_bytes))
    }

    fn instances(&self) -> usize {
        self.max_instances
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn accountant_counts_memories_and_tables_together() {
        let mut acc = MemoryAccountant::new(ByteSize(1000), None);
        assert!(acc.grow(0, 600), "first memory fits");
        assert!(acc.grow(0, 300), "table fits next to it");
        assert!(
            !acc.grow(600, 800),
            "growing the memory past the total is refused"
        );
        assert_eq!(acc.refused(), Some(1100));
        assert!(acc.grow(600, 700), "growth back under the limit is allowed");
        assert_eq!(acc.refused(), Some(1100), "the first refusal is kept");
        acc.reset_refusal();
        assert_eq!(acc.refused(), None);
    }

    #[test]
    fn table_growth_past_the_pool_slot_is_refused_like_the_limit() {
        use wasmtime::ResourceLimiter;
        let mut acc = MemoryAccountant::new(ByteSize::mib(64), Some(100));
        assert!(acc.table_growing(0, 100, None).unwrap());
        assert!(!acc.table_growing(100, 101, None).unwrap());
        assert_eq!(acc.refused(), Some(808));
    }

    #[test]
    fn limits_parse_from_toml_with_units() {
        let limits: Limits =
            toml::from_str("memory = \"32MiB\"\ntimeout = \"250ms\"\nfuel = 1000\nmax_output = 10")
                .unwrap();
        assert_eq!(limits.memory, ByteSize::mib(32));
        assert_eq!(limits.timeout, Some(Duration::from_millis(250)));
        assert_eq!(limits.fuel, Some(1000));
        assert_eq!(limits.max_output, ByteSize(10));
        assert_eq!(limits.max_input, Limits::default().max_input);
    }

    #[test]
    fn unknown_limit_is_rejected() {
        let err = toml::from_str::<Limits>("memroy = \"1MiB\"").unwrap_err();
        assert!(err.to_string().contains("memroy"), "{err}");
    }
}
