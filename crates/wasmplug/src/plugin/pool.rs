//! The per-plugin instance pool: bounded, with backpressure and a bounded queue.
//!
//! At most `max` instances of a plugin exist at once (idle + busy): each holds one of `max`
//! permits, counted with the idle instances under one mutex. A call takes a permit and an
//! idle instance (in `reuse` mode) in one lock, or creates a new instance. When none is
//! free it waits (asynchronously: a waiting call holds no thread unless its caller is a
//! synchronous one) up to `acquire_timeout`, then fails with
//! [`Error::Busy`]; and when `max_waiting` calls already wait, it fails with `Busy` at once,
//! so one plugin's backlog is bounded in memory and never grows into the shared threads.
//! A [`Slot`] gives its permit back when dropped, whatever happens to the call: an
//! instance whose call failed in a way that [`Error::poisons_instance`] is dropped, never
//! returned, and so is the instance of a call that was cancelled (its future dropped).

use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Mutex, MutexGuard};
use std::time::Instant;

use tokio::sync::Notify;

use super::compiled::CompiledPlugin;
use super::instance::Instance;
use crate::error::{Error, Result};
use crate::host::Flavour;
use crate::policy::Isolation;

pub(crate) struct Pool {
    /// Permits and idle instances, under one lock: an uncontended call takes it once to
    /// acquire and once to release, and wakes nobody unless someone waits.
    state: Mutex<State>,
    /// Instances that exist or are being created (idle + busy + creating).
    live: AtomicUsize,
    /// Calls waiting for a permit.
    waiting: AtomicUsize,
    /// Wakes one waiting call when a permit comes back.
    returned: Notify,
}

struct State {
    /// Permits free: one per instance that may still be taken or created.
    free: usize,
    /// Instances ready for a call: used ones in `reuse` mode, fresh ones in either mode.
    idle: Vec<Instance>,
}

/// One call's claim on the pool: a permit and, once acquired, its instance.
pub(crate) struct Slot<'p> {
    pool: &'p Pool,
    pub(crate) instance: Option<Instance>,
    /// Whether the instance goes back to the idle list (set by [`Pool::release`]).
    keep: bool,
}

impl Drop for Slot<'_> {
    fn drop(&mut self) {
        let instance = self.instance.take();
        if self.keep {
            self.pool.give_back(instance);
            return;
        }
        // Discarded: per-call isolation, a poisoned instance, or a call cancelled or failed
        // before `release`.
        if let Some(instance) = instance {
            self.pool.live.fetch_sub(1, Ordering::Relaxed);
            drop(instance);
        }
        self.pool.give_back(None);
    }
}

/// Decrements the waiter count however the wait ends.
struct Waiting<'p>(&'p AtomicUsize);

impl Drop for Waiting<'_> {
    fn drop(&mut self) {
        self.0.fetch_sub(1, Ordering::Relaxed);
    }
}

impl Pool {
    /// A pool of at most `max` instances holding `warm` already-initialised ones.
    pub(crate) fn new(max: usize, warm: Vec<Instance>) -> Pool {
        Pool {
            live: AtomicUsize::new(warm.len()),
            state: Mutex::new(State {
                free: max,
                idle: warm,
            }),
            waiting: AtomicUsize::new(0),
            returned: Notify::new(),
        }
    }

