//! The per-plugin instance pool: bounded, with backpressure.
//!
//! At most `max` instances of a plugin exist at once (idle + busy). A call takes an idle
//! instance (in `reuse` mode) or creates one; when `max` are busy it waits up to
//! `acquire_timeout` for one to come back, then fails with [`Error::Busy`]: there is no
//! unbounded queue. Instances are created and dropped outside the lock. An instance whose
//! call failed in a way that [`Error::poisons_instance`] is dropped, never returned.

use std::sync::{Condvar, Mutex, MutexGuard};
use std::time::Instant;

use super::compiled::CompiledPlugin;
use super::instance::Instance;
use crate::error::{Error, Result};
use crate::policy::{InstancePolicy, Isolation};

pub(crate) struct Pool {
    state: Mutex<State>,
    returned: Condvar,
}

struct State {
    /// Instances ready for a call: used ones in `reuse` mode, fresh ones in either mode.
    idle: Vec<Instance>,
    /// Instances that exist or are being created (idle + busy + creating).
    live: usize,
    /// Calls waiting for an instance. `Condvar::notify_one` is a system call even with
    /// nobody waiting, so it is made only when someone is.
    waiting: usize,
}

impl Pool {
    /// A pool holding `warm` already-initialised instances.
    pub(crate) fn new(warm: Vec<Instance>) -> Pool {
        Pool {
            state: Mutex::new(State {
                live: warm.len(),
                idle: warm,
                waiting: 0,
            }),
            returned: Condvar::new(),
        }
    }

    fn lock(&self) -> MutexGuard<'_, State> {
        self.state.lock().unwrap_or_else(|p| p.into_inner())
    }

    /// Takes an instance for one call, creating one if the pool has room, or waiting for
    /// one to come back.
    pub(crate) fn acquire(&self, compiled: &CompiledPlugin) -> Result<Instance> {
        let policy = compiled.policy();
        let mut deadline = None;
        let mut state = self.lock();
        loop {
            if let Some(instance) = state.idle.pop() {
                return Ok(instance);
            }
            if state.live < policy.max {
                state.live += 1;
                drop(state);
                return Instance::new(compiled).inspect_err(|_| self.forget_one());
            }
            // Only a call that has to wait reads the clock.
            let now = Instant::now();
            let deadline = *deadline.get_or_insert(now + policy.acquire_timeout);
            if now >= deadline {
                return Err(Error::Busy {
                    plugin: compiled.name().to_string(),
                    max_instances: policy.max,
                    waited: policy.acquire_timeout,
                });
            }
            state.waiting += 1;
            state = self
                .returned
                .wait_timeout(state, deadline - now)
                .unwrap_or_else(|p| p.into_inner())
                .0;
            state.waiting -= 1;
        }
    }

    /// Gives an instance back after a call. It is kept only if the call left it usable and
    /// the plugin reuses instances.
    pub(crate) fn release(&self, policy: &InstancePolicy, instance: Instance, usable: bool) {
        if usable && policy.isolation == Isolation::Reuse {
            let mut state = self.lock();
            state.idle.push(instance);
            self.wake_one(state);
        } else {
            drop(instance);
            self.forget_one();
        }
    }

    fn forget_one(&self) {
        let mut state = self.lock();
        state.live -= 1;
        self.wake_one(state);
    }

    fn wake_one(&self, state: MutexGuard<'_, State>) {
        let anyone = state.waiting > 0;
        drop(state);
        if anyone {
            self.returned.notify_one();
        }
    }

    /// `(live, idle)` instance counts.
    pub(crate) fn counts(&self) -> (usize, usize) {
        let state = self.lock();
        (state.live, state.idle.len())
    }
}
