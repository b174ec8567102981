//! Accepting and serving connections with bounds: a header timeout, a connection cap that
//! evicts idle connections first, and a shutdown that closes connections with nothing in
//! flight at once.
//!
//! - `header_timeout`: a connection must deliver a complete request head within this time
//!   of being ready for one — when it is accepted, and again after each response. This
//!   closes silent connections, idle keep-alive connections and slow (slowloris) heads
//!   alike. (hyper's HTTP/1 timer starts as soon as a connection waits for a head, so the
//!   idle keep-alive timeout and the header-read timeout are one setting.)
//! - `max_connections`: at the cap, the connection idle for longest (no request in flight)
//!   is closed to make room; if every connection is busy the new one is refused. Either is
//!   logged, at most once per second. The default follows the process's descriptor limit,
//!   so accepting never runs out of file descriptors while plugins still need some.
//! - Shutdown: connections without a request in flight (idle, or half-way through sending
//!   a head) are closed immediately; the others finish their request, then close.

use std::collections::HashMap;
use std::sync::atomic::{AtomicBool, AtomicU64, AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use axum::Router;
use axum::response::IntoResponse;
use hyper_util::rt::{TokioIo, TokioTimer};
use hyper_util::service::TowerToHyperService;
use tokio::net::{TcpListener, TcpStream};
use tokio::sync::{Notify, watch};
use tower::Service;

/// Bounds of the connection layer.
#[derive(Debug, Clone, Copy)]
pub(crate) struct ConnLimits {
    pub(crate) header_timeout: Duration,
    pub(crate) max_connections: usize,
}

/// One open connection, as the accept loop sees it.
#[derive(Clone)]
struct Tracked {
    /// Requests being served on it now.
    active: Arc<AtomicUsize>,
    /// When it last finished a response (or was accepted).
    idle_since: Arc<Mutex<Instant>>,
    /// Closes it.
    evict: Arc<Notify>,
}

#[derive(Default)]
struct Connections {
    open: Mutex<HashMap<u64, Tracked>>,
    next_id: AtomicU64,
    /// Notified whenever a connection closes.
    closed: Notify,
    /// Set once the server stops; every connection's `evict` is then notified. (One
    /// notification per connection, not a shared watch every connection task polls on
    /// every wake-up.)
    stopping: AtomicBool,
}

impl Connections {
    fn lock(&self) -> std::sync::MutexGuard<'_, HashMap<u64, Tracked>> {
        self.open.lock().unwrap_or_else(|p| p.into_inner())
    }

    /// Registers a new connection; returns its id and a handle sharing its state.
    fn track(&self) -> (u64, Tracked) {
        let id = self.next_id.fetch_add(1, Ordering::Relaxed);
        let tracked = Tracked {
            active: Arc::new(AtomicUsize::new(0)),
            idle_since: Arc::new(Mutex::new(Instant::now())),
            evict: Arc::new(Notify::new()),
        };
        self.lock().insert(id, tracked.clone());
        (id, tracked)
    }

    /// Makes room for one more connection. Returns false when every connection is busy.
    fn make_room(&self, max: usize) -> bool {
        if self.lock().len() < max {
            return true;
        }
        self.evict_idlest()
    }

    /// Closes the connection idle for longest; false when every connection is busy.
    fn evict_idlest(&self) -> bool {
        let open = self.lock();
        let idlest = open
            .values()
            .filter(|c| c.active.load(Ordering::Acquire) == 0)
            .min_by_key(|c| *c.idle_since.lock().unwrap_or_else(|p| p.into_inner()));
        match idlest {
            Some(c) => {
                c.evict.notify_one();
                true
            }
            None => false,
        }
    }

    /// Tells every open connection that the server stops.
    fn stop_all(&self) {
        self.stopping.store(true, Ordering::Release);
        for c in self.lock().values() {
            c.evict.notify_one();
        }
    }
}

/// Rate-limits a warning to once per second.
struct Warn(Mutex<Option<Instant>>);

impl Warn {
    fn due(&self) -> bool {
        let mut last = self.0.lock().unwrap_or_else(|p| p.into_inner());
        let due = last.is_none_or(|t| t.elapsed() >= Duration::from_secs(1));
        if due {
            *last = Some(Instant::now());
        }
        due
    }
}

/// Serves `app` on `listener` until `stop` turns true, then closes idle connections and lets
/// busy ones finish. Resolves when the listener stopped and every connection closed.
pub(crate) async fn accept_loop(
    listener: TcpListener,
    app: Router,
    limits: ConnLimits,
    mut stop: watch::Receiver<bool>,
) -> std::io::Result<()> {
    let connections = Arc::new(Connections::default());
    let warn = Warn(Mutex::new(None));
    let mut tasks = tokio::task::JoinSet::new();
    loop {
        let accepted = tokio::select! {
            accepted = listener.accept() => accepted,
            _ = stop.wait_for(|s| *s) => break,
        };
        let stream = match accepted {
            Ok((stream, _)) => stream,
            Err(e) => {
                // Out of descriptors (or a transient network error): free one by closing
                // the longest-idle connection, and back off instead of spinning.
                let evicted = connections.evict_idlest();
                if warn.due() {
                    tracing::warn!(
                        open = connections.lock().len(),
                        "cannot accept a connection: {e}; {}",
                        if evicted {
                            "closed the longest-idle connection to make room"
                        } else {
                            "every connection is busy, retrying"
                        }
                    );
                }
                tokio::time::sleep(Duration::from_millis(if evicted { 1 } else { 50 })).await;
                continue;
            }
        };
        if !connections.make_room(limits.max_connections) {
            if warn.due() {
                tracing::warn!(
                    max_connections = limits.max_connections,
                    "connection limit of {} reached and every connection is busy; refusing new connections (raise `max_connections`)",
                    limits.max_connections
                );
            }
            drop(stream);
            continue;
        }
        if connections.lock().len() >= limits.max_connections {
            if warn.due() {
                tracing::warn!(
                    max_connections = limits.max_connections,
                    "connection limit of {} reached; closing the longest-idle connection",
                    limits.max_connections
                );
            }
            // Let the evicted connection close before taking on another descriptor-holder,
            // so that a burst of new connections cannot outrun the evictions.
            let _ = tokio::time::timeout(Duration::from_millis(100), connections.closed.notified())
                .await;
        }
        while tasks.try_join_next().is_some() {}
        // Registered here, not in the task, so that the count is right even when the accept
        // loop runs ahead of the connection tasks.
        let tracked = connections.track();
        tasks.spawn(serve_one(
            stream,
            app.clone(),
            limits,
            tracked,
            connections.clone(),
        ));
    }
    drop(listener);
    connections.stop_all();
    while tasks.join_next().await.is_some() {}
    Ok(())
}

