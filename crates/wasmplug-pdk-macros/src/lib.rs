//! Procedural macros of the wasmplug Rust PDK: [`macro@plugin_fn`] and [`plugin_meta!`].
//!
//! Use them through `wasmplug-pdk`, which re-exports both and provides the runtime support
//! that the generated code calls (`wasmplug_pdk::__private`):
//!
//! ```
//! use wasmplug_pdk::{FnResult, plugin_fn, plugin_meta};
//!
//! plugin_meta! { name: "hello", version: "0.1.0" }
//!
//! #[plugin_fn]
//! fn hello(name: String) -> FnResult<String> {
//!     Ok(format!("Hello, {name}!"))
//! }
//! # fn main() {}
//! ```
//!
//! Custom sections and exports are only emitted when compiling for `wasm32`, so the same
//! crate also builds (and can be unit-tested) on the host.

use proc_macro::TokenStream;

mod host_fn;
mod names;
mod plugin_fn;
mod plugin_meta;

/// Exports a function as a wasmplug plugin function.
///
/// The function takes zero or one argument and returns `Result<T, E>` (for example
/// [`FnResult<T>`]):
///
/// - the argument type implements `wasmplug_pdk::FromInput` (`Vec<u8>`, `String`,
///   `Json<T>`, `()`); no argument means the input is ignored;
/// - `T` implements `wasmplug_pdk::IntoOutput` (`Vec<u8>`, `String`, `&str`, `Json<T>`,
///   `()`);
/// - `E` converts `Into<wasmplug_pdk::Error>` (any `std::error::Error` does); an `Err`
///   is reported to the host as a guest error value with the error's message and code.
///
/// The function itself is left unchanged (call it from tests as usual). The macro adds,
/// next to it, an export named like the function (`(ptr: i32, len: i32) -> i64`, ABI
/// section 3) and, on `wasm32`, the function's name in the `wasmplug.functions` custom
/// section.
///
/// ```
/// use wasmplug_pdk::{Error, FnResult, Json, plugin_fn};
///
/// #[plugin_fn]
/// fn shout(text: String) -> FnResult<String> {
///     Ok(text.to_uppercase())
/// }
///
/// #[plugin_fn]
/// fn sum(Json(numbers): Json<Vec<i64>>) -> Result<Json<i64>, Error> {
///     Ok(Json(numbers.iter().sum()))
/// }
///
/// #[plugin_fn]
/// fn parse(text: String) -> Result<String, std::num::ParseIntError> {
///     Ok(text.trim().parse::<u64>()?.to_string())
/// }
///
/// #[plugin_fn]
/// fn health() -> FnResult<()> {
///     Ok(())
/// }
///
/// assert_eq!(shout("hi".into()).unwrap(), "HI");
/// ```
///
/// Rejected at compile time: anything but a free function, `async`, `unsafe`, generic or
/// `self` functions, more than one argument, no return type, attribute arguments, and the
/// reserved names `memory`, `allocate`, `deallocate`, `init`, `_initialize`, `_start`.
///
/// [`FnResult<T>`]: https://docs.rs/wasmplug-pdk/latest/wasmplug_pdk/type.FnResult.html
#[proc_macro_attribute]
pub fn plugin_fn(attr: TokenStream, item: TokenStream) -> TokenStream {
    let item = proc_macro2::TokenStream::from(item);
    match plugin_fn::expand(attr.into(), item.clone()) {
        Ok(tokens) => tokens.into(),
        // Keep the item so that the only error is ours (no "unused import" or "cannot find
        // function" follow-ups).
        Err(error) => {
            let mut tokens = error.into_compile_error();
            tokens.extend(item);
            tokens.into()
        }
    }
}

/// Declares host functions the application registered (with `wasmplug::HostFunctions`) and
/// generates a safe wrapper for each.
///
/// Arguments of type `i32`, `u32`, `i64`, `u64`, `f32`, `f64` and `bool` cross as wasm
/// values; anything else (`&str`, `String`, `&[u8]`, `Vec<u8>`, `Json<T>`) as a
/// `(ptr, len)` buffer. Results: nothing, a scalar, or `Vec<u8>` / `String` / `Json<T>`.
/// Each wrapper returns `Result<T, wasmplug_pdk::Error>`: `Err` is the host function's error
/// value. Natively (unit tests) the wrappers return an error.
///
/// ```
/// use wasmplug_pdk::{Json, host_fn};
///
/// #[host_fn("myapp")]
/// extern "C" {
///     fn add(a: i64, b: i64) -> i64;
///     fn lookup_user(id: u32) -> Json<serde_json::Value>;
///     fn audit(message: &str);
/// }
///
/// # fn main() {
/// assert!(add(1, 2).is_err()); // natively there is no host
/// # }
/// ```
#[proc_macro_attribute]
pub fn host_fn(attr: TokenStream, item: TokenStream) -> TokenStream {
    match host_fn::expand(attr.into(), item.into()) {
        Ok(tokens) => tokens.into(),
        Err(error) => error.into_compile_error().into(),
    }
}

/// Declares the plugin: ABI version, metadata and the runtime exports. Invoke it **exactly
/// once per plugin crate**, at module level.
///
/// ```
/// wasmplug_pdk::plugin_meta! {
///     name: "greet",
///     version: "1.0.0",
///     description: "Greets people",
///     author: "wasmplug",
/// }
/// # fn main() {}
/// ```
///
/// Every key is optional; the defaults come from the crate's `Cargo.toml`: `name` from
/// `package.name`, `version` from `package.version`, `description` from
/// `package.description` and `author` from `package.authors` (omitted when empty). So
/// `wasmplug_pdk::plugin_meta!();` is enough for a crate whose name is a valid plugin name.
///
/// Checked at compile time: `name` is 1–64 characters of `a-z`, `0-9`, `-`, `_` starting
/// with a letter; `version` is a semver version (`MAJOR.MINOR.PATCH[-pre][+build]`); keys are
/// among the four above, each given at most once, with string literal values.
///
/// On `wasm32` it generates:
///
/// - the `wasmplug.abi` custom section: `01 00 00 00` (ABI version 1);
/// - the `wasmplug.meta` custom section: compact JSON such as
///   `{"name":"greet","version":"1.0.0","description":"Greets people","author":"wasmplug"}`;
/// - the exports `allocate(len: i32) -> i32`, `deallocate(ptr: i32, len: i32)` and
///   `init(ptr: i32, len: i32) -> i64` (which stores the configuration read by
///   `wasmplug_pdk::config`).
///
/// Invoking it twice in one plugin would duplicate these exports (a link error) and the
/// `wasmplug.abi` section (which the host refuses).
#[proc_macro]
pub fn plugin_meta(input: TokenStream) -> TokenStream {
    plugin_meta::expand(input.into())
        .unwrap_or_else(syn::Error::into_compile_error)
        .into()
}
