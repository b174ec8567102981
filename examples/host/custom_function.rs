//! An application that offers its own functions to a plugin.
//!
//! ```sh
//! bash scripts/build-guests.sh                         # builds examples/plugins/*/*.wasm
//! cargo run -p wasmplug --example custom_function
//! ```
//!
//! The `price-quote` plugin (examples/host/price-quote) imports two functions from the
//! import module `shop`, declared in the plugin with `#[wasmplug_pdk::host_fn("shop")]`:
//!
//! - `shop::exchange_rate(currency: &str) -> f64`, registered here as an **async** host
//!   function that looks the rate up in the application's own state (a stand-in for a
//!   database);
//! - `shop::audit(message: &str)`, a **sync** host function that prints who asked.

use std::collections::HashMap;
use std::path::Path;
use std::process::ExitCode;
use std::sync::Arc;
use std::time::Duration;

use serde_json::{Value, json};
use wasmplug::{CallContext, Error, HostError, HostFunctions, Plugin};

fn main() -> ExitCode {
    let manifest =
        Path::new(env!("CARGO_MANIFEST_DIR")).join("../../examples/host/price-quote/plugin.toml");
    if !manifest.with_file_name("price-quote.wasm").is_file() {
        eprintln!(
            "examples/host/price-quote/price-quote.wasm is missing: run scripts/build-guests.sh first"
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

fn run(manifest: &Path) -> wasmplug::Result<()> {
    // The application's own state, shared with its host functions through an Arc.
    let rates: Arc<HashMap<&str, f64>> = Arc::new(HashMap::from([
        ("USD", 1.08),
        ("GBP", 0.86),
        ("JPY", 162.4),
    ]));

    let mut shop = HostFunctions::new();
    // Async: the future runs on a tokio runtime (here wasmplug's own small one, as `main`
    // has none); the plugin call waits for it, bounded by the call's timeout.
    shop.func_async(
        "shop",
        "exchange_rate",
        move |ctx: CallContext, currency: String| {
            let rates = rates.clone();
            async move {
                tokio::time::sleep(Duration::from_millis(20)).await; // "the database query"
                // `HostError::new` is an error value: the plugin's call of `exchange_rate`
                // returns `Err(message)` and the plugin decides what to do with it.
                rates.get(currency.as_str()).copied().ok_or_else(|| {
                    HostError::new(format!(
                        "unknown currency `{currency}` (asked by {})",
                        ctx.plugin()
                    ))
                })
            }
        },
    )?;
    // Sync: runs on the thread of the plugin call; keep such functions short.
    shop.func(
        "shop",
        "audit",
        |ctx: &CallContext, message: String| -> Result<(), HostError> {
            let request = ctx.request_id().unwrap_or("-");
            println!(
                "  [audit] {} {} request={request}: {message}",
                ctx.plugin(),
                ctx.version()
            );
            Ok(())
        },
    )?;

    // Loading checks every import of the plugin against the registered functions.
    let plugin = Plugin::builder().host_functions(shop).load(manifest)?;

    let requests = [
        ("req-1", json!({"amount_eur": 12.5, "currency": "USD"})),
        ("req-2", json!({"amount_eur": 99.99, "currency": "jpy"})),
        ("req-3", json!({"amount_eur": 5, "currency": "XYZ"})),
    ];
    for (request_id, input) in requests {
        println!("quote {input}");
        let bytes = serde_json::to_vec(&input).expect("JSON");
        match plugin.call_with_request_id("quote", &bytes, Some(request_id)) {
            Ok(out) => {
                let quote: Value = serde_json::from_slice(&out.output).expect("JSON output");
                println!("  -> {quote}");
            }
            // The plugin passed the host's error value on as its own error value.
            Err(Error::Guest { message, .. }) => println!("  -> error value: {message}"),
            Err(other) => return Err(other),
        }
    }
    Ok(())
}
