//! Hot reload under load, in a test binary of its own: it checks that the process's open
//! files and memory end where they started, which tests running concurrently in the same
//! process (servers, pooled connections) would disturb.

#[allow(dead_code)] // shared with tests/all; not every helper is used here
#[path = "../all/versioned.rs"]
mod versioned;

mod hot_reload;
