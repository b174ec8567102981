//! `wasmplug build [DIR]`: builds a plugin project with its language's toolchain, then
//! writes the wasmplug custom sections from `plugin.toml` and checks the module.
//!
//! The sections are always (re)written from the manifest, so a module's `wasmplug.meta`
//! and the manifest cannot disagree, and toolchains that cannot emit custom sections (Go,
//! AssemblyScript) need nothing else. The function list is the manifest's
//! `[build] functions`, else the module's own `wasmplug.functions`, else every export with
//! the plugin-function signature.

mod componentize;
mod lang;
mod toolchain;

use std::path::{Path, PathBuf};

use anyhow::{Context, bail};
use wasm_encoder::ComponentSection as _;
use wasmplug::{GuestLanguage, MANIFEST_FILE, Manifest, ModuleInfo, PluginInterface, abi};

use crate::exit;

/// Build a plugin project and write its wasmplug custom sections from plugin.toml.
///
/// Runs the project's toolchain (cargo, go, clang, zig or asc; see `[build]` in
/// plugin.toml to override), replaces the `wasmplug.abi`, `wasmplug.meta` and
/// `wasmplug.functions` sections of the module, checks it against the guest ABI and prints
/// where it is. Toolchains are looked up in `$WASMPLUG_TOOLCHAINS` (what
/// `scripts/toolchains.sh` installs), then on `PATH`.
#[derive(Debug, clap::Args)]
pub struct Build {
    /// The project folder, holding plugin.toml.
    #[arg(default_value = ".")]
    dir: PathBuf,
    /// The project's language, when plugin.toml's `[build] lang` does not say and the
    /// files do not tell.
    #[arg(long, value_parser = clap::value_parser!(GuestLanguage))]
    lang: Option<GuestLanguage>,
}

/// What a build produced.
struct Built {
    module: PathBuf,
    size: usize,
    interface: PluginInterface,
}

impl Build {
    /// Builds, writes the sections, prints the result.
    pub fn execute(self) -> anyhow::Result<()> {
        let dir = std::path::absolute(&self.dir)
            .with_context(|| format!("bad project folder `{}`", self.dir.display()))?;
        let manifest_path = dir.join(MANIFEST_FILE);
        let manifest = Manifest::from_file(&manifest_path)
            .with_context(|| format!("`{}` is not a plugin project", self.dir.display()))?;
        // A `[build] command` builds any language (Python through componentize-py, say).
        let lang = match self.lang.or(manifest.build.lang) {
            Some(lang) => lang,
            None if manifest.build.command.is_some() => GuestLanguage::Rust,
            None => lang::detect(&dir)?,
        };
        let how = match &manifest.build.command {
            Some(_) => "`[build] command`".to_string(),
            None => lang.to_string(),
        };
        eprintln!(
            "building {} {} ({how}) in {}",
            manifest.name,
            manifest.version,
            shown(&dir)
        );
        lang::compile(lang, &dir, &manifest)?;
        let built = write_sections(&manifest, &manifest_path).map_err(exit::load)?;
        println!(
            "built {} ({} bytes): {} {}, functions {}",
            shown(&built.module),
            built.size,
            built.interface.meta.name,
            built.interface.meta.version,
            built.interface.functions.join(", ")
        );
        if manifest.kind == wasmplug::PluginKind::WasiHttp {
            println!(
                "serve it: wasmplug serve --plugins {} (then /v1/http/{}/...)",
                shown(dir.parent().unwrap_or(&dir)),
                manifest.name
            );
        } else {
            println!(
                "run it: wasmplug run {} {} --input ...",
                shown(&manifest_path),
                built.interface.functions[0]
            );
        }
        Ok(())
    }
}

