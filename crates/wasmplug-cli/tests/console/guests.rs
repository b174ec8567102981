//! Plugins written for the console tests, as WAT text (uploads accept `.wat`).

use std::path::{Path, PathBuf};

/// A module of plugin `name` `version` whose function `function` answers `output`, or, with
/// `error`, fails with that guest error message; `init_error` makes `init` fail with it.
pub struct Guest<'a> {
    pub name: &'a str,
    pub version: &'a str,
    pub description: &'a str,
    pub function: &'a str,
    pub output: &'a str,
    pub error: Option<&'a str>,
    pub init_error: Option<&'a str>,
}

impl Guest<'_> {
    /// The WAT text. Strings must not hold `"` or `\` (they are embedded verbatim).
    pub fn wat(&self) -> String {
        for text in [self.description, self.output]
            .into_iter()
            .chain(self.error)
            .chain(self.init_error)
        {
            assert!(
                !text.contains(['"', '\\']),
                "keep test strings simple: {text}"
            );
        }
        let body = match self.error {
            Some(e) => format!(
                "(call $set_error (i32.const 1024) (i32.const {}) (i32.const 0)) (i64.const 0)",
                e.len()
            ),
            None => format!(
                "(i64.or (i64.shl (i64.const 16) (i64.const 32)) (i64.const {}))",
                self.output.len()
            ),
        };
        let init = self.init_error.map_or(String::new(), |e| {
            format!(
                r#"(func (export "init") (param i32 i32) (result i64)
    (call $set_error (i32.const 3072) (i32.const {}) (i32.const 0)) (i64.const 0))
  (data (i32.const 3072) "{e}")"#,
                e.len()
            )
        });
        format!(
            r#"(module
  (import "wasmplug" "set_error" (func $set_error (param i32 i32 i32)))
  (memory (export "memory") 1)
  (global $heap (mut i32) (i32.const 8192))
  (func (export "allocate") (param $len i32) (result i32) (local $p i32)
    (local.set $p (global.get $heap))
    (global.set $heap (i32.add (local.get $p) (local.get $len)))
    (local.get $p))
  (func (export "deallocate") (param i32 i32))
  (func (export "{function}") (param i32 i32) (result i64) {body})
  {init}
  (data (i32.const 16) "{output}")
  (data (i32.const 1024) "{error}")
  (@custom "wasmplug.abi" "\01\00\00\00")
  (@custom "wasmplug.meta" "{{\"name\":\"{name}\",\"version\":\"{version}\",\"description\":\"{description}\"}}")
  (@custom "wasmplug.functions" "{function}\n"))"#,
            function = self.function,
            output = self.output,
            error = self.error.unwrap_or_default(),
            name = self.name,
            version = self.version,
            description = self.description,
        )
    }

    /// The manifest of this guest, its module being `module`.
    pub fn manifest(&self, module: &str) -> String {
        format!(
            "name = \"{}\"\nversion = \"{}\"\ndescription = \"{}\"\nwasm = \"{module}\"\n",
            self.name, self.version, self.description
        )
    }

    /// Writes `plugin.toml` and `<name>.wat` into `dir`; returns both paths.
    pub fn write(&self, dir: &Path) -> (PathBuf, PathBuf) {
        std::fs::create_dir_all(dir).unwrap();
        let module = format!("{}.wat", self.name);
        let (manifest, wat) = (dir.join("plugin.toml"), dir.join(&module));
        std::fs::write(&wat, self.wat()).unwrap();
        std::fs::write(&manifest, self.manifest(&module)).unwrap();
        (manifest, wat)
    }
}
