//! The per-plugin instance pool: bounded, with backpressure and a bounded queue.
//!
//! At most `max` instances of a plugin exist at once (idle + busy): each holds one permit of
//! a semaphore of `max`. A call takes a permit, then an idle instance (in `reuse` mode) or a
//! new one. When none is free it waits (asynchronously: a waiting call holds no thread
//! unless its caller is a synchronous one) up to `acquire_timeout`, then fails with
//! [`Error::Busy`]; and when `max_waiting` calls already wait, it fails with `Busy` at once,
//! so one plugin's backlog is bounded in memory and never grows into the shared threads.
//! A [`Slot`] gives its permit back when dropped, whatever happens to the call: an
//! instance whose call failed in a way that [`Error::poisons_instance`] is dropped, never
//! returned, and so is the instance of a call that was cancelled (its future dropped).

use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Mutex, MutexGuard};
use std::time::Instant;

use tokio::sync::Semaphore;

use super::compiled::CompiledPlugin;
use super::instance::Instance;
use crate::error::{Error, Result};
use crate::policy::Isolation;

pub(crate) struct Pool {
    /// One permit per instance that may exist.
    permits: Semaphore,
    /// Instances ready for a call: used ones in `reuse` mode, fresh ones in either mode.
    idle: Mutex<Vec<Instance>>,
    /// Instances that exist or are being created (idle + busy + creating).
    live: AtomicUsize,
    /// Calls waiting for a permit.
    waiting: AtomicUsize,
}

/// One call's claim on the pool: a permit and, once acquired, its instance.
pub(crate) struct Slot<'p> {
    pool: &'p Pool,
    pub(crate) instance: Option<Instance>,
}

impl Drop for Slot<'_> {
    fn drop(&mut self) {
        // A slot dropped with its instance was cancelled or failed before `release`.
        if self.instance.take().is_some() {
            self.pool.live.fetch_sub(1, Ordering::Relaxed);
        }
        self.pool.permits.add_permits(1);
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
            permits: Semaphore::new(max.min(Semaphore::MAX_PERMITS)),
            live: AtomicUsize::new(warm.len()),
            idle: Mutex::new(warm),
            waiting: AtomicUsize::new(0),
        }
    }

    fn idle(&self) -> MutexGuard<'_, Vec<Instance>> {
        self.idle.lock().unwrap_or_else(|p| p.into_inner())
    }

    /// Takes an instance for one call: an idle one, or a new one when the pool has room;
    /// otherwise waits for one to come back.
    pub(crate) async fn acquire(
        &self,
        compiled: &CompiledPlugin,
        slice: Option<&super::drive::SliceUsed>,
    ) -> Result<Slot<'_>> {
        match self.permits.try_acquire() {
            Ok(permit) => permit.forget(),
            Err(_) => self.wait(compiled).await?,
        }
        let mut slot = Slot {
            pool: self,
            instance: None,
        };
        let idle = self.idle().pop();
        slot.instance = Some(match idle {
            Some(instance) => instance,
            None => {
                self.live.fetch_add(1, Ordering::Relaxed);
                let created = Instance::new(compiled, slice).await;
                if created.is_err() {
                    self.live.fetch_sub(1, Ordering::Relaxed);
                }
                created?
            }
        });
        Ok(slot)
    }

    /// Waits for a permit, at most `acquire_timeout`, unless too many calls wait already.
    async fn wait(&self, compiled: &CompiledPlugin) -> Result<()> {
        let policy = compiled.policy();
        let already = self.waiting.fetch_add(1, Ordering::Relaxed);
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
        let acquire = self.permits.acquire();
        let Some(sleep) = super::drive::sleep_until(deadline) else {
            // No timer available: wait without bound rather than fail every call.
            acquire.await.expect("the pool never closes").forget();
            return Ok(());
        };
        let mut acquire = std::pin::pin!(acquire);
        let mut sleep = std::pin::pin!(sleep);
        std::future::poll_fn(|cx| {
            if let std::task::Poll::Ready(permit) = acquire.as_mut().poll(cx) {
                permit.expect("the pool never closes").forget();
                return std::task::Poll::Ready(Ok(()));
            }
            if sleep.as_mut().poll(cx).is_ready() {
                return std::task::Poll::Ready(Err(busy(policy.acquire_timeout, 0)));
            }
            std::task::Poll::Pending
        })
        .await
    }

    /// Gives a slot back after a call. Its instance is kept only if the call left it usable
    /// and the plugin reuses instances.
    pub(crate) fn release(&self, compiled: &CompiledPlugin, mut slot: Slot<'_>, usable: bool) {
        if usable
            && compiled.policy().isolation == Isolation::Reuse
            && let Some(instance) = slot.instance.take()
        {
            self.idle().push(instance);
        }
        // Dropping the slot frees the permit (and forgets a discarded instance).
        drop(slot);
    }

    /// `(live, idle)` instance counts.
    pub(crate) fn counts(&self) -> (usize, usize) {
        let idle = self.idle().len();
        (self.live.load(Ordering::Relaxed), idle)
    }
}
