//! Paths of fixtures and guests, built once per test run.

use std::path::{Path, PathBuf};
use std::process::Command;
use std::sync::OnceLock;

/// The repository root.
pub fn root() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("../..")
        .canonicalize()
        .unwrap()
}

/// A WAT fixture from `tests/guests/wat/`.
pub fn wat(name: &str) -> PathBuf {
    root().join("tests/guests/wat").join(format!("{name}.wat"))
}

/// Builds the Rust guests once (for this test binary) and returns the repo root.
pub fn guests_built() -> PathBuf {
    static BUILT: OnceLock<PathBuf> = OnceLock::new();
    BUILT
        .get_or_init(|| {
            let root = root();
            let status = Command::new("bash")
                .arg(root.join("scripts/build-guests.sh"))
                .status()
                .expect("run scripts/build-guests.sh");
            assert!(status.success(), "scripts/build-guests.sh failed");
            root
        })
        .clone()
}

/// The manifest of example plugin `name`, built.
pub fn example(name: &str) -> PathBuf {
    guests_built()
        .join("examples/plugins")
        .join(name)
        .join("plugin.toml")
}

/// The `pdk-probe` test guest, built.
pub fn probe() -> PathBuf {
    guests_built().join("target/guests/wasm/pdk-probe.wasm")
}

/// Test guest `name` (`host-probe`, `custom-probe`, ...) from `target/guests/wasm/`, built.
pub fn guest(name: &str) -> PathBuf {
    guests_built().join(format!("target/guests/wasm/{name}.wasm"))
}

/// Runs `f` with a `tracing` subscriber that writes into a buffer, and returns what `f`
/// returned and everything logged on this thread meanwhile.
pub fn capture_logs<T>(f: impl FnOnce() -> T) -> (T, String) {
    use std::sync::{Arc, Mutex};

    // With a single dispatcher in the process, tracing caches a call site's interest from
    // whichever thread hits it first: a test thread without our subscriber would disable
    // the plugin-log call site for every thread. A second (no-op) dispatcher keeps the
    // interest per subscriber.
    static SECOND: OnceLock<tracing::Dispatch> = OnceLock::new();
    SECOND.get_or_init(|| tracing::Dispatch::new(tracing::subscriber::NoSubscriber::default()));
    #[derive(Clone, Default)]
    struct Buf(Arc<Mutex<Vec<u8>>>);
    impl std::io::Write for Buf {
        fn write(&mut self, data: &[u8]) -> std::io::Result<usize> {
            self.0.lock().unwrap().extend_from_slice(data);
            Ok(data.len())
        }
        fn flush(&mut self) -> std::io::Result<()> {
            Ok(())
        }
    }
    let buf = Buf::default();
    let writer = buf.clone();
    let subscriber = tracing_subscriber::fmt()
        .with_max_level(tracing::Level::TRACE)
        .with_ansi(false)
        .with_writer(move || writer.clone())
        .finish();
    let out = tracing::subscriber::with_default(subscriber, f);
    let text = String::from_utf8(buf.0.lock().unwrap().clone()).unwrap();
    (out, text)
}

/// A registry whose hot-reload watcher waits only 30 ms for files to settle (tests).
pub fn quick_registry() -> wasmplug::Registry {
    wasmplug::Registry::new(wasmplug::RegistryConfig {
        debounce: std::time::Duration::from_millis(30),
        ..wasmplug::RegistryConfig::default()
    })
}

/// Waits until `pred` holds for an event (at most `within`), returning it.
pub fn wait_for(
    events: &std::sync::mpsc::Receiver<wasmplug::RegistryEvent>,
    within: std::time::Duration,
    pred: impl Fn(&wasmplug::RegistryEvent) -> bool,
) -> Option<wasmplug::RegistryEvent> {
    let deadline = std::time::Instant::now() + within;
    while std::time::Instant::now() < deadline {
        if let Ok(e) = events.recv_timeout(std::time::Duration::from_millis(20))
            && pred(&e)
        {
            return Some(e);
        }
    }
    None
}
