//! The host functions imported from the `wasmplug` module (ABI section 5).

#[cfg(target_arch = "wasm32")]
mod imports {
    #[link(wasm_import_module = "wasmplug")]
    unsafe extern "C" {
        /// `wasmplug.set_error(msg_ptr, msg_len, code)`.
        #[link_name = "set_error"]
        pub(super) fn set_error(msg_ptr: *const u8, msg_len: usize, code: i32);
        /// `wasmplug.panic(msg_ptr, msg_len)`: never returns.
        #[link_name = "panic"]
        pub(super) fn panic(msg_ptr: *const u8, msg_len: usize);
        /// `wasmplug.log(level, msg_ptr, msg_len)`.
        #[link_name = "log"]
        pub(crate) fn log(level: i32, msg_ptr: *const u8, msg_len: usize);
        /// `wasmplug.config_get(key_ptr, key_len, out) -> status`.
        #[link_name = "config_get"]
        pub(crate) fn config_get(key_ptr: *const u8, key_len: usize, out: *mut u64) -> i32;
        /// `wasmplug.kv_get(key_ptr, key_len, out) -> status`.
        #[link_name = "kv_get"]
        pub(crate) fn kv_get(key_ptr: *const u8, key_len: usize, out: *mut u64) -> i32;
        /// `wasmplug.kv_set(key_ptr, key_len, value_ptr, value_len, out) -> status`.
        #[link_name = "kv_set"]
        pub(crate) fn kv_set(
            key_ptr: *const u8,
            key_len: usize,
            value_ptr: *const u8,
            value_len: usize,
            out: *mut u64,
        ) -> i32;
        /// `wasmplug.kv_delete(key_ptr, key_len, out) -> status`.
        #[link_name = "kv_delete"]
        pub(crate) fn kv_delete(key_ptr: *const u8, key_len: usize, out: *mut u64) -> i32;
        /// `wasmplug.kv_list(prefix_ptr, prefix_len, out) -> status`.
        #[link_name = "kv_list"]
        pub(crate) fn kv_list(prefix_ptr: *const u8, prefix_len: usize, out: *mut u64) -> i32;
        /// `wasmplug.http_request(head_ptr, head_len, body_ptr, body_len, out) -> status`.
        #[link_name = "http_request"]
        pub(crate) fn http_request(
            head_ptr: *const u8,
            head_len: usize,
            body_ptr: *const u8,
            body_len: usize,
            out: *mut u64,
        ) -> i32;
    }
}

#[cfg(target_arch = "wasm32")]
pub(crate) use imports::{config_get, http_request, kv_delete, kv_get, kv_list, kv_set, log};

/// Fails the current call with an error value: the host copies `message` immediately.
#[cfg(target_arch = "wasm32")]
pub(crate) fn set_error(message: &str, code: i32) {
    // SAFETY: the pointer and length describe a live, initialised byte slice for the whole
    // call, and the host only reads it (after bounds-checking it) before returning.
    unsafe { imports::set_error(message.as_ptr(), message.len(), code) }
}

/// Traps the current call with `message`.
#[cfg(target_arch = "wasm32")]
pub(crate) fn panic(message: &str) -> ! {
    // SAFETY: as for `set_error`: a live slice that the host only reads.
    unsafe { imports::panic(message.as_ptr(), message.len()) }
    // The host never returns from `panic`; should one ever do so, trap anyway.
    std::process::abort()
}

#[cfg(not(target_arch = "wasm32"))]
std::thread_local! {
    static LAST_ERROR: std::cell::RefCell<Option<(String, i32)>> =
        const { std::cell::RefCell::new(None) };
}

/// Native stand-in for `wasmplug.set_error`, so the crate builds and tests on the host:
/// records the error for [`take_error`].
#[cfg(not(target_arch = "wasm32"))]
pub(crate) fn set_error(message: &str, code: i32) {
    LAST_ERROR.with(|e| *e.borrow_mut() = Some((message.to_owned(), code)));
}

/// Native stand-in for `wasmplug.panic`: prints the message and aborts.
#[cfg(not(target_arch = "wasm32"))]
#[allow(dead_code)] // only the wasm32 panic hook calls it
pub(crate) fn panic(message: &str) -> ! {
    eprintln!("{message}");
    std::process::abort()
}

/// Returns and clears the error recorded by the native `set_error` stand-in on this thread.
#[cfg(all(test, not(target_arch = "wasm32")))]
pub(crate) fn take_error() -> Option<(String, i32)> {
    LAST_ERROR.with(|e| e.borrow_mut().take())
}