/// Serves one connection (see the module docs for when it is closed).
async fn serve_one(
    stream: TcpStream,
    app: Router,
    limits: ConnLimits,
    (id, tracked): (u64, Tracked),
    connections: Arc<Connections>,
) {
    let _ = stream.set_nodelay(true);
    let Tracked {
        active,
        idle_since,
        evict,
    } = tracked;
    let service = Counted {
        app,
        active: active.clone(),
        idle_since,
    };
    let mut builder = hyper::server::conn::http1::Builder::new();
    builder
        .timer(TokioTimer::new())
        .header_read_timeout(limits.header_timeout)
        .keep_alive(true);
    {
        let conn =
            builder.serve_connection(TokioIo::new(stream), TowerToHyperService::new(service));
        tokio::pin!(conn);
        let stopping = tokio::select! {
            biased;
            _ = conn.as_mut() => false,
            () = evict.notified() => connections.stopping.load(Ordering::Acquire),
        };
        if stopping && active.load(Ordering::Acquire) > 0 {
            conn.as_mut().graceful_shutdown();
            let _ = conn.as_mut().await;
        }
    }
    connections.lock().remove(&id);
    connections.closed.notify_waiters();
}

/// The router, counting the requests in flight on one connection (and refusing HTTP/1.1
/// requests without `Host`).
#[derive(Clone)]
struct Counted {
    app: Router,
    active: Arc<AtomicUsize>,
    idle_since: Arc<Mutex<Instant>>,
}

impl Service<axum::extract::Request<hyper::body::Incoming>> for Counted {
    type Response = axum::response::Response;
    type Error = std::convert::Infallible;
    type Future = std::pin::Pin<
        Box<dyn std::future::Future<Output = Result<Self::Response, Self::Error>> + Send>,
    >;

    fn poll_ready(
        &mut self,
        _: &mut std::task::Context<'_>,
    ) -> std::task::Poll<Result<(), Self::Error>> {
        std::task::Poll::Ready(Ok(()))
    }

    fn call(&mut self, request: axum::extract::Request<hyper::body::Incoming>) -> Self::Future {
        // RFC 9112 section 3.2: a server must answer 400 to an HTTP/1.1 request without a
        // Host header.
        if request.version() == axum::http::Version::HTTP_11
            && !request.headers().contains_key(axum::http::header::HOST)
        {
            let response = crate::error::ApiError::MissingHost.into_response();
            return Box::pin(std::future::ready(Ok(response)));
        }
        self.active.fetch_add(1, Ordering::AcqRel);
        let guard = Active {
            active: self.active.clone(),
            idle_since: self.idle_since.clone(),
        };
        // The router's future owns what it needs: called here, the router is not cloned
        // per request (its reference count is shared by every connection, on every core).
        let future = self.app.call(request.map(axum::body::Body::new));
        Box::pin(async move {
            let _guard = guard;
            future.await
        })
    }
}

/// Marks the end of a request on its connection, even if the handler is dropped.
struct Active {
    active: Arc<AtomicUsize>,
    idle_since: Arc<Mutex<Instant>>,
}

impl Drop for Active {
    fn drop(&mut self) {
        *self.idle_since.lock().unwrap_or_else(|p| p.into_inner()) = Instant::now();
        self.active.fetch_sub(1, Ordering::AcqRel);
    }
}

/// The default connection cap: what the descriptor limit leaves after the descriptors open
/// now (engine, store, watcher, logs) and a reserve for plugins' own files and sockets;
/// between 16 and 10,000.
pub(crate) fn default_max_connections() -> usize {
    const RESERVE: u64 = 64;
    let soft = nofile_limit().unwrap_or(1024);
    let open = open_descriptors().unwrap_or(64);
    let free = soft.saturating_sub(open).saturating_sub(RESERVE);
    usize::try_from(free.clamp(16, 10_000)).unwrap_or(10_000)
}

/// Descriptors this process has open now, where the platform tells.
fn open_descriptors() -> Option<u64> {
    std::fs::read_dir("/proc/self/fd")
        .ok()
        .map(|d| d.count() as u64)
}

#[cfg(unix)]
fn nofile_limit() -> Option<u64> {
    rustix::process::getrlimit(rustix::process::Resource::Nofile).current
}

#[cfg(not(unix))]
fn nofile_limit() -> Option<u64> {
    None
}
