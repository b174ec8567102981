//! The soak's clients: good-plugin requests whose answers are checked, hostile-plugin
//! requests whose errors are counted by class, and the shared counters.

use std::collections::BTreeMap;
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use serde_json::Value;

use crate::plugins::Good;

/// Longest a single request may take (a hostile plugin's timeout is 200 ms).
const REQUEST_TIMEOUT: Duration = Duration::from_secs(30);
/// Good-request failures kept for the report.
const KEEP_FAILURES: usize = 10;

/// Counters shared by every task.
#[derive(Debug, Default)]
pub struct Stats {
    /// Requests sent (all kinds).
    pub requests: AtomicU64,
    /// Good-plugin requests that failed.
    pub good_failures: AtomicU64,
    /// The first few good-plugin failures.
    pub failure_log: Mutex<Vec<String>>,
    /// Error answers by class (`trap`, `timeout`, ...; `http_<status>` when the body has no
    /// class, `transport` when no answer came).
    pub errors: Mutex<BTreeMap<String, u64>>,
    /// Admin and reload actions by outcome (`upload 201`, `reload`, ...).
    pub actions: Mutex<BTreeMap<String, u64>>,
}

impl Stats {
    /// Counts one error answer of `class`.
    pub fn error(&self, class: &str) {
        *self
            .errors
            .lock()
            .unwrap()
            .entry(class.to_string())
            .or_default() += 1;
    }

    /// Counts one churn action.
    pub fn action(&self, what: String) {
        *self.actions.lock().unwrap().entry(what).or_default() += 1;
    }

    fn good_failed(&self, what: String) {
        self.good_failures.fetch_add(1, Ordering::Relaxed);
        let mut log = self.failure_log.lock().unwrap();
        if log.len() < KEEP_FAILURES {
            log.push(what);
        }
    }
}

/// When the run ends: at the deadline, after the request budget, or when cancelled.
#[derive(Debug, Clone)]
pub struct Stop {
    deadline: Instant,
    max_requests: u64,
    stats: Arc<Stats>,
    cancelled: Arc<AtomicBool>,
}

impl Stop {
    /// Stops at `deadline` or after `max_requests`.
    pub fn new(deadline: Instant, max_requests: u64, stats: Arc<Stats>) -> Stop {
        Stop {
            deadline,
            max_requests,
            stats,
            cancelled: Arc::default(),
        }
    }

    /// Whether the run is over.
    pub fn done(&self) -> bool {
        self.cancelled.load(Ordering::Relaxed)
            || Instant::now() >= self.deadline
            || self.stats.requests.load(Ordering::Relaxed) >= self.max_requests
    }

    /// Ends the run now.
    pub fn cancel(&self) {
        self.cancelled.store(true, Ordering::Relaxed);
    }
}

/// The HTTP client (loopback only, no proxy from the environment).
pub fn client() -> anyhow::Result<reqwest::Client> {
    Ok(reqwest::Client::builder()
        .no_proxy()
        .timeout(REQUEST_TIMEOUT)
        .pool_max_idle_per_host(8)
        .build()?)
}

/// One client task.
pub struct Worker {
    client: reqwest::Client,
    base: Arc<str>,
    stats: Arc<Stats>,
    stop: Stop,
    id: usize,
}

impl Worker {
    /// Client number `id`.
    pub fn new(
        client: reqwest::Client,
        base: Arc<str>,
        stats: Arc<Stats>,
        stop: Stop,
        id: usize,
    ) -> Worker {
        Worker {
            client,
            base,
            stats,
            stop,
            id,
        }
    }

    /// Calls the good plugins round-robin until the run ends; every answer is checked.
    pub async fn good(self, targets: Vec<Good>) {
        let mut n = self.id as u64 * 1_000_000_000;
        while !self.stop.done() {
            for good in &targets {
                n += 1;
                self.stats.requests.fetch_add(1, Ordering::Relaxed);
                if let Err(what) = call_good(&self.client, &self.base, *good, n).await {
                    self.stats.good_failed(format!("{good:?} #{n}: {what}"));
                }
            }
        }
    }

