//! Logging to the host (`wasmplug.log`): lines go to the host's `tracing` with the plugin's
//! name, version, function and request id. The host rate-limits them per plugin (by default
//! 100 lines per second); lines over the limit are dropped and counted, not queued.

/// Severity of a log line.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum Level {
    /// Very detailed tracing.
    Trace = 0,
    /// Debugging detail.
    Debug = 1,
    /// Normal operation.
    Info = 2,
    /// Something unexpected that the plugin handled.
    Warn = 3,
    /// A failure.
    Error = 4,
}

/// Logs `message` at `level`.
///
/// ```
/// wasmplug_pdk::log::log(wasmplug_pdk::log::Level::Info, "cache warmed");
/// wasmplug_pdk::log::warn(format!("slow upstream: {} ms", 950));
/// ```
pub fn log(level: Level, message: impl AsRef<str>) {
    let message = message.as_ref();
    #[cfg(target_arch = "wasm32")]
    // SAFETY: a live byte slice the host only reads (after bounds-checking it).
    unsafe {
        crate::host::log(level as i32, message.as_ptr(), message.len())
    };
    #[cfg(not(target_arch = "wasm32"))]
    eprintln!("[{level:?}] {message}");
}

/// Logs at [`Level::Trace`].
pub fn trace(message: impl AsRef<str>) {
    log(Level::Trace, message);
}

/// Logs at [`Level::Debug`].
pub fn debug(message: impl AsRef<str>) {
    log(Level::Debug, message);
}

/// Logs at [`Level::Info`].
pub fn info(message: impl AsRef<str>) {
    log(Level::Info, message);
}

/// Logs at [`Level::Warn`].
pub fn warn(message: impl AsRef<str>) {
    log(Level::Warn, message);
}

/// Logs at [`Level::Error`].
pub fn error(message: impl AsRef<str>) {
    log(Level::Error, message);
}
