//! `wasmplug push` / `pull` against a real `docker-registry`, and a `wasmplug serve`
//! configured with `[[oci]]` references (by tag and by digest) and the Redis kv backend,
//! all on loopback ports opened by the test.

use std::path::Path;
use std::process::{Command, Output};

use wasmplug::host_fn::KvQuota;
use wasmplug::{KvStore, RedisOptions};
use wasmplug_testkit::{Gateway, OciRegistry, RedisServer};

mod common;
use common::built;

fn wasmplug(args: &[&str], cache: &Path) -> Output {
    Command::new(env!("CARGO_BIN_EXE_wasmplug"))
        .args(args)
        .env("WASMPLUG_CACHE_DIR", cache)
        .output()
        .unwrap()
}

fn stdout(out: &Output) -> String {
    String::from_utf8_lossy(&out.stdout).into_owned()
}

fn stderr(out: &Output) -> String {
    String::from_utf8_lossy(&out.stderr).into_owned()
}

/// Pushes `plugin` to `reference`; returns its pinned reference.
fn push(plugin: &Path, reference: &str, cache: &Path) -> String {
    let out = wasmplug(&["push", plugin.to_str().unwrap(), reference], cache);
    assert!(out.status.success(), "{}{}", stdout(&out), stderr(&out));
    let text = stdout(&out);
    text.lines()
        .find_map(|l| l.strip_prefix("pinned: "))
        .unwrap_or_else(|| panic!("no pinned reference in {text}"))
        .to_owned()
}

#[test]
fn pushed_plugins_are_pulled_and_served_by_reference_with_kv_in_redis() {
    let root = built();
    let registry = OciRegistry::start();
    let redis = RedisServer::start();
    let work = tempfile::tempdir().unwrap();
    let cache = work.path().join("cache");
    let host = registry.host();

    let greet = root.join("examples/plugins/greet");
    let out = wasmplug(
        &[
            "push",
            greet.to_str().unwrap(),
            &format!("oci://{host}/greet:1.0.0"),
        ],
        &cache,
    );
    assert!(out.status.success(), "{}", stderr(&out));
    assert!(
        stdout(&out).starts_with(&format!("pushed greet 1.0.0 to oci://{host}/greet:1.0.0")),
        "{}",
        stdout(&out)
    );
    // The kv probe has no plugin.toml of its own: give it one.
    let probe = work.path().join("probe");
    std::fs::create_dir(&probe).unwrap();
    std::fs::copy(
        root.join("target/guests/wasm/host-probe.wasm"),
        probe.join("host-probe.wasm"),
    )
    .unwrap();
    std::fs::write(
        probe.join("plugin.toml"),
        "name = \"host-probe\"\nversion = \"0.1.0\"\nwasm = \"host-probe.wasm\"\n",
    )
    .unwrap();
    let probe_pinned = push(&probe, &format!("oci://{host}/probe:0.1.0"), &cache);

    // `pull` by digest unpacks a plugin folder that `run` can use.
    let plugins = work.path().join("pulled");
    let out = wasmplug(
        &["pull", &probe_pinned, "--dir", plugins.to_str().unwrap()],
        &cache,
    );
    assert!(out.status.success(), "{}", stderr(&out));
    assert!(
        stdout(&out).contains("pulled host-probe 0.1.0 (sha256:"),
        "{}",
        stdout(&out)
    );
    assert!(plugins.join("host-probe/host-probe.wasm").is_file());

    // A gateway with no plugin directory: greet by tag, the probe pinned by digest.
    let config = work.path().join("wasmplug.toml");
    std::fs::write(
        &config,
        format!(
            "plugin_dir = \"no-such-dir\"\ncache_dir = \"cache\"\n[kv]\nbackend = \"redis\"\nurl = \"{}\"\n\
             [[oci]]\nref = \"oci://{host}/greet:1.0.0\"\n[[oci]]\nref = \"{probe_pinned}\"\n",
            redis.url()
        ),
    )
    .unwrap();
    let config = config.to_str().unwrap();
    let gateway = Gateway::start(
        Path::new(env!("CARGO_BIN_EXE_wasmplug")),
        &["--config", config],
        &[],
    );
    let output = gateway.output();
    assert!(
        output.contains(&format!(
            "greet 1.0.0 from oci://{host}/greet:1.0.0 (sha256:"
        )),
        "{output}"
    );
    assert!(output.contains("kv: redis at 127.0.0.1:"), "{output}");
    let r = gateway.call("POST", "/v1/plugins/greet/greet", &[], b"registry");
    assert_eq!((r.status, r.text().as_str()), (200, "Hello, registry!"));
    let incr = br#"{"op": "incr", "key": "hits"}"#;
    for expected in ["{\"ok\":1}", "{\"ok\":2}"] {
        let r = gateway.call("POST", "/v1/plugins/host-probe/kv", &[], incr);
        assert_eq!((r.status, r.text().as_str()), (200, expected));
    }
    // The counter is in Redis, in the plugin's namespace.
    let store = KvStore::redis(&redis.url(), RedisOptions::default()).unwrap();
    let hits = store
        .namespace("host-probe", KvQuota::default())
        .get(b"hits")
        .unwrap();
    assert_eq!(hits.as_deref(), Some(&b"2"[..]));
    drop(gateway);

    // A second gateway start finds both plugins in the cache.
    let gateway = Gateway::start(
        Path::new(env!("CARGO_BIN_EXE_wasmplug")),
        &["--config", config],
        &[],
    );
    assert_eq!(
        gateway.output().matches(", cached)").count(),
        2,
        "{}",
        gateway.output()
    );
}

