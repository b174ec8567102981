//! A tiny versioned plugin, generated as WAT, for registry and hot-reload tests.

use std::path::{Path, PathBuf};

/// How to build one candidate.
#[derive(Clone)]
pub struct Spec {
    pub name: &'static str,
    pub version: String,
    pub abi: u8,
    pub init_fails: bool,
    /// `init` loops forever (until the plugin's deadline stops it).
    pub init_spins: bool,
    pub with_version_fn: bool,
    /// Bytes of padding in an extra custom section (to make the module big).
    pub pad: usize,
    /// Extra manifest text (e.g. a `[capabilities]` table).
    pub manifest_extra: String,
}

impl Spec {
    pub fn new(name: &'static str, version: &str) -> Spec {
        Spec {
            name,
            version: version.to_string(),
            abi: 1,
            init_fails: false,
            init_spins: false,
            with_version_fn: true,
            pad: 0,
            manifest_extra: String::new(),
        }
    }

    /// The module: `version` returns the version string, `fail` traps, `echo` echoes.
    pub fn wat(&self) -> String {
        let v = &self.version;
        let init = if self.init_fails {
            r#"(func (export "init") (param i32 i32) (result i64)
    (call $set_error (i32.const 512) (i32.const 11) (i32.const 1)) (i64.const 0))"#
        } else if self.init_spins {
            r#"(func (export "init") (param i32 i32) (result i64) (loop $l (br $l)) (i64.const 0))"#
        } else {
            ""
        };
        let (version_fn, listed) = if self.with_version_fn {
            (
                format!(
                    r#"(func (export "version") (param i32 i32) (result i64)
    (i64.or (i64.shl (i64.const 256) (i64.const 32)) (i64.const {})))"#,
                    v.len()
                ),
                "version\\nfail\\necho\\nslow\\n",
            )
        } else {
            (String::new(), "fail\\necho\\nslow\\n")
        };
        format!(
            r#"(module
  (import "wasmplug" "set_error" (func $set_error (param i32 i32 i32)))
  (memory (export "memory") 1)
  (global $heap (mut i32) (i32.const 1024))
  (func (export "allocate") (param $len i32) (result i32)
    (local $p i32)
    (local.set $p (global.get $heap))
    (global.set $heap (i32.add (local.get $p) (local.get $len)))
    (local.get $p))
  (func (export "deallocate") (param i32 i32))
  {init}
  {version_fn}
  (func (export "fail") (param i32 i32) (result i64) (unreachable))
  ;; Loops (input as i32 LE) times, then answers like `version`.
  (func (export "slow") (param $p i32) (param $l i32) (result i64)
    (local $n i32)
    (local.set $n (i32.load (local.get $p)))
    (block $done (loop $again
      (br_if $done (i32.eqz (local.get $n)))
      (local.set $n (i32.sub (local.get $n) (i32.const 1)))
      (br $again)))
    (i64.or (i64.shl (i64.const 256) (i64.const 32)) (i64.const {len})))
  (func (export "echo") (param i32 i32) (result i64)
    (i64.or (i64.shl (i64.extend_i32_u (local.get 0)) (i64.const 32)) (i64.extend_i32_u (local.get 1))))
  (data (i32.const 256) "{v}")
  (data (i32.const 512) "init failed")
  (@custom "wasmplug.abi" "\{abi:02x}\00\00\00")
  (@custom "wasmplug.meta" "{{\"name\":\"{name}\",\"version\":\"{v}\"}}")
  (@custom "wasmplug.functions" "{listed}")
  (@custom "padding" "{pad}")
)"#,
            pad = "x".repeat(self.pad),
            abi = self.abi,
            len = v.len(),
            name = self.name,
        )
    }

    /// The binary module.
    pub fn wasm(&self) -> Vec<u8> {
        wat::parse_str(self.wat()).unwrap()
    }

    pub fn manifest(&self) -> String {
        format!(
            "name = \"{}\"\nversion = \"{}\"\nwasm = \"plugin.wasm\"\n{}",
            self.name, self.version, self.manifest_extra
        )
    }

    /// Writes the plugin into `<dir>/<name>/` (module first, then the manifest, each via a
    /// temporary file and a rename) and returns the manifest path.
    pub fn write(&self, dir: &Path) -> PathBuf {
        self.write_bytes(dir, &self.wasm())
    }

    /// Writes the plugin side by side with its other versions, into
    /// `<dir>/<name>/<version>/`, and returns the manifest path.
    pub fn write_version(&self, dir: &Path) -> PathBuf {
        let folder = dir.join(self.name).join(&self.version);
        std::fs::create_dir_all(&folder).unwrap();
        atomic_write(&folder.join("plugin.wasm"), &self.wasm());
        let manifest = folder.join("plugin.toml");
        atomic_write(&manifest, self.manifest().as_bytes());
        manifest
    }

    /// Like [`Spec::write`] with arbitrary module bytes.
    pub fn write_bytes(&self, dir: &Path, wasm: &[u8]) -> PathBuf {
        let folder = dir.join(self.name);
        std::fs::create_dir_all(&folder).unwrap();
        atomic_write(&folder.join("plugin.wasm"), wasm);
        let manifest = folder.join("plugin.toml");
        atomic_write(&manifest, self.manifest().as_bytes());
        manifest
    }
}

fn atomic_write(path: &Path, bytes: &[u8]) {
    let tmp = path.with_extension("tmp-write");
    std::fs::write(&tmp, bytes).unwrap();
    std::fs::rename(&tmp, path).unwrap();
}