/// Replaces the module's wasmplug sections with the manifest's and checks the result.
fn write_sections(manifest: &Manifest, manifest_path: &Path) -> anyhow::Result<Built> {
    let path = &manifest.wasm;
    let bytes = std::fs::read(path)
        .with_context(|| format!("the build did not produce `{}`", path.display()))?;
    if manifest.kind.is_component() && wasmplug::component::is_component(&bytes) {
        // Already a component (componentize-py, jco...): the sections go at its top level.
        return component_sections(manifest, manifest_path, &bytes);
    }
    let info = ModuleInfo::parse(&bytes)?;
    let functions = match &manifest.build.functions {
        Some(list) => list.clone(),
        None => abi::listed_functions(&info, &bytes).unwrap_or_else(|| abi::infer_functions(&info)),
    };
    if functions.is_empty() {
        bail!(
            "`{}` exports no plugin function: export at least one `(i32, i32) -> i64` function, or list them in plugin.toml's `[build] functions`",
            path.display()
        );
    }
    let meta = wasmplug::PluginMeta {
        name: manifest.name.clone(),
        version: manifest.version.clone(),
        description: manifest.description.clone(),
        author: manifest.author.clone(),
        requires: manifest.requires.clone(),
    };
    let mut out = abi::write_sections(&bytes, 1, &meta, &functions)?;
    let interface = if manifest.kind.is_component() {
        out = componentize::componentize(&out, manifest.kind)
            .with_context(|| format!("cannot componentize `{}`", path.display()))?;
        std::fs::write(path, &out).with_context(|| format!("cannot write `{}`", path.display()))?;
        // Checked as it will be loaded: through the manifest (name, version, kind).
        let compiled = wasmplug::Plugin::builder()
            .compile(manifest_path)
            .with_context(|| {
                format!(
                    "`{}` is not a valid {} plugin",
                    path.display(),
                    manifest.kind
                )
            })?;
        compiled.interface().clone()
    } else {
        PluginInterface::check(&ModuleInfo::parse(&out)?, &out)
            .with_context(|| format!("`{}` is not a valid wasmplug plugin", path.display()))?
    };
    std::fs::write(path, &out).with_context(|| format!("cannot write `{}`", path.display()))?;
    Ok(Built {
        module: path.clone(),
        size: out.len(),
        interface,
    })
}

/// Appends the wasmplug sections to a component that a toolchain built as a component
/// (the function list must come from `[build] functions`), then checks it as it loads.
fn component_sections(
    manifest: &Manifest,
    manifest_path: &Path,
    bytes: &[u8],
) -> anyhow::Result<Built> {
    let path = &manifest.wasm;
    let Some(functions) = &manifest.build.functions else {
        bail!("list the component's functions in plugin.toml's `[build] functions`");
    };
    let meta = wasmplug::PluginMeta {
        name: manifest.name.clone(),
        version: manifest.version.clone(),
        description: manifest.description.clone(),
        author: manifest.author.clone(),
        requires: manifest.requires.clone(),
    };
    let meta = serde_json::to_vec(&meta)?;
    let mut list = String::new();
    for f in functions {
        list.push_str(f);
        list.push('\n');
    }
    let mut out = bytes.to_vec();
    for (name, data) in [
        (abi::SECTION_ABI, &1u32.to_le_bytes()[..]),
        (abi::SECTION_META, &meta[..]),
        (abi::SECTION_FUNCTIONS, list.as_bytes()),
    ] {
        wasm_encoder::CustomSection {
            name: name.into(),
            data: data.into(),
        }
        .append_to_component(&mut out);
    }
    std::fs::write(path, &out).with_context(|| format!("cannot write `{}`", path.display()))?;
    let compiled = wasmplug::Plugin::builder()
        .compile(manifest_path)
        .with_context(|| {
            format!(
                "`{}` is not a valid {} plugin",
                path.display(),
                manifest.kind
            )
        })?;
    Ok(Built {
        module: path.clone(),
        size: out.len(),
        interface: compiled.interface().clone(),
    })
}

/// `path` relative to the current folder when it is inside it (for messages).
pub(crate) fn shown(path: &Path) -> String {
    let cwd = std::env::current_dir().unwrap_or_default();
    let rel = path.strip_prefix(&cwd).unwrap_or(path);
    if rel.as_os_str().is_empty() {
        ".".into()
    } else {
        rel.display().to_string()
    }
}
