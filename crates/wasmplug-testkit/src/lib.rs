//! Test support for wasmplug: the external servers its tests run against, started as real
//! processes on free loopback ports and stopped when their handle is dropped.
//!
//! - [`RedisServer`]: a `redis-server` (Debian package `redis-server`) with its own
//!   temporary directory, no persistence unless asked for.
//! - [`OciRegistry`]: a `docker-registry` (Debian package `docker-registry`, the CNCF
//!   *distribution* registry) with a config written here: filesystem storage in a temporary
//!   directory, plain HTTP on `127.0.0.1`, no authentication.
//! - [`Gateway`]: a `wasmplug serve` process (the binary path is the caller's
//!   `env!("CARGO_BIN_EXE_wasmplug")`), with [`http`] to call it.
//! - [`Haproxy`]: a `haproxy` (Debian package `haproxy`) balancing over gateways.
//! - [`Supervised`]: the process wrapper all of them use.
//!
//! `scripts/servers.sh install` installs the packages (idempotently); the binaries are looked
//! up on `PATH` unless [`REDIS_SERVER_ENV`] / [`DOCKER_REGISTRY_ENV`] name them. A missing
//! binary panics with that instruction instead of skipping the test.
//!
//! Invariants: every server listens on `127.0.0.1` only, on a port picked free just before
//! it starts; readiness is checked against *this* process (Redis reports its pid, the
//! registry echoes a per-instance response header), so a port race with a parallel test
//! can never make a test talk to another test's server. Each server runs under a small
//! `sh` watchdog that kills it when this process's end of a pipe closes, so servers do not
//! outlive the test process even when it is killed.
//!
//! ```no_run
//! let redis = wasmplug_testkit::RedisServer::start();
//! let url = redis.url(); // redis://127.0.0.1:<port>/
//! # drop(url);
//! ```

mod binary;
mod gateway;
mod haproxy;
mod process;
mod redis;
mod registry;

pub use binary::{DOCKER_REGISTRY_ENV, REDIS_SERVER_ENV};
pub use gateway::{Gateway, Response, http};
pub use haproxy::{HAPROXY_ENV, Haproxy};
pub use process::{Supervised, free_port};
pub use redis::RedisServer;
pub use registry::OciRegistry;
