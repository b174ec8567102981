//! Running a future to completion from synchronous host-function code, bounded by the
//! call's deadline.
//!
//! Host functions run on whatever thread drives the wasm call: an application thread, or a
//! tokio blocking-pool thread under [`crate::Plugin::call_async`]. A future is spawned on a
//! runtime (the application's, captured when the function was registered, or a small one
//! owned by wasmplug) and the host function waits for its result on a channel. No runtime
//! worker thread is blocked (unless the application itself calls a plugin synchronously
//! from one, which is already a blocking call).

use std::future::Future;
use std::sync::OnceLock;
use std::sync::mpsc;
use std::time::Instant;

use tokio::runtime::{Handle, Runtime};

/// wasmplug's own runtime for async host functions registered outside any runtime.
pub(crate) fn background() -> Handle {
    static RUNTIME: OnceLock<Runtime> = OnceLock::new();
    RUNTIME
        .get_or_init(|| {
            tokio::runtime::Builder::new_multi_thread()
                .worker_threads(1)
                .thread_name("wasmplug-host-async")
                .enable_all()
                .build()
                .expect("cannot start the wasmplug host-function runtime")
        })
        .handle()
        .clone()
}

/// Runs `future` on `handle` and waits for it until `deadline`. `None` if the deadline
/// passed first; the task is then aborted.
pub(crate) fn run_until<T: Send + 'static>(
    handle: &Handle,
    future: impl Future<Output = T> + Send + 'static,
    deadline: Instant,
) -> Option<T> {
    let (tx, rx) = mpsc::sync_channel(1);
    let task = handle.spawn(async move {
        let _ = tx.send(future.await);
    });
    match rx.recv_timeout(deadline.saturating_duration_since(Instant::now())) {
        Ok(value) => Some(value),
        Err(_) => {
            task.abort();
            None
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::time::Duration;

    #[test]
    fn finishes_or_gives_up_at_the_deadline() {
        let handle = background();
        let soon = Instant::now() + Duration::from_secs(10);
        assert_eq!(run_until(&handle, async { 7 }, soon), Some(7));
        let past = Instant::now();
        let never = std::future::pending::<()>();
        assert_eq!(run_until(&handle, never, past), None);
    }
}
