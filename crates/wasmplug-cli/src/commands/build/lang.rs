//! What each language's build is: how a project's language is recognised from its files,
//! and the toolchain command that turns it into `manifest.wasm`.
//!
//! Every command runs in the project folder with its output shown as it comes; a failing
//! command fails the build with its exit status.

use std::path::{Path, PathBuf};
use std::process::Command;

use anyhow::{Context, bail};
use wasmplug::{GuestLanguage, Manifest};

use super::toolchain;

/// The language of the project in `dir`, from the files it holds.
///
/// # Errors
/// No file says (the message lists what it looked for).
pub fn detect(dir: &Path) -> anyhow::Result<GuestLanguage> {
    let has = |name: &str| dir.join(name).exists();
    let has_ext = |ext: &str| {
        std::fs::read_dir(dir).is_ok_and(|entries| {
            entries
                .flatten()
                .any(|e| e.path().extension().is_some_and(|x| x == ext))
        })
    };
    let lang = if has("Cargo.toml") {
        GuestLanguage::Rust
    } else if has("go.mod") {
        GuestLanguage::Go
    } else if has("main.zig") || has("src/main.zig") || has_ext("zig") {
        GuestLanguage::Zig
    } else if has("index.ts") || has("assembly/index.ts") || has_ext("ts") {
        GuestLanguage::AssemblyScript
    } else if has_ext("c") {
        GuestLanguage::C
    } else {
        bail!(
            "cannot tell the language of `{}` (no Cargo.toml, go.mod, *.zig, *.ts or *.c); set `lang` in plugin.toml's [build] table or pass --lang",
            dir.display()
        );
    };
    Ok(lang)
}

/// Runs the build of `lang` in `dir`, which must leave the module at `manifest.wasm`.
///
/// # Errors
/// The toolchain is missing or the build fails.
pub fn compile(lang: GuestLanguage, dir: &Path, manifest: &Manifest) -> anyhow::Result<()> {
    let out = &manifest.wasm;
    if let Some(command) = &manifest.build.command {
        let Some((program, args)) = command.split_first() else {
            bail!("plugin.toml's `[build] command` is empty");
        };
        let mut cmd = Command::new(program);
        cmd.args(args).env("WASMPLUG_WASM", out);
        return run(cmd, dir);
    }
    let tool = toolchain::find(lang, dir)?;
    let mut cmd = Command::new(&tool);
    match lang {
        GuestLanguage::Go => {
            cmd.args(["build", "-buildmode=c-shared", "-o"])
                .arg(out)
                .arg(".")
                .env("GOOS", "wasip1")
                .env("GOARCH", "wasm")
                .env("CGO_ENABLED", "0");
            if std::env::var_os("GOTOOLCHAIN").is_none() {
                // Never download another Go: build with the one found.
                cmd.env("GOTOOLCHAIN", "local");
            }
            run(cmd, dir).context("the Go build failed (Go >= 1.24 is needed for //go:wasmexport)")
        }
        GuestLanguage::C => {
            let sources = files_with_ext(dir, "c")?;
            cmd.args([
                "--target=wasm32-wasi",
                "-mexec-model=reactor",
                "-O2",
                "-Wall",
                "-Wl,--strip-debug",
                "-o",
            ])
            .arg(out)
            .args(&sources);
            run(cmd, dir)
        }
        GuestLanguage::Zig => {
            let entry = first_existing(dir, &["main.zig", "src/main.zig"])?;
            cmd.arg("build-exe")
                .arg(entry)
                .args(["-target", "wasm32-wasi", "-fno-entry", "-rdynamic"])
                .args(["-O", "ReleaseSmall", "--stack", "1048576"])
                .arg(format!("-femit-bin={}", out.display()));
            run(cmd, dir)
        }
        GuestLanguage::AssemblyScript => {
            let entry = first_existing(dir, &["index.ts", "assembly/index.ts"])?;
            cmd.arg(&entry)
                .args(["-O3", "--runtime", "incremental", "--noAssert"]);
            if let Some(module) = abort_module(dir, &entry) {
                cmd.arg("--use").arg(format!("abort={module}/abort"));
            }
            cmd.arg("-o").arg(out);
            run(cmd, dir)
        }
        _ => compile_rust(cmd, dir, out),
    }
}

