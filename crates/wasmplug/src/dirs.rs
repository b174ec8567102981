//! Per-user directories of wasmplug: the compiled-module cache and the plugins' data (the
//! kv store). Each is its own environment variable, else the XDG base directory, else the
//! conventional place under `$HOME`.

use std::path::PathBuf;

/// Environment variable naming the compiled-module cache directory.
pub const CACHE_DIR_ENV: &str = "WASMPLUG_CACHE_DIR";
/// Environment variable naming the data directory (the persistent kv store).
pub const DATA_DIR_ENV: &str = "WASMPLUG_DATA_DIR";

/// `$WASMPLUG_CACHE_DIR`, else `$XDG_CACHE_HOME/wasmplug`, else `~/.cache/wasmplug`; `None`
/// when none of them is set.
pub fn default_cache_dir() -> Option<PathBuf> {
    user_dir(CACHE_DIR_ENV, "XDG_CACHE_HOME", ".cache")
}

/// `$WASMPLUG_DATA_DIR`, else `$XDG_DATA_HOME/wasmplug`, else `~/.local/share/wasmplug`;
/// `None` when none of them is set.
pub fn default_data_dir() -> Option<PathBuf> {
    user_dir(DATA_DIR_ENV, "XDG_DATA_HOME", ".local/share")
}

fn user_dir(own: &str, xdg: &str, under_home: &str) -> Option<PathBuf> {
    let env = |name: &str| {
        std::env::var_os(name)
            .filter(|v| !v.is_empty())
            .map(PathBuf::from)
    };
    env(own)
        .or_else(|| env(xdg).map(|d| d.join("wasmplug")))
        .or_else(|| env("HOME").map(|h| h.join(under_home).join("wasmplug")))
}
