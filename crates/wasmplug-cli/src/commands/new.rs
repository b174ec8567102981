//! `wasmplug new <name> --lang L [--dir D]`: writes a plugin project that builds and runs as
//! generated (`wasmplug build D`, then `wasmplug run D/plugin.toml greet --input world`).
//!
//! Templates live in `new/templates/<lang>/` and are embedded in the binary, as are the
//! guest kits (`pdk/<lang>/`) that non-Rust projects get a copy of, so a project builds
//! offline and does not depend on where wasmplug is installed. The one exception is the
//! Rust kit, a path dependency on this checkout's `crates/wasmplug-pdk` (it is not
//! published).

use std::path::{Path, PathBuf};

use anyhow::{Context, bail};
use wasmplug::{GuestLanguage, PluginName};

use super::build::shown;

/// Create a plugin project: sources, plugin.toml and README, with a `greet` function.
#[derive(Debug, clap::Args)]
pub struct New {
    /// The plugin's name (lowercase letters, digits, `-` and `_`, starting with a letter).
    name: String,
    /// The language of the project.
    #[arg(long, value_parser = clap::value_parser!(GuestLanguage))]
    lang: GuestLanguage,
    /// The folder to create (default: `./<name>`). It must not exist or be empty.
    #[arg(long)]
    dir: Option<PathBuf>,
}

/// One file of a project: its path in the project and its contents.
type File = (&'static str, &'static str);

const COMMON: &[File] = &[("README.md", include_str!("new/templates/common/README.md"))];

const RUST: &[File] = &[
    ("Cargo.toml", include_str!("new/templates/rust/Cargo.toml")),
    ("src/lib.rs", include_str!("new/templates/rust/src/lib.rs")),
    (
        "plugin.toml",
        include_str!("new/templates/common/plugin.toml"),
    ),
    (".gitignore", "*.wasm\ntarget/\n"),
];

const GO: &[File] = &[
    ("go.mod", include_str!("new/templates/go/go.mod")),
    ("main.go", include_str!("new/templates/go/main.go")),
    ("plugin.toml", include_str!("new/templates/go/plugin.toml")),
    ("wasmplug/go.mod", include_str!("../../../../pdk/go/go.mod")),
    (
        "wasmplug/wasmplug.go",
        include_str!("../../../../pdk/go/wasmplug.go"),
    ),
    (
        "wasmplug/memory.go",
        include_str!("../../../../pdk/go/memory.go"),
    ),
    (
        "wasmplug/host.go",
        include_str!("../../../../pdk/go/host.go"),
    ),
    ("wasmplug/kv.go", include_str!("../../../../pdk/go/kv.go")),
    (
        "wasmplug/http.go",
        include_str!("../../../../pdk/go/http.go"),
    ),
    (".gitignore", "*.wasm\n"),
];

const C: &[File] = &[
    ("plugin.c", include_str!("new/templates/c/plugin.c")),
    ("wasmplug.h", include_str!("../../../../pdk/c/wasmplug.h")),
    (
        "plugin.toml",
        include_str!("new/templates/common/plugin.toml"),
    ),
    (".gitignore", "*.wasm\n"),
];

const ZIG: &[File] = &[
    ("main.zig", include_str!("new/templates/zig/main.zig")),
    (
        "wasmplug.zig",
        include_str!("../../../../pdk/zig/wasmplug.zig"),
    ),
    (
        "plugin.toml",
        include_str!("new/templates/common/plugin.toml"),
    ),
    (".gitignore", "*.wasm\n*.wasm.o\n.zig-cache/\n"),
];

const ASSEMBLYSCRIPT: &[File] = &[
    (
        "index.ts",
        include_str!("new/templates/assemblyscript/index.ts"),
    ),
    (
        "wasmplug.ts",
        include_str!("../../../../pdk/assemblyscript/assembly/index.ts"),
    ),
    (
        "package.json",
        include_str!("new/templates/assemblyscript/package.json"),
    ),
    (
        "plugin.toml",
        include_str!("new/templates/common/plugin.toml"),
    ),
    (".gitignore", "*.wasm\nnode_modules/\n"),
];

fn files(lang: GuestLanguage) -> &'static [File] {
    match lang {
        GuestLanguage::Go => GO,
        GuestLanguage::C => C,
        GuestLanguage::Zig => ZIG,
        GuestLanguage::AssemblyScript => ASSEMBLYSCRIPT,
        _ => RUST,
    }
}

/// How a language is named in prose, and the command that builds a project by hand.
fn display_name(lang: GuestLanguage) -> &'static str {
    match lang {
        GuestLanguage::Go => "Go",
        GuestLanguage::C => "C",
        GuestLanguage::Zig => "Zig",
        GuestLanguage::AssemblyScript => "AssemblyScript",
        _ => "Rust",
    }
}

impl New {
    /// Writes the project.
    pub fn execute(self) -> anyhow::Result<()> {
        let name: PluginName = self
            .name
            .parse()
            .map_err(|e| anyhow::anyhow!("`{}` is not a plugin name: {e}", self.name))?;
        let dir = self.dir.unwrap_or_else(|| PathBuf::from(name.as_str()));
        if dir.exists() && std::fs::read_dir(&dir)?.next().is_some() {
            bail!("`{}` already exists and is not empty", dir.display());
        }
        let pdk = Path::new(env!("CARGO_MANIFEST_DIR")).join("../wasmplug-pdk");
        let pdk = pdk.canonicalize().unwrap_or(pdk);
        let vars = [
            ("{{name}}", name.as_str().to_string()),
            ("{{crate}}", name.as_str().replace('-', "_")),
            ("{{lang}}", self.lang.to_string()),
            ("{{Lang}}", display_name(self.lang).to_string()),
            ("{{pdk_path}}", pdk.display().to_string().replace('\\', "/")),
        ];
        for (path, template) in COMMON.iter().chain(files(self.lang)) {
            let mut text = template.to_string();
            for (key, value) in &vars {
                text = text.replace(key, value);
            }
            let target = dir.join(path);
            if let Some(parent) = target.parent() {
                std::fs::create_dir_all(parent)
                    .with_context(|| format!("cannot create `{}`", parent.display()))?;
            }
            std::fs::write(&target, text)
                .with_context(|| format!("cannot write `{}`", target.display()))?;
        }
        let shown_dir = shown(&std::path::absolute(&dir)?);
        println!(
            "created {} plugin `{name}` in {shown_dir}",
            display_name(self.lang)
        );
        println!("next: wasmplug build {shown_dir}");
        println!("then: wasmplug run {shown_dir}/plugin.toml greet --input world");
        Ok(())
    }
}
