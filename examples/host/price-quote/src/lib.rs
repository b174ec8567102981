//! Run with: cargo run -p wasmplug --example custom_function (the host registers `shop::*`)
//!
//! Quotes a euro amount in another currency. The exchange rate comes from the application
//! that embeds the plugin, through host functions it registers in its own import module
//! `shop` (see examples/host/custom_function.rs):
//!
//! - `shop::exchange_rate(currency) -> f64`: the rate from EUR, or an error value for an
//!   unknown currency, which `quote` passes on as its own error;
//! - `shop::audit(message)`: records what was quoted.
//!
//! A host that does not register these functions refuses to load the plugin.

use serde::{Deserialize, Serialize};
use wasmplug_pdk::{Error, FnResult, Json, host_fn, plugin_fn, plugin_meta};

plugin_meta! {
    name: "price-quote",
    version: "1.0.0",
    description: "Quotes prices in other currencies through the application's host functions",
    author: "wasmplug",
}

#[host_fn("shop")]
extern "C" {
    /// How many units of `currency` one euro buys.
    fn exchange_rate(currency: &str) -> f64;
    /// Records `message` in the shop's audit trail.
    fn audit(message: &str);
}

/// Error code of invalid input.
const BAD_INPUT: i32 = 1;

/// The input of `quote`.
#[derive(Debug, Deserialize)]
struct QuoteRequest {
    amount_eur: f64,
    currency: String,
}

/// The output of `quote`.
#[derive(Debug, Serialize)]
struct Quote {
    amount: f64,
    currency: String,
    rate: f64,
}

/// Converts `amount_eur` into `currency` at the host's rate, rounded to cents.
#[plugin_fn]
fn quote(Json(request): Json<QuoteRequest>) -> FnResult<Json<Quote>> {
    if !request.amount_eur.is_finite() || request.amount_eur < 0.0 {
        return Err(Error::new("`amount_eur` must be a non-negative number").with_code(BAD_INPUT));
    }
    let currency = request.currency.trim().to_ascii_uppercase();
    // An unknown currency is the host's error value: `?` returns it as this call's error.
    let rate = exchange_rate(&currency)?;
    let amount = to_cents(request.amount_eur * rate);
    audit(&format!(
        "quoted {} EUR as {amount} {currency}",
        request.amount_eur
    ))?;
    Ok(Json(Quote {
        amount,
        currency,
        rate,
    }))
}

/// Rounds to two decimals.
fn to_cents(amount: f64) -> f64 {
    (amount * 100.0).round() / 100.0
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn amounts_are_rounded_to_cents() {
        assert_eq!(to_cents(12.5 * 1.08), 13.5);
        assert_eq!(to_cents(10.0 / 3.0), 3.33);
    }

    #[test]
    fn invalid_amounts_are_refused_and_host_functions_need_a_host() {
        let request = |amount_eur| {
            Json(QuoteRequest {
                amount_eur,
                currency: "usd".into(),
            })
        };
        assert_eq!(quote(request(-1.0)).unwrap_err().code(), BAD_INPUT);
        // Natively the `shop` functions are stubs that say where they are available.
        let e = quote(request(1.0)).unwrap_err();
        assert!(e.message().contains("`shop::exchange_rate`"), "{e}");
    }
}
