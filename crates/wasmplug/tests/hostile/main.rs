//! The hostile-plugin suite: one guest per attack, hand-written WAT (`tests/hostile/*.wat`)
//! or written with a guest kit (`tests/hostile/<case>/`, built by `build-guests.sh --all`).
//!
//! Every case runs while a well-behaved neighbour plugin is called in a loop from another
//! thread ([`neighbour::with_neighbour`]); every neighbour call must succeed with the right
//! bytes. Each case asserts the exact error variant and its key fields, then calls the
//! hostile plugin again and expects the same answer (a fresh instance, no broken state).
//! `docs/security.md` lists the cases and the error each one gets.

mod neighbour;
mod support;

mod abi;
mod components;
mod host_calls;
mod isolation;
mod kits_and_async;
mod limits;
mod wasi;
