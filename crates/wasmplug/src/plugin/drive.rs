//! How a call's future is driven: on the caller's own thread ([`block_on`], for the sync
//! API), or inline on the caller's async task with a hand-off to the *slow lane* once the
//! guest has run for a tick ([`Lane`]).
//!
//! Every guest call is a wasmtime `call_async` on a fiber (one call path). A call that
//! finishes within its first epoch tick (almost all: plugin calls take microseconds) runs
//! entirely inline, with no thread hop. A call still running after a tick is a slow one, a
//! spinner at worst: the epoch callback marks it and yields, and [`Lane`] moves the rest of
//! the future to the slow lane, a small runtime whose threads run at a lower OS priority.
//! So a spinning guest holds an async worker for at most ~2 ms, then competes only with
//! other slow calls, and the workers keep serving fast calls. Its deadline keeps running:
//! it still ends with `Timeout` at its own deadline (if the machine gives the slow lane any
//! CPU at all: a lower priority is a smaller share, not none).
//!
//! Invariants: every poll of an async-flavour call runs inside the host runtime's context
//! (so tokio resources the call creates, WASI's blocking file work, timers, bind to a
//! runtime that has I/O and time enabled, whoever polls; a sync-flavour call, see
//! [`block_on_in`], needs none); a [`Lane`] dropped after its hand-off aborts the
//! slow-lane task, so the call's instance slot is freed at its next yield (≤ 1 tick) and
//! no cancelled call runs on.

use std::future::Future;
use std::pin::Pin;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, OnceLock};
use std::task::{Context, Poll, Wake, Waker};
use std::thread::Thread;

use tokio::runtime::{Handle, Runtime};
use tokio::task::JoinHandle;

use crate::host::Flavour;
use crate::host_fn::runtime;

/// Wakes a thread parked in [`block_on`].
struct Unpark(Thread);

impl Wake for Unpark {
    fn wake(self: Arc<Self>) {
        self.0.unpark();
    }
    fn wake_by_ref(self: &Arc<Self>) {
        self.0.unpark();
    }
}

/// The host runtime's handle (for the context every poll runs in).
fn host() -> Option<&'static Handle> {
    runtime::handle_ref().ok()
}

/// Runs `future` to completion on the calling thread, parking it while the future waits.
/// Works on any thread, including inside another runtime's worker (it never calls tokio's
/// `block_on`), which it then blocks like any synchronous call.
pub(crate) fn block_on<F: Future>(future: F) -> F::Output {
    block_on_in(std::pin::pin!(future), Flavour::Async)
}

/// Like [`block_on`], for a call whose instances are of `flavour`. An async-flavour call is
/// polled inside the host runtime's context (see the invariants above); a sync-flavour one
/// is not: it blocks its thread in the guest, and whatever of it needs the runtime (its
/// waiting host functions, the pool's timer) enters the context itself. Either is first
/// polled with a no-op waker: a call that completes at once (almost every sync-flavour
/// call) never touches the thread's waker. The future is pinned by the caller, where it was
/// made (a call's future is large: moving it costs as much as a guest entry).
pub(crate) fn block_on_in<F: Future>(mut future: Pin<&mut F>, flavour: Flavour) -> F::Output {
    thread_local! {
        static WAKER: Waker = Waker::from(Arc::new(Unpark(std::thread::current())));
    }
    let _context = match flavour {
        Flavour::Async => host().map(Handle::enter),
        Flavour::Sync => None,
    };
    if let Poll::Ready(v) = future
        .as_mut()
        .poll(&mut Context::from_waker(Waker::noop()))
    {
        return v;
    }
    WAKER.with(|waker| {
        let mut cx = Context::from_waker(waker);
        loop {
            if let Poll::Ready(v) = future.as_mut().poll(&mut cx) {
                return v;
            }
            std::thread::park();
        }
    })
}

/// The flag a call's epoch callback sets when the guest has used up its inline slice.
#[derive(Debug, Clone, Default)]
pub(crate) struct SliceUsed(Arc<AtomicBool>);

