//! [`Lease`]: one of a plugin's instance slots held by one caller, for calls in a loop.
//!
//! [`Plugin::call`] takes an instance from the shared pool and gives it back on every call
//! (two trips through the pool's lock, and the bookkeeping of a shared slot). A caller that
//! calls the same plugin many times from one thread can instead hold a slot: the lease takes
//! a permit (and an idle instance) once, and its calls go straight to the instance. Nothing
//! else changes: limits, deadline, stdio capture and typed errors are those of
//! [`Plugin::call`]; an instance that a call poisons (trap, timeout, limit, ABI break) is
//! dropped and the next call through the lease creates a fresh one; in `per-call`
//! isolation every call gets a fresh instance. The slot counts towards `instances.max`
//! until the lease is dropped, which gives its instance back to the pool (`reuse`). A lease
//! is `Send`: moved between a plain thread and a tokio runtime's context, its next call
//! starts a new instance of the flavour that context needs (`crate::host::Flavour`).

use super::{CallOutput, CompiledPlugin, Flavour, Instance, Plugin, SyncCall, drive};
use crate::error::Result;
use crate::policy::Isolation;

/// One of a plugin's instance slots, held by one caller (see [`Plugin::lease`]).
pub struct Lease {
    plugin: Plugin,
    /// Always fresh or reusable: `None` after a call that poisoned it, and after every call
    /// in `per-call` isolation (the next call creates one).
    instance: Option<Instance>,
    /// How this lease's instance is entered: that of the caller's thread (see
    /// [`Plugin::call`]), checked at every call.
    flavour: Flavour,
}

impl std::fmt::Debug for Lease {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Lease")
            .field("plugin", &self.plugin.inner.compiled.name())
            .field("instance", &self.instance.is_some())
            .finish_non_exhaustive()
    }
}

impl Plugin {
    /// Takes one of this plugin's instance slots for the caller alone: calls through the
    /// [`Lease`] skip the shared pool. Waits for a free slot like a call does.
    ///
    /// # Errors
    /// [`Error::Busy`](crate::Error::Busy) when no slot frees up within `acquire_timeout`,
    /// [`Error::Instantiate`](crate::Error::Instantiate) when a new instance was needed and
    /// could not be created.
    pub fn lease(&self) -> Result<Lease> {
        let flavour = self.sync_flavour();
        let compiled = &self.inner.compiled;
        let acquire = std::pin::pin!(self.inner.pool.acquire(compiled, None, flavour));
        let slot = drive::block_on_in(acquire, flavour)?;
        Ok(Lease {
            plugin: self.clone(),
            instance: super::pool::Pool::detach(slot),
            flavour,
        })
    }
}

impl Lease {
    /// The plugin this lease belongs to.
    pub fn plugin(&self) -> &Plugin {
        &self.plugin
    }

    /// Calls `function` with `input` on the leased slot, like [`Plugin::call`].
    ///
    /// # Errors
    /// As [`Plugin::call`].
    pub fn call(&mut self, function: &str, input: &[u8]) -> Result<Vec<u8>> {
        self.run(function, input, |compiled, index, instance, result| {
            super::drain_stdio(compiled, index, instance);
            result
        })?
    }

    /// Like [`Lease::call`], also returning what the guest wrote to stdout and stderr, like
    /// [`Plugin::call_captured`].
    ///
    /// # Errors
    /// As [`Plugin::call`].
    pub fn call_captured(&mut self, function: &str, input: &[u8]) -> Result<CallOutput> {
        Plugin::settle(self.run(function, input, super::report)?)
    }

    /// One call on the leased instance (a new one first if the lease holds none), its
    /// outcome made by `finish`; the instance is dropped after a call that poisoned it, and
    /// after every call in `per-call` isolation. The error is that of a function not found
    /// or of a failed instantiation, when no call was made.
    fn run<T>(
        &mut self,
        function: &str,
        input: &[u8],
        finish: impl FnOnce(&CompiledPlugin, usize, &mut Instance, Result<Vec<u8>>) -> T,
    ) -> Result<T> {
        let plugin = &self.plugin;
        let index = plugin.function_index(function)?;
        let inner = &*plugin.inner;
        let compiled = &inner.compiled;
        let flavour = plugin.sync_flavour();
        if flavour != self.flavour {
            // Moved between a plain thread and a runtime's context: the instance is of the
            // wrong flavour (see `Flavour`) and is replaced.
            self.flavour = flavour;
            if let Some(instance) = self.instance.take() {
                inner.pool.discard(instance);
            }
        }
        let instance = match &mut self.instance {
            Some(instance) => instance,
            empty => {
                let create = std::pin::pin!(inner.pool.create(compiled, None, self.flavour));
                empty.insert(drive::block_on_in(create, self.flavour)?)
            }
        };
        let call = SyncCall {
            index,
            input,
            request_id: None,
            flavour: self.flavour,
        };
        let (outcome, usable) = call.run(compiled, instance, finish);
        if (!usable || compiled.policy().isolation == Isolation::PerCall)
            && let Some(instance) = self.instance.take()
        {
            inner.pool.discard(instance);
        }
        Ok(outcome)
    }
}

impl Drop for Lease {
    fn drop(&mut self) {
        // What the lease still holds is reusable (`reuse`) or unused (`per-call`).
        self.plugin.inner.pool.end_lease(self.instance.take());
    }
}
