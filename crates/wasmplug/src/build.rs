//! The `[build]` table of `plugin.toml`: how `wasmplug build` turns a plugin project into
//! its module. Loading a plugin ignores this table (a built module is checked on its own
//! custom sections), so it can never change what a plugin may do.
//!
//! ```toml
//! [build]
//! lang = "go"                      # rust, go, c, zig or assemblyscript; guessed from the files
//! functions = ["echo", "len"]      # optional: the `wasmplug.functions` list to write
//! command = ["make", "plugin"]     # optional: run this instead of the language's build
//! ```

use std::fmt;
use std::str::FromStr;

use serde::Deserialize;

/// A language with a wasmplug guest kit.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Deserialize)]
#[serde(rename_all = "lowercase")]
#[non_exhaustive]
pub enum GuestLanguage {
    /// Rust with `wasmplug-pdk` (`cargo build --target wasm32-wasip1`).
    Rust,
    /// Go ≥ 1.24 with `pdk/go` (`GOOS=wasip1 GOARCH=wasm go build -buildmode=c-shared`).
    Go,
    /// C with `pdk/c/wasmplug.h` (clang, wasi-libc, `-mexec-model=reactor`).
    C,
    /// Zig with `pdk/zig/wasmplug.zig` (`zig build-exe -target wasm32-wasi -fno-entry`).
    Zig,
    /// AssemblyScript with `pdk/assemblyscript` (`asc`).
    #[serde(rename = "assemblyscript")]
    AssemblyScript,
}

impl GuestLanguage {
    /// Every language, in the order the docs list them.
    pub const ALL: [GuestLanguage; 5] = [
        GuestLanguage::Rust,
        GuestLanguage::Go,
        GuestLanguage::C,
        GuestLanguage::Zig,
        GuestLanguage::AssemblyScript,
    ];

    /// The name used in `plugin.toml`, on the command line and in example folder names.
    pub fn as_str(self) -> &'static str {
        match self {
            GuestLanguage::Rust => "rust",
            GuestLanguage::Go => "go",
            GuestLanguage::C => "c",
            GuestLanguage::Zig => "zig",
            GuestLanguage::AssemblyScript => "assemblyscript",
        }
    }
}

impl fmt::Display for GuestLanguage {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

impl FromStr for GuestLanguage {
    type Err = String;

    fn from_str(s: &str) -> Result<Self, Self::Err> {
        GuestLanguage::ALL
            .into_iter()
            .find(|l| l.as_str() == s)
            .ok_or_else(|| {
                format!("unknown language `{s}`; expected one of rust, go, c, zig, assemblyscript")
            })
    }
}

/// The `[build]` table of a manifest. Every key is optional.
#[derive(Debug, Clone, Default, PartialEq, Eq, Deserialize)]
#[serde(deny_unknown_fields)]
#[non_exhaustive]
pub struct BuildSpec {
    /// The project's language; `wasmplug build` guesses it from the files when absent.
    pub lang: Option<GuestLanguage>,
    /// The plugin functions to list in `wasmplug.functions`. When absent, `wasmplug build`
    /// keeps the module's own list, or else lists every export with the plugin-function
    /// signature.
    pub functions: Option<Vec<String>>,
    /// A command (program and arguments, run in the manifest's folder) that builds the
    /// module instead of the language's default build.
    pub command: Option<Vec<String>>,
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn languages_round_trip_and_unknown_ones_are_named() {
        for lang in GuestLanguage::ALL {
            assert_eq!(lang.as_str().parse::<GuestLanguage>(), Ok(lang));
        }
        let err = "cobol".parse::<GuestLanguage>().unwrap_err();
        assert!(
            err.contains("`cobol`") && err.contains("assemblyscript"),
            "{err}"
        );
    }
}