impl SliceUsed {
    /// Marks the running call as slow.
    pub(crate) fn set(&self) {
        self.0.store(true, Ordering::Relaxed);
    }

    fn take(&self) -> bool {
        self.0.swap(false, Ordering::Relaxed)
    }
}

type BoxedCall<T> = Pin<Box<dyn Future<Output = T> + Send>>;

/// A call's future driven inline until its guest uses up a slice, then on the slow lane.
pub(crate) struct Lane<T: Send + 'static> {
    state: State<T>,
    slice: SliceUsed,
}

enum State<T> {
    Inline(BoxedCall<T>),
    Moved(JoinHandle<T>),
    Done,
}

impl<T: Send + 'static> Lane<T> {
    /// Drives `future`; `slice` is the flag its guest's epoch callback sets.
    pub(crate) fn new(future: BoxedCall<T>, slice: SliceUsed) -> Lane<T> {
        Lane {
            state: State::Inline(future),
            slice,
        }
    }
}

impl<T: Send + 'static> Future for Lane<T> {
    type Output = T;

    fn poll(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<T> {
        let this = &mut *self;
        loop {
            match &mut this.state {
                State::Inline(future) => {
                    let _context = host().map(Handle::enter);
                    if let Poll::Ready(v) = future.as_mut().poll(cx) {
                        this.state = State::Done;
                        return Poll::Ready(v);
                    }
                    let Some(lane) = slow_lane() else {
                        return Poll::Pending;
                    };
                    if !this.slice.take() {
                        // Waiting for an instance or a host function: stay inline.
                        return Poll::Pending;
                    }
                    let State::Inline(future) = std::mem::replace(&mut this.state, State::Done)
                    else {
                        unreachable!("matched above");
                    };
                    this.state = State::Moved(lane.spawn(future));
                }
                State::Moved(task) => {
                    return match Pin::new(task).poll(cx) {
                        Poll::Ready(Ok(v)) => {
                            this.state = State::Done;
                            Poll::Ready(v)
                        }
                        Poll::Ready(Err(e)) if e.is_panic() => {
                            std::panic::resume_unwind(e.into_panic())
                        }
                        // Only `abort` (in our own `Drop`) cancels the task.
                        Poll::Ready(Err(_)) => Poll::Pending,
                        Poll::Pending => Poll::Pending,
                    };
                }
                State::Done => panic!("`Lane` polled after completion"),
            }
        }
    }
}

impl<T: Send + 'static> Drop for Lane<T> {
    fn drop(&mut self) {
        if let State::Moved(task) = &self.state {
            task.abort();
        }
    }
}

/// The slow lane's runtime, started on first use: one thread per CPU, each at a lower OS
/// priority (nice 10 on Linux) so that slow calls take CPU time only when fast work leaves
/// some. `None` if it cannot be started (calls then stay inline).
fn slow_lane() -> Option<&'static Handle> {
    static LANE: OnceLock<Option<Runtime>> = OnceLock::new();
    LANE.get_or_init(|| {
        let threads = std::thread::available_parallelism().map_or(2, usize::from);
        tokio::runtime::Builder::new_multi_thread()
            .worker_threads(threads)
            .thread_name("wasmplug-slow")
            .on_thread_start(lower_priority)
            .enable_all()
            .build()
            .inspect_err(|e| tracing::warn!("cannot start the slow-call runtime: {e}"))
            .ok()
    })
    .as_ref()
    .map(Runtime::handle)
}

/// Lowers the calling thread's scheduling priority (Linux: per-thread nice value).
fn lower_priority() {
    #[cfg(target_os = "linux")]
    {
        let tid = rustix::thread::gettid();
        if let Err(e) = rustix::process::setpriority_process(Some(tid), 10) {
            tracing::debug!("cannot lower the slow-call thread's priority: {e}");
        }
    }
}

/// A timer firing at `deadline`, registered with the host runtime (so it fires whoever
/// polls it). `None` if that runtime cannot be started.
pub(crate) fn sleep_until(deadline: std::time::Instant) -> Option<tokio::time::Sleep> {
    let _context = host()?.enter();
    Some(tokio::time::sleep_until(deadline.into()))
}
