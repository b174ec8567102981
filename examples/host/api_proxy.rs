//! Runs the `api-proxy` plugin against a small upstream server and shows its rate limit.
//!
//! ```sh
//! bash scripts/build-guests.sh                         # builds examples/plugins/*/*.wasm
//! cargo run -p wasmplug --example api_proxy
//! ```
//!
//! The application decides what the plugin may use: its upstream URL and limit (config),
//! the one destination it may reach (a net grant naming the loopback address and port),
//! and where its kv data lives (a store file in a temporary directory). The plugin's log
//! lines are printed on stderr.

use std::error::Error as StdError;
use std::io::{BufRead, BufReader, Write};
use std::net::{TcpListener, TcpStream};
use std::path::Path;
use std::process::ExitCode;

use serde_json::{Value, json};
use wasmplug::{Error, KvStore, NetPattern, Plugin};

fn main() -> ExitCode {
    let manifest =
        Path::new(env!("CARGO_MANIFEST_DIR")).join("../../examples/plugins/api-proxy/plugin.toml");
    if !manifest.with_file_name("api-proxy.wasm").is_file() {
        eprintln!(
            "examples/plugins/api-proxy/api-proxy.wasm is missing: run scripts/build-guests.sh first"
        );
        return ExitCode::FAILURE;
    }
    match run(&manifest) {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) => {
            eprintln!("error: {e}");
            ExitCode::FAILURE
        }
    }
}

fn run(manifest: &Path) -> Result<(), Box<dyn StdError>> {
    // The plugin's `log` lines arrive in the host's `tracing` (target `wasmplug::plugin`).
    tracing_subscriber::fmt()
        .with_writer(std::io::stderr)
        .init();
    let upstream = start_upstream()?;
    let data = tempfile::tempdir()?;

    let plugin = Plugin::builder()
        .config("upstream", &upstream) // overrides the manifest's [config]
        .config("limit_per_minute", "3")
        // Loopback is reachable only through a grant that names the address itself.
        .allow_net(upstream.parse::<NetPattern>()?)
        // A persistent store; without this line the default one in
        // `HostConfig::default_data_dir()` would be used.
        .kv_store(KvStore::open(data.path().join("kv.redb"))?)
        .load(manifest)?;

    // Four calls with a limit of three: the last one is refused (unless a new minute
    // started in between).
    for path in ["/status", "/users", "/orders", "/status"] {
        let input = json!({"client": "alice", "path": path});
        match plugin.call_json::<_, Value>("get", &input) {
            Ok(out) => println!("alice GET {path} -> {out}"),
            Err(Error::Guest { message, code, .. }) => {
                println!("alice GET {path} -> refused ({code:?}): {message}");
            }
            Err(other) => return Err(other.into()),
        }
    }
    let bob: Value = plugin.call_json("get", &json!({"client": "bob", "path": "/status"}))?;
    println!("bob   GET /status -> {bob}");
    let stats: Value = serde_json::from_slice(&plugin.call("stats", b"alice")?)?;
    println!("stats of alice: {stats}");
    Ok(())
}

/// Starts an HTTP server on 127.0.0.1 (any free port) that answers every request with a
/// small JSON body naming the path; returns its base URL.
fn start_upstream() -> std::io::Result<String> {
    let listener = TcpListener::bind("127.0.0.1:0")?;
    let url = format!("http://{}", listener.local_addr()?);
    std::thread::spawn(move || {
        for stream in listener.incoming().flatten() {
            std::thread::spawn(move || answer(stream));
        }
    });
    Ok(url)
}

/// Answers the requests of one connection (keep-alive) until the client closes it.
fn answer(stream: TcpStream) -> std::io::Result<()> {
    let mut reader = BufReader::new(stream.try_clone()?);
    let mut out = stream;
    loop {
        let mut request_line = String::new();
        if reader.read_line(&mut request_line)? == 0 {
            return Ok(());
        }
        // Skip the headers (GET requests have no body).
        let mut header = String::new();
        while reader.read_line(&mut header)? > 0 && !header.trim().is_empty() {
            header.clear();
        }
        let path = request_line.split_whitespace().nth(1).unwrap_or("/");
        let body = json!({"upstream": "ok", "path": path}).to_string();
        write!(
            out,
            "HTTP/1.1 200 OK\r\ncontent-type: application/json\r\ncontent-length: {}\r\n\r\n{body}",
            body.len()
        )?;
    }
}