#[test]
fn bad_references_and_missing_plugins_fail_with_their_exit_codes() {
    let root = built();
    let registry = OciRegistry::start();
    let cache = tempfile::tempdir().unwrap();
    let host = registry.host();
    let greet = root.join("examples/plugins/greet");
    let greet = greet.to_str().unwrap();

    let out = wasmplug(
        &["push", greet, &format!("oci://{host}/greet")],
        cache.path(),
    );
    assert_eq!(out.status.code(), Some(2), "{}", stderr(&out));
    assert!(stderr(&out).contains("neither a tag"), "{}", stderr(&out));
    let out = wasmplug(&["pull", "greet:1.0.0"], cache.path());
    assert_eq!(out.status.code(), Some(2));
    assert!(
        stderr(&out).contains("must start with `oci://`"),
        "{}",
        stderr(&out)
    );

    let out = wasmplug(
        &["pull", &format!("oci://{host}/greet:1.0.0")],
        cache.path(),
    );
    assert_eq!(out.status.code(), Some(1), "{}", stderr(&out));
    assert!(
        stderr(&out).contains("is not in the registry"),
        "{}",
        stderr(&out)
    );

    let broken = cache.path().join("broken");
    std::fs::create_dir(&broken).unwrap();
    std::fs::write(
        broken.join("plugin.toml"),
        "name = \"broken\"\nversion = \"1.0.0\"\nwasm = \"b.wasm\"\n",
    )
    .unwrap();
    std::fs::write(broken.join("b.wasm"), b"\0asm garbage").unwrap();
    let out = wasmplug(
        &[
            "push",
            broken.to_str().unwrap(),
            &format!("oci://{host}/broken:1"),
        ],
        cache.path(),
    );
    assert_eq!(out.status.code(), Some(3), "{}", stderr(&out));
    assert!(stderr(&out).contains("cannot push"), "{}", stderr(&out));

    // An altered module in the registry: refused, exit code 3.
    push(
        Path::new(greet),
        &format!("oci://{host}/greet:1.0.0"),
        cache.path(),
    );
    let blobs = registry
        .storage_dir()
        .join("docker/registry/v2/blobs/sha256");
    let wasm = std::fs::read(root.join("examples/plugins/greet/greet.wasm")).unwrap();
    let blob = walk(&blobs)
        .into_iter()
        .find(|p| std::fs::read(p).is_ok_and(|b| b == wasm))
        .expect("the module blob in the registry's storage");
    let mut altered = wasm.clone();
    altered[100] ^= 1;
    std::fs::write(&blob, altered).unwrap();
    let fresh = tempfile::tempdir().unwrap();
    let out = wasmplug(
        &[
            "pull",
            &format!("oci://{host}/greet:1.0.0"),
            "--dir",
            fresh.path().to_str().unwrap(),
        ],
        fresh.path(),
    );
    assert_eq!(out.status.code(), Some(3), "{}", stderr(&out));
    assert!(stderr(&out).contains("digest mismatch"), "{}", stderr(&out));
    assert!(!fresh.path().join("greet").exists());
}

/// Every file below `dir`.
fn walk(dir: &Path) -> Vec<std::path::PathBuf> {
    let mut files = Vec::new();
    for entry in std::fs::read_dir(dir).into_iter().flatten().flatten() {
        let path = entry.path();
        if path.is_dir() {
            files.extend(walk(&path));
        } else {
            files.push(path);
        }
    }
    files
}
