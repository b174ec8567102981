//! The panic hook that reports panics to the host through `wasmplug.panic`.

use std::panic::PanicHookInfo;

/// Installs the panic hook once; later calls do nothing. Only on wasm32: native builds
/// (tests) keep the default hook.
pub(crate) fn install() {
    #[cfg(target_arch = "wasm32")]
    {
        static ONCE: std::sync::Once = std::sync::Once::new();
        ONCE.call_once(|| {
            std::panic::set_hook(Box::new(|info| crate::host::panic(&message(info))))
        });
    }
}

/// Formats a panic as `panicked at file:line:col: message`.
#[cfg_attr(not(target_arch = "wasm32"), allow(dead_code))]
pub(crate) fn message(info: &PanicHookInfo<'_>) -> String {
    let payload = info.payload_as_str().unwrap_or("Box<dyn Any>");
    match info.location() {
        Some(loc) => format!(
            "panicked at {}:{}:{}: {payload}",
            loc.file(),
            loc.line(),
            loc.column()
        ),
        None => format!("panicked: {payload}"),
    }
}

#[cfg(test)]
mod tests {
    use std::sync::{Arc, Mutex};

    #[test]
    fn formats_location_and_message() {
        let seen = Arc::new(Mutex::new(String::new()));
        let sink = Arc::clone(&seen);
        let previous = std::panic::take_hook();
        std::panic::set_hook(Box::new(move |info| {
            *sink.lock().unwrap() = super::message(info)
        }));
        let line = line!() + 1;
        let _ = std::panic::catch_unwind(|| panic!("boom: {}", 42));
        std::panic::set_hook(previous);
        let msg = seen.lock().unwrap().clone();
        assert!(msg.starts_with("panicked at "), "{msg}");
        assert!(msg.contains(&format!("panic_hook.rs:{line}:")), "{msg}");
        assert!(msg.ends_with(": boom: 42"), "{msg}");
    }
}