    /// Calls the hostile plugins round-robin until the run ends, counting error classes.
    pub async fn hostile(self, targets: Vec<(String, String)>) {
        let mut i = self.id;
        while !self.stop.done() {
            let (plugin, function) = &targets[i % targets.len()];
            i += 1;
            self.stats.requests.fetch_add(1, Ordering::Relaxed);
            let url = format!("{}/v1/plugins/{plugin}/{function}", self.base);
            match self.client.post(url).body(vec![b'x'; i % 300]).send().await {
                Err(_) => self.stats.error("transport"),
                Ok(r) if r.status().is_success() => {}
                Ok(r) => {
                    let status = r.status().as_u16();
                    let class = class_of(r.bytes().await.ok().as_deref())
                        .unwrap_or_else(|| format!("http_{status}"));
                    self.stats.error(&class);
                }
            }
        }
    }
}

/// The `error.class` of a JSON error body.
pub fn class_of(body: Option<&[u8]>) -> Option<String> {
    let v: Value = serde_json::from_slice(body?).ok()?;
    v["error"]["class"].as_str().map(str::to_string)
}

/// Calls one good plugin function with input number `n` and checks the answer.
pub async fn call_good(
    client: &reqwest::Client,
    base: &str,
    good: Good,
    n: u64,
) -> Result<(), String> {
    let (path, body) = match good {
        Good::Echo(plugin, function) => (
            format!("{plugin}/{function}"),
            format!("soak {n} {}", "e".repeat((n % 97) as usize)),
        ),
        Good::Greet => ("greet/greet".into(), format!("caller-{n}")),
        Good::Transform => ("json-transformer/execute".into(), format!("{{\"n\":{n}}}")),
        Good::Proxy => (
            "api-proxy/get".into(),
            format!("{{\"client\":\"client-{}\",\"path\":\"/healthz\"}}", n % 20),
        ),
    };
    let response = client
        .post(format!("{base}/v1/plugins/{path}"))
        .header("x-request-id", format!("soak-{n}"))
        .body(body.clone())
        .send()
        .await
        .map_err(|e| format!("no answer: {e}"))?;
    let status = response.status();
    let bytes = response.bytes().await.map_err(|e| format!("body: {e}"))?;
    let text = String::from_utf8_lossy(&bytes);
    if !status.is_success() {
        return Err(format!("{status}: {text}"));
    }
    let json =
        || serde_json::from_slice::<Value>(&bytes).map_err(|e| format!("not JSON ({e}): {text}"));
    let ok = match good {
        Good::Echo(..) => *bytes == *body.as_bytes(),
        Good::Greet => text == format!("Hello, caller-{n}!"),
        Good::Transform => {
            let v = json()?;
            v["success"] == true
                && v["data"]["n"] == n
                && v["data"]["_request_id"] == format!("soak-{n}")
        }
        Good::Proxy => json()?["status"] == 200,
    };
    if ok {
        Ok(())
    } else {
        Err(format!("unexpected answer {text:?} to {body:?}"))
    }
}

/// Lines of the gateway's `/metrics` answer (0 when it does not answer): metric series
/// that pile up show in this count.
pub async fn metric_lines(client: &reqwest::Client, base: &str) -> u64 {
    match client.get(format!("{base}/metrics")).send().await {
        Ok(r) => r.text().await.map_or(0, |t| t.lines().count() as u64),
        Err(_) => 0,
    }
}

/// After the run: the gateway still answers `/healthz` and a good plugin.
pub async fn final_check(client: &reqwest::Client, base: &str) -> bool {
    let health = client.get(format!("{base}/healthz")).send().await;
    let healthy = matches!(&health, Ok(r) if r.status().is_success());
    let echo = call_good(client, base, Good::Greet, 7).await;
    if !healthy || echo.is_err() {
        println!("soak: final check failed: healthz {health:?}, greet {echo:?}");
    }
    healthy && echo.is_ok()
}
