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
    }
}

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