    fn state(&self) -> MutexGuard<'_, State> {
        self.state.lock().unwrap_or_else(|p| p.into_inner())
    }

    /// A permit and an idle instance of `flavour` (if any), when a permit is free. When
    /// only instances of the other flavour are idle, one of them is discarded to make room
    /// for the new instance the call will create (a plugin called both from async code and
    /// from plain threads keeps at most `max` instances).
    fn try_take(&self, flavour: Flavour) -> Option<Option<Instance>> {
        let stale = {
            let mut state = self.state();
            if state.free == 0 {
                return None;
            }
            state.free -= 1;
            match state.idle.iter().rposition(|i| i.flavour() == flavour) {
                Some(at) => return Some(Some(state.idle.swap_remove(at))),
                None => state.idle.pop(),
            }
        };
        if let Some(stale) = stale {
            self.live.fetch_sub(1, Ordering::Relaxed);
            drop(stale);
        }
        Some(None)
    }

    /// Returns a permit (and `instance` to the idle list), waking one waiting call.
    fn give_back(&self, instance: Option<Instance>) {
        {
            let mut state = self.state();
            state.free += 1;
            if let Some(instance) = instance {
                state.idle.push(instance);
            }
        }
        if self.waiting.load(Ordering::Acquire) > 0 {
            self.returned.notify_one();
        }
    }

    /// Takes an instance of `flavour` for one call: an idle one, or a new one when the pool
    /// has room; otherwise waits for one to come back.
    pub(crate) async fn acquire(
        &self,
        compiled: &CompiledPlugin,
        slice: Option<&super::drive::SliceUsed>,
        flavour: Flavour,
    ) -> Result<Slot<'_>> {
        let mut slot = match self.take_now(flavour) {
            Some(slot) => slot,
            None => Slot {
                pool: self,
                instance: self.wait(compiled, flavour).await?,
                keep: false,
            },
        };
        if slot.instance.is_none() {
            slot.instance = Some(self.create(compiled, slice, flavour).await?);
        }
        Ok(slot)
    }

    /// Without waiting: a permit and an idle instance of `flavour`, if any (else the slot's
    /// `instance` is `None`: the caller creates one); `None` when the call would have to
    /// wait.
    pub(crate) fn take_now(&self, flavour: Flavour) -> Option<Slot<'_>> {
        self.try_take(flavour).map(|instance| Slot {
            pool: self,
            instance,
            keep: false,
        })
    }

    /// A new instance under a permit the caller holds (counted in `live` while it exists).
    pub(crate) async fn create(
        &self,
        compiled: &CompiledPlugin,
        slice: Option<&super::drive::SliceUsed>,
        flavour: Flavour,
    ) -> Result<Instance> {
        self.live.fetch_add(1, Ordering::Relaxed);
        let created = Instance::new(compiled, slice, flavour).await;
        if created.is_err() {
            self.live.fetch_sub(1, Ordering::Relaxed);
        }
        created
    }

    /// Drops an instance whose permit the caller keeps (a lease's poisoned or per-call
    /// one).
    pub(crate) fn discard(&self, instance: Instance) {
        self.live.fetch_sub(1, Ordering::Relaxed);
        drop(instance);
    }

    /// Turns an acquired slot into what a [`super::Lease`] holds: the permit stays taken
    /// (until [`Pool::end_lease`]) and its instance is the caller's.
    pub(crate) fn detach(mut slot: Slot<'_>) -> Option<Instance> {
        let instance = slot.instance.take();
        // Nothing else to drop: `pool` is a reference, and the permit goes with the lease.
        std::mem::forget(slot);
        instance
    }

    /// Gives back a lease's permit and its instance (fresh or reusable), if it holds one.
    pub(crate) fn end_lease(&self, instance: Option<Instance>) {
        self.give_back(instance);
    }

    /// Waits for a permit, at most `acquire_timeout`, unless too many calls wait already;
    /// returns it with an idle instance, if any.
    async fn wait(&self, compiled: &CompiledPlugin, flavour: Flavour) -> Result<Option<Instance>> {
        let policy = compiled.policy();
        let already = self.waiting.fetch_add(1, Ordering::AcqRel);
        let _waiting = Waiting(&self.waiting);
        let busy = |waited, waiting| Error::Busy {
            plugin: compiled.name().to_string(),
            max_instances: policy.max,
            waited,
            waiting,
        };
        if already >= policy.max_waiting {
            return Err(busy(std::time::Duration::ZERO, already));
        }
        let deadline = Instant::now() + policy.acquire_timeout;
        // No timer available: wait without bound rather than fail every call.
        let mut sleep = super::drive::sleep_until(deadline).map(Box::pin);
        loop {
            // Registered before looking, so a permit given back in between is not missed.
            let returned = self.returned.notified();
            let mut returned = std::pin::pin!(returned);
            returned.as_mut().enable();
            if let Some(idle) = self.try_take(flavour) {
                return Ok(idle);
            }
            let timed_out = std::future::poll_fn(|cx| {
                if returned.as_mut().poll(cx).is_ready() {
                    return std::task::Poll::Ready(false);
                }
                let expired = sleep
                    .as_mut()
                    .is_some_and(|sleep| sleep.as_mut().poll(cx).is_ready());
                if expired {
                    std::task::Poll::Ready(true)
                } else {
                    std::task::Poll::Pending
                }
            })
            .await;
            if timed_out {
                // A permit that came back just now is still taken rather than refused.
                return match self.try_take(flavour) {
                    Some(idle) => Ok(idle),
                    None => Err(busy(policy.acquire_timeout, 0)),
                };
            }
        }
    }

    /// Gives a slot back after a call. Its instance is kept only if the call left it usable
    /// and the plugin reuses instances.
    pub(crate) fn release(&self, compiled: &CompiledPlugin, mut slot: Slot<'_>, usable: bool) {
        slot.keep = usable && compiled.policy().isolation == Isolation::Reuse;
        // Dropping the slot frees the permit and keeps or discards its instance.
        drop(slot);
    }

    /// `(async, sync)` idle instance counts.
    pub(crate) fn idle_by_flavour(&self) -> (usize, usize) {
        let state = self.state();
        let sync = state
            .idle
            .iter()
            .filter(|i| i.flavour() == Flavour::Sync)
            .count();
        (state.idle.len() - sync, sync)
    }

    /// `(live, idle)` instance counts.
    pub(crate) fn counts(&self) -> (usize, usize) {
        let idle = self.state().idle.len();
        (self.live.load(Ordering::Relaxed), idle)
    }
}
