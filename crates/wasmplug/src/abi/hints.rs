//! Language-aware advice for load errors: guesses which toolchain produced a module (from
//! its `producers` and Go's `go:buildid` custom sections) so that an error about the
//! wasmplug custom sections can name the fix for that language instead of only Rust's.
//!
//! Only used to word error messages: a wrong guess never changes what is accepted.

use wasmparser::{BinaryReader, ProducersSectionReader};

use super::ModuleInfo;

/// A source language recognised from a module's custom sections.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Toolchain {
    Rust,
    C,
    Zig,
    Go,
}

/// The toolchain that produced `bytes`, when its custom sections say so.
pub(crate) fn toolchain(info: &ModuleInfo, bytes: &[u8]) -> Option<Toolchain> {
    if info.customs.iter().any(|(name, _)| name == "go:buildid") {
        return Some(Toolchain::Go);
    }
    let data = info.custom(bytes, "producers").into_iter().next()?;
    let reader = ProducersSectionReader::new(BinaryReader::new(data, 0)).ok()?;
    let mut found = None;
    for field in reader.into_iter().flatten() {
        for value in field.values.into_iter().flatten() {
            let name = value.name.to_ascii_lowercase();
            let guess = match field.name {
                "language" if name == "rust" => Some(Toolchain::Rust),
                "language" if name.starts_with('c') && !name.starts_with("c++") => {
                    Some(Toolchain::C)
                }
                "language" if name == "zig" => Some(Toolchain::Zig),
                "language" if name == "go" => Some(Toolchain::Go),
                "processed-by" if name == "zig" => Some(Toolchain::Zig),
                _ => None,
            };
            // The source language wins over tools (a Rust crate may link C code).
            if guess == Some(Toolchain::Rust) {
                return guess;
            }
            found = found.or(guess);
        }
    }
    found
}

/// How to get the wasmplug custom sections into a module built by `toolchain`.
pub(crate) fn sections_fix(toolchain: Option<Toolchain>) -> &'static str {
    match toolchain {
        Some(Toolchain::Rust) => {
            "add `wasmplug_pdk::plugin_meta!` to the crate (wasmplug-pdk), or run `wasmplug build` on the project, which writes the sections from plugin.toml"
        }
        Some(Toolchain::C) => {
            "use `WASMPLUG_PLUGIN(...)` and `WASMPLUG_FUNCTION(...)` from pdk/c/wasmplug.h (`__attribute__((section))` makes a data segment, not a custom section), or run `wasmplug build` on the project, which writes the sections from plugin.toml"
        }
        Some(Toolchain::Zig) => {
            "use `wasmplug.plugin(...)` from pdk/zig/wasmplug.zig (`linksection` makes a data segment, not a custom section), or run `wasmplug build` on the project, which writes the sections from plugin.toml"
        }
        Some(Toolchain::Go) => {
            "the Go compiler cannot emit custom sections: build with `wasmplug build`, which writes them from plugin.toml"
        }
        None => {
            "Rust: `wasmplug_pdk::plugin_meta!`; C: `WASMPLUG_PLUGIN(...)` (pdk/c/wasmplug.h); Zig: `wasmplug.plugin(...)` (pdk/zig/wasmplug.zig); Go, AssemblyScript or any other toolchain: `wasmplug build`, which writes the sections from plugin.toml"
        }
    }
}

/// Describes a byte string for an error message: its text with escapes, and what its last
/// byte is when that explains the problem (a NUL from a C string literal).
pub(crate) fn describe_bytes(data: &[u8]) -> String {
    const SHOWN: usize = 64;
    let shown = &data[..data.len().min(SHOWN)];
    let mut text = format!("{:?}", String::from_utf8_lossy(shown));
    if data.len() > SHOWN {
        text.push_str(&format!(" (first {SHOWN} of {} bytes)", data.len()));
    }
    match data.last() {
        Some(0) => text.push_str(
            ", which ends with a NUL byte (0x00): a C string literal's terminator? Leave it out (`sizeof(s) - 1`)",
        ),
        Some(b'\r') => text.push_str(", which ends with a carriage return (0x0d)"),
        _ => {}
    }
    text
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn toolchains_are_recognised_from_producers() {
        let module = |producers: &str| {
            let mut section = wasm_encoder::ProducersSection::new();
            let mut field = wasm_encoder::ProducersField::new();
            field.value(producers, "1");
            section.field("language", &field);
            let mut m = wasm_encoder::Module::new();
            m.section(&section);
            m.finish()
        };
        for (lang, expected) in [
            ("Rust", Some(Toolchain::Rust)),
            ("C11", Some(Toolchain::C)),
            ("C++", None),
            ("Zig", Some(Toolchain::Zig)),
        ] {
            let bytes = module(lang);
            let info = ModuleInfo::parse(&bytes).unwrap();
            assert_eq!(toolchain(&info, &bytes), expected, "{lang}");
        }
        let bare = wasm_encoder::Module::new().finish();
        assert_eq!(toolchain(&ModuleInfo::parse(&bare).unwrap(), &bare), None);
    }

    #[test]
    fn bytes_are_shown_and_a_nul_is_called_a_nul() {
        let d = describe_bytes(b"echo\0");
        assert!(d.starts_with(r#""echo\0""#), "{d}");
        assert!(d.contains("NUL byte (0x00)"), "{d}");
        assert_eq!(describe_bytes(b"a\nb"), r#""a\nb""#);
        assert!(describe_bytes(&[b'x'; 100]).contains("first 64 of 100 bytes"));
    }
}
