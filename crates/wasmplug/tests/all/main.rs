//! Integration tests of the host library, compiled into one binary.
//!
//! WAT fixtures live in `tests/guests/wat/`; Rust guests (the example plugins and the
//! `pdk-probe` test guest) are built for `wasm32-wasip1` once per run by
//! `scripts/build-guests.sh`.

mod support;

mod abi_errors;
mod async_calls;
mod cache;
mod capabilities;
mod components;
mod contract;
mod custom_functions;
mod examples;
mod flavours;
mod guest_errors;
mod host_functions;
mod http;
mod issue11_load;
mod issue11_registry;
mod kv_redis;
mod lease;
mod load;
mod loopback;
mod oci;
mod pdk_guests;
mod pool;
mod registry;
mod requirements;
mod rollout;
mod sync;
mod trust;
mod typed_exports;
mod versioned;
mod wat_plugin;