/// `cargo build --release --target wasm32-wasip1`, then the crate's `.wasm` copied to `out`.
fn compile_rust(mut cmd: Command, dir: &Path, out: &Path) -> anyhow::Result<()> {
    cmd.args(["build", "--release", "--target", "wasm32-wasip1"]);
    run(cmd, dir).context(
        "the Rust build failed (is the target installed? `rustup target add wasm32-wasip1`)",
    )?;
    let metadata = Command::new("cargo")
        .args([
            "metadata",
            "--format-version",
            "1",
            "--no-deps",
            "--offline",
        ])
        .current_dir(dir)
        .output()
        .context("cannot run `cargo metadata`")?;
    if !metadata.status.success() {
        bail!(
            "`cargo metadata` failed: {}",
            String::from_utf8_lossy(&metadata.stderr)
        );
    }
    let metadata: serde_json::Value = serde_json::from_slice(&metadata.stdout)?;
    let manifest = dir.join("Cargo.toml").canonicalize()?;
    let lib = metadata["packages"]
        .as_array()
        .into_iter()
        .flatten()
        .filter(|p| {
            p["manifest_path"]
                .as_str()
                .is_some_and(|m| Path::new(m) == manifest)
        })
        .flat_map(|p| p["targets"].as_array().cloned().unwrap_or_default())
        .find(|t| {
            t["kind"]
                .as_array()
                .is_some_and(|k| k.iter().any(|k| k == "cdylib"))
        })
        .and_then(|t| t["name"].as_str().map(|n| n.replace('-', "_")))
        .context(
            "the crate has no `cdylib` target: add `[lib] crate-type = [\"cdylib\"]` to Cargo.toml",
        )?;
    let target_dir = metadata["target_directory"]
        .as_str()
        .context("`cargo metadata` gave no target directory")?;
    let built = Path::new(target_dir).join(format!("wasm32-wasip1/release/{lib}.wasm"));
    std::fs::copy(&built, out)
        .with_context(|| format!("cannot copy `{}` to `{}`", built.display(), out.display()))?;
    Ok(())
}

/// The module whose `abort` replaces AssemblyScript's `env.abort` import
/// (`--use abort=<module>/abort`), as asc names it (relative, without `.ts`): the kit's
/// `wasmplug.ts` next to the entry file, else the entry file itself if it defines `abort`.
fn abort_module(dir: &Path, entry: &Path) -> Option<String> {
    let name = |path: &Path| path.with_extension("").to_string_lossy().into_owned();
    let kit = entry.parent().unwrap_or(Path::new("")).join("wasmplug.ts");
    if dir.join(&kit).exists() {
        return Some(name(&kit));
    }
    let source = std::fs::read_to_string(dir.join(entry)).unwrap_or_default();
    source
        .contains("export function abort(")
        .then(|| name(entry))
}

fn first_existing(dir: &Path, names: &[&str]) -> anyhow::Result<PathBuf> {
    names
        .iter()
        .map(PathBuf::from)
        .find(|n| dir.join(n).is_file())
        .with_context(|| {
            format!(
                "no entry file in `{}` (looked for {})",
                dir.display(),
                names.join(", ")
            )
        })
}

fn files_with_ext(dir: &Path, ext: &str) -> anyhow::Result<Vec<PathBuf>> {
    let mut files: Vec<PathBuf> = std::fs::read_dir(dir)
        .with_context(|| format!("cannot list `{}`", dir.display()))?
        .flatten()
        .map(|e| PathBuf::from(e.file_name()))
        .filter(|p| p.extension().is_some_and(|x| x == ext))
        .collect();
    files.sort();
    if files.is_empty() {
        bail!("no `*.{ext}` file in `{}`", dir.display());
    }
    Ok(files)
}

fn run(mut cmd: Command, dir: &Path) -> anyhow::Result<()> {
    cmd.current_dir(dir);
    let shown = format!("{cmd:?}");
    eprintln!("$ {}", shown.replace('"', ""));
    let status = cmd
        .status()
        .with_context(|| format!("cannot run {shown}"))?;
    if !status.success() {
        bail!("{shown} failed ({status})");
    }
    Ok(())
}
