//! The host functions' own tokio runtime, and waiting for work on it.
//!
//! Async callers' plugin calls run on fibers polled by whoever calls: a tokio worker of the
//! application's runtime, or wasmplug's slow lane. Host functions that wait (an HTTP
//! exchange, a kv write with its fsync, an async application host function) therefore
//! never block: they spawn their work on a runtime and await it ([`run_on`], [`blocking`]),
//! which suspends the call's fiber, not a thread. (In the sync flavour, a plain thread's
//! call, the same future is driven on that thread, which waits parked; see
//! `crate::host::Flavour`.) [`run_until`] is the same wait for plain
//! synchronous code. The HTTP client's pooled connections live on this runtime, so it lives
//! as long as the process.

use std::future::Future;
use std::sync::OnceLock;
use std::sync::mpsc::{self, RecvTimeoutError};
use std::time::Instant;

use tokio::runtime::{Handle, Runtime};

/// Why [`run_until`] returned without a value.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Stopped {
    /// The deadline passed first; the task was aborted.
    Deadline,
    /// The task ended without a result (it panicked, or the runtime is shutting down).
    Died,
}

/// The runtime's handle, starting the runtime on first use (one worker thread: the work is
/// waiting on sockets; TLS handshakes are the only CPU it does).
pub(crate) fn handle() -> Result<Handle, String> {
    handle_ref().cloned()
}

/// The runtime the caller runs in, else (a plain thread) the host functions' runtime.
pub(crate) fn current_or_host() -> Result<Handle, String> {
    Handle::try_current().or_else(|_| handle())
}

/// Like [`handle`], without cloning it (every guest call enters this runtime's context:
/// a clone per call is a shared reference count bouncing between the calling threads).
pub(crate) fn handle_ref() -> Result<&'static Handle, String> {
    static RUNTIME: OnceLock<Runtime> = OnceLock::new();
    if let Some(rt) = RUNTIME.get() {
        return Ok(rt.handle());
    }
    let rt = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(1)
        .thread_name("wasmplug-host")
        .enable_io()
        .enable_time()
        .build()
        .map_err(|e| format!("cannot start the host functions' runtime: {e}"))?;
    if let Err(lost) = RUNTIME.set(rt) {
        // Another thread started one first. Dropping a runtime inside an async context
        // panics; shutting it down in the background never does.
        lost.shutdown_background();
    }
    RUNTIME
        .get()
        .map(Runtime::handle)
        .ok_or_else(|| "the host functions' runtime did not start".to_string())
}

/// Runs `future` on `handle` and waits for its output until `deadline`. Safe to call from
/// any thread, including from inside another runtime (it never calls `block_on`).
pub(crate) fn run_until<T: Send + 'static>(
    handle: &Handle,
    future: impl Future<Output = T> + Send + 'static,
    deadline: Instant,
) -> Result<T, Stopped> {
    let (tx, rx) = mpsc::sync_channel(1);
    let task = handle.spawn(async move {
        // The receiver is gone only if the caller stopped waiting.
        let _ = tx.send(future.await);
    });
    match rx.recv_timeout(deadline.saturating_duration_since(Instant::now())) {
        Ok(value) => Ok(value),
        Err(RecvTimeoutError::Timeout) => {
            task.abort();
            Err(Stopped::Deadline)
        }
        Err(RecvTimeoutError::Disconnected) => Err(Stopped::Died),
    }
}

/// Aborts a spawned task when the waiting call is dropped (cancelled).
struct AbortOnDrop<T>(tokio::task::JoinHandle<T>);

impl<T> Drop for AbortOnDrop<T> {
    fn drop(&mut self) {
        self.0.abort();
    }
}

/// Runs `future` on `handle` and awaits its output until `deadline`; works from any
/// executor. If the awaiting call is dropped, the task is aborted.
pub(crate) async fn run_on<T: Send + 'static>(
    handle: &Handle,
    future: impl Future<Output = T> + Send + 'static,
    deadline: Instant,
) -> Result<T, Stopped> {
    let mut task = AbortOnDrop(
        handle.spawn(async move { tokio::time::timeout_at(deadline.into(), future).await }),
    );
    match (&mut task.0).await {
        Ok(Ok(value)) => Ok(value),
        Ok(Err(_elapsed)) => Err(Stopped::Deadline),
        Err(_) => Err(Stopped::Died),
    }
}

/// Runs blocking `work` (disk I/O) on the host runtime's blocking pool and awaits it.
pub(crate) async fn blocking<T: Send + 'static>(
    work: impl FnOnce() -> T + Send + 'static,
) -> Result<T, Stopped> {
    let handle = handle().map_err(|_| Stopped::Died)?;
    handle.spawn_blocking(work).await.map_err(|_| Stopped::Died)
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::time::Duration;

    #[test]
    fn finishes_or_gives_up_at_the_deadline() {
        let handle = handle().unwrap();
        let soon = Instant::now() + Duration::from_secs(10);
        assert_eq!(run_until(&handle, async { 7 }, soon), Ok(7));
        let never = std::future::pending::<()>();
        let start = Instant::now();
        let deadline = start + Duration::from_millis(50);
        assert_eq!(run_until(&handle, never, deadline), Err(Stopped::Deadline));
        assert!(start.elapsed() < Duration::from_secs(2));
    }

    #[test]
    fn a_panicking_task_is_reported_not_propagated() {
        let handle = handle().unwrap();
        let soon = Instant::now() + Duration::from_secs(10);
        let boom = async {
            if true {
                panic!("boom (expected in this test)");
            }
        };
        assert_eq!(run_until(&handle, boom, soon), Err(Stopped::Died));
    }
}
