//! Three `wasmplug serve` replicas sharing one redis-server (`[kv]` and `[sync]`) behind a
//! real haproxy, all on loopback ports opened by the test (issue 16, items 3 and 4):
//! a replica started later converges; a kv counter incremented through the balancer is
//! exact; an upload to one replica serves from all three within 2 s with 0 failed requests
//! under load; weights and version removals made on any replica reach the others; `kill -9`
//! of a replica loses no acknowledged kv write while the others keep answering; a Redis
//! restart under load is survived without restarting the gateways. Every load loop is
//! bounded in count and time.

use std::net::SocketAddr;
use std::path::Path;
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::thread::JoinHandle;
use std::time::{Duration, Instant};

use base64::Engine as _;
use wasmplug::host_fn::KvQuota;
use wasmplug::{KvStore, RedisOptions};
use wasmplug_testkit::{Gateway, Haproxy, OciRegistry, RedisServer, Response, http};

mod common;
use common::built;

const TOKEN: &str = "replicas-test-token";
/// How fast a change must reach every replica.
const PROPAGATION: Duration = Duration::from_secs(2);

fn admin(addr: SocketAddr, method: &str, path: &str, body: &str) -> Response {
    let auth = format!("Bearer {TOKEN}");
    http(
        addr,
        method,
        path,
        &[
            ("Authorization", &auth),
            ("Content-Type", "application/json"),
        ],
        body.as_bytes(),
    )
    .unwrap_or_else(|| panic!("{method} {path} on {addr} failed"))
}

/// The version of wat-echo that `addr` serves, if it answers.
fn greet_version(addr: SocketAddr) -> Option<String> {
    let r = http(addr, "POST", "/v1/plugins/wat-echo/greet", &[], b"x")?;
    (r.status == 200).then(|| r.header("x-wasmplug-version").map(str::to_owned))?
}

/// Waits until `check` holds on every address; returns how long that took.
fn until_all(addrs: &[SocketAddr], what: &str, check: impl Fn(SocketAddr) -> bool) -> Duration {
    let start = Instant::now();
    loop {
        if addrs.iter().all(|a| check(*a)) {
            return start.elapsed();
        }
        assert!(
            start.elapsed() < Duration::from_secs(10),
            "{what}: not reached on every replica within 10 s"
        );
        std::thread::sleep(Duration::from_millis(10));
    }
}

/// Starts replica `i` with `[kv]` and `[sync]` on `redis`; `seed` plugins are copied into
/// its own plugin directory first (the others start with an empty one).
fn replica(i: usize, work: &Path, redis: &str, seed: &[&Path]) -> Gateway {
    replica_with(i, work, redis, seed, "")
}

/// [`replica`], with more `wasmplug.toml` text.
fn replica_with(i: usize, work: &Path, redis: &str, seed: &[&Path], extra: &str) -> Gateway {
    let dir = work.join(format!("r{i}"));
    let plugins = dir.join("plugins");
    std::fs::create_dir_all(&plugins).unwrap();
    for folder in seed {
        let target = plugins.join(folder.file_name().unwrap());
        std::fs::create_dir_all(&target).unwrap();
        for file in std::fs::read_dir(folder).unwrap() {
            let file = file.unwrap().path();
            if !file.is_file() {
                continue;
            }
            std::fs::copy(&file, target.join(file.file_name().unwrap())).unwrap();
        }
    }
    let config = dir.join("wasmplug.toml");
    std::fs::write(
        &config,
        format!(
            "plugin_dir = \"plugins\"\ncache_dir = \"{cache}\"\n\
             [kv]\nbackend = \"redis\"\nurl = \"{redis}\"\n\
             [sync]\nredis = \"{redis}\"\nid = \"r{i}\"\ncheck_interval = \"500ms\"\n{extra}",
            cache = work.join("cache").display()
        ),
    )
    .unwrap();
    Gateway::start(
        Path::new(env!("CARGO_BIN_EXE_wasmplug")),
        &[
            "--config",
            config.to_str().unwrap(),
            "--data-dir",
            dir.join("data").to_str().unwrap(),
        ],
        &[("WASMPLUG_ADMIN_TOKEN", TOKEN)],
    )
}

/// Counts of a load run.
#[derive(Debug, Default)]
struct Load {
    ok: usize,
    failed: Vec<String>,
    versions: std::collections::BTreeSet<String>,
}

/// Calls wat-echo's greet through `addr` until `stop` (at most 5000 calls or 30 s).
fn greet_load(addr: SocketAddr, stop: Arc<AtomicBool>) -> JoinHandle<Load> {
    std::thread::spawn(move || {
        let mut load = Load::default();
        let start = Instant::now();
        while !stop.load(Ordering::Relaxed)
            && load.ok + load.failed.len() < 5000
            && start.elapsed() < Duration::from_secs(30)
        {
            match http(addr, "POST", "/v1/plugins/wat-echo/greet", &[], b"x") {
                Some(r) if r.status == 200 => {
                    load.ok += 1;
                    load.versions
                        .insert(r.header("x-wasmplug-version").unwrap_or("?").to_owned());
                }
                Some(r) => load.failed.push(format!("{} {}", r.status, r.text())),
                None => load.failed.push("no response".into()),
            }
        }
        load
    })
}

fn kv(addr: SocketAddr, body: &str) -> Option<String> {
    let r = http(
        addr,
        "POST",
        "/v1/plugins/host-probe/kv",
        &[],
        body.as_bytes(),
    )?;
    (r.status == 200).then(|| r.text())
}

#[test]
fn three_replicas_behind_haproxy_agree_through_redis() {
    let root = built();
    let mut redis = RedisServer::start_with(&["--appendonly", "yes", "--appendfsync", "always"]);
    let url = redis.url();
    let work = tempfile::tempdir().unwrap();
    let probe = work.path().join("seed/host-probe");
    std::fs::create_dir_all(&probe).unwrap();
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
    // A text-format echo plugin: its version is in the module, so 1.1.0 is a rewrite.
    let echo_wat = std::fs::read_to_string(root.join("tests/guests/wat/echo.wat")).unwrap();
    let manifest = |version: &str| {
        format!("name = \"wat-echo\"\nversion = \"{version}\"\nwasm = \"echo.wat\"\n")
    };
    let greet = work.path().join("seed/wat-echo");
    std::fs::create_dir_all(&greet).unwrap();
    std::fs::write(greet.join("echo.wat"), &echo_wat).unwrap();
    std::fs::write(greet.join("plugin.toml"), manifest("1.0.0")).unwrap();

    // r0 seeds the shared state; r1 and r2 start later with empty plugin directories and
    // are ready only once they converged (their modules came through Redis).
    let mut replicas = vec![replica(0, work.path(), &url, &[&greet, &probe])];
    for i in 1..3 {
        replicas.push(replica(i, work.path(), &url, &[]));
    }
    let addrs: Vec<SocketAddr> = replicas.iter().map(Gateway::addr).collect();
    for (addr, r) in addrs.iter().zip(&replicas) {
        assert_eq!(
            greet_version(*addr).as_deref(),
            Some("1.0.0"),
            "{addr}:\n{}",
            r.output()
        );
    }
    let lb = Haproxy::start(&addrs);

    // A kv counter incremented through the balancer, one call after the other: exact, and
    // every replica served some of the calls.
    let incr = r#"{"op": "incr", "key": "hits"}"#;
    for n in 1..=30 {
        assert_eq!(kv(lb.addr(), incr), Some(format!("{{\"ok\":{n}}}")));
    }
    for addr in &addrs {
        let r = admin(*addr, "GET", "/v1/admin/plugins/host-probe", "");
        let calls: serde_json::Value = serde_json::from_slice(&r.body).unwrap();
        assert!(
            calls["calls"].as_u64().unwrap() >= 5,
            "{addr}: {}",
            r.text()
        );
    }

    // A new version uploaded to r0 under load: every replica serves it within 2 s, and no
    // request through the balancer fails meanwhile.
    let stop = Arc::new(AtomicBool::new(false));
    let load = greet_load(lb.addr(), stop.clone());
    std::thread::sleep(Duration::from_millis(300));
    let v2 = echo_wat.replace(r#"\"version\":\"1.0.0\""#, r#"\"version\":\"1.1.0\""#);
    assert_ne!(v2, echo_wat);
    let wasm = base64::engine::general_purpose::STANDARD.encode(v2);
    let body = serde_json::json!({"manifest": manifest("1.1.0"), "wasm_base64": wasm}).to_string();
    let start = Instant::now();
    let r = admin(addrs[0], "PUT", "/v1/admin/plugins/wat-echo", &body);
    assert_eq!(r.status, 201, "{}", r.text());
    until_all(&addrs, "upload of 1.1.0", |a| {
        greet_version(a).as_deref() == Some("1.1.0")
    });
    let upload = start.elapsed();
    std::thread::sleep(Duration::from_millis(300));
    stop.store(true, Ordering::Relaxed);
    let load = load.join().unwrap();
    eprintln!(
        "upload reached 3 replicas in {upload:?}; load: {} ok, {} failed",
        load.ok,
        load.failed.len()
    );
    assert!(upload < PROPAGATION, "upload took {upload:?}");
    assert!(load.failed.is_empty(), "{:?}", load.failed);
    assert!(load.versions.contains("1.1.0") && load.ok > 20, "{load:?}");

    // Weights set on r2 and a version removal on r1 reach every replica.
    let start = Instant::now();
    let r = admin(
        addrs[2],
        "PUT",
        "/v1/admin/plugins/wat-echo/weights",
        r#"{"weights": {"1.0.0": 100, "1.1.0": 0}}"#,
    );
    assert_eq!(r.status, 200, "{}", r.text());
    until_all(&addrs, "weights", |a| {
        greet_version(a).as_deref() == Some("1.0.0")
    });
    let weights = start.elapsed();
    let start = Instant::now();
    let r = admin(
        addrs[1],
        "DELETE",
        "/v1/admin/plugins/wat-echo/versions/1.1.0",
        "",
    );
    assert_eq!(r.status, 200, "{}", r.text());
    until_all(&addrs, "version removal", |a| {
        !admin(a, "GET", "/v1/admin/plugins/wat-echo", "")
            .text()
            .contains("\"1.1.0\"")
    });
    let removal = start.elapsed();
    eprintln!("weights reached 3 replicas in {weights:?}, the removal in {removal:?}");
    assert!(weights < PROPAGATION && removal < PROPAGATION);

    // Every replica reports itself, and the version it serves.
    let start = Instant::now();
    let listed = loop {
        let r = admin(addrs[0], "GET", "/v1/admin/replicas", "");
        assert_eq!(r.status, 200, "{}", r.text());
        let v: serde_json::Value = serde_json::from_slice(&r.body).unwrap();
        let all = v["replicas"].as_array().unwrap().clone();
        let agreed = all.len() == 3
            && all.iter().all(|r| {
                r["plugins"]
                    .as_array()
                    .unwrap()
                    .iter()
                    .any(|p| p["name"] == "wat-echo" && p["serving"] == "1.0.0")
            });
        if agreed || start.elapsed() > Duration::from_secs(5) {
            break all;
        }
        std::thread::sleep(Duration::from_millis(100));
    };
    let ids: Vec<&str> = listed.iter().map(|r| r["id"].as_str().unwrap()).collect();
    assert_eq!(ids, ["r0", "r1", "r2"], "{listed:?}");

    // kill -9 of r1 while writes go through the balancer: every acknowledged write is in
    // Redis, and the other replicas keep answering.
    let store = KvStore::redis(&url, RedisOptions::default()).unwrap();
    let ns = store.namespace("host-probe", KvQuota::default());
    let (mut acked, mut failed) = (Vec::new(), 0);
    let mut after_kill = 0;
    for i in 0..150 {
        if i == 40 {
            replicas[1].process().kill();
        }
        let body = format!(r#"{{"op": "set", "key": "w-{i}", "value": "v{i}"}}"#);
        match kv(lb.addr(), &body) {
            Some(text) if text == r#"{"ok":null}"# => {
                acked.push(i);
                if i >= 40 {
                    after_kill += 1;
                }
            }
            _ => failed += 1,
        }
    }
    for i in &acked {
        assert_eq!(
            ns.get(format!("w-{i}").as_bytes()).unwrap(),
            Some(format!("v{i}").into_bytes())
        );
    }
    eprintln!(
        "kill -9: {} writes acknowledged ({after_kill} after the kill), {failed} failed",
        acked.len()
    );
    assert!(
        failed <= 2 && after_kill >= 108,
        "{failed} failed, {after_kill} after the kill"
    );
    let alive = [addrs[0], addrs[2]];

    // Redis restarted under load: plugin calls keep working, kv and sync come back without
    // restarting the gateways.
    let stop = Arc::new(AtomicBool::new(false));
    let load = greet_load(lb.addr(), stop.clone());
    std::thread::sleep(Duration::from_millis(200));
    redis.stop();
    std::thread::sleep(Duration::from_millis(500));
    assert!(kv(lb.addr(), incr).unwrap().contains("err"));
    redis.restart();
    let start = Instant::now();
    until_all(&alive, "kv after the Redis restart", |a| {
        kv(a, r#"{"op": "get", "key": "hits"}"#).as_deref() == Some(r#"{"ok":"30"}"#)
    });
    let kv_back = start.elapsed();
    stop.store(true, Ordering::Relaxed);
    let load = load.join().unwrap();
    assert!(load.failed.is_empty() && load.ok > 20, "{load:?}");
    let start = Instant::now();
    let r = admin(alive[0], "POST", "/v1/admin/plugins/wat-echo/reload", "");
    assert_eq!(r.status, 200, "{}", r.text());
    let r = admin(
        alive[1],
        "PUT",
        "/v1/admin/plugins/host-probe/routing",
        r#"{"rules": [{"name": "b", "header": {"name": "X-B", "equals": "1"}, "to": "=0.1.0"}]}"#,
    );
    assert_eq!(r.status, 200, "{}", r.text());
    until_all(&alive, "rules after the Redis restart", |a| {
        admin(a, "GET", "/v1/admin/plugins/host-probe/routing", "")
            .text()
            .contains("\"name\":\"b\"")
    });
    let rules = start.elapsed();
    eprintln!(
        "after the Redis restart: kv back in {kv_back:?}, rules set on r2 reached r0 in {rules:?}"
    );
    assert!(rules < PROPAGATION);
}

/// `wasmplug push <folder> <reference>`.
fn push(folder: &Path, reference: &str, cache: &Path) {
    let out = std::process::Command::new(env!("CARGO_BIN_EXE_wasmplug"))
        .args(["push", folder.to_str().unwrap(), reference])
        .env("WASMPLUG_CACHE_DIR", cache)
        .output()
        .unwrap();
    assert!(
        out.status.success(),
        "{}{}",
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    );
}

#[test]
fn a_new_tag_in_the_oci_registry_reaches_every_replica_within_2_s() {
    let root = common::root();
    let registry = OciRegistry::start();
    let redis = RedisServer::start();
    let work = tempfile::tempdir().unwrap();
    let cache = work.path().join("push-cache");
    let echo = std::fs::read_to_string(root.join("tests/guests/wat/echo.wat")).unwrap();
    let folder = |version: &str| {
        let dir = work.path().join(format!("echo-{version}"));
        std::fs::create_dir_all(&dir).unwrap();
        let text = echo.replace(
            r#"\"version\":\"1.0.0\""#,
            &format!(r#"\"version\":\"{version}\""#),
        );
        std::fs::write(dir.join("echo.wasm"), wat::parse_str(text).unwrap()).unwrap();
        std::fs::write(
            dir.join("plugin.toml"),
            format!("name = \"wat-echo\"\nversion = \"{version}\"\nwasm = \"echo.wasm\"\n"),
        )
        .unwrap();
        dir
    };
    let host = registry.host();
    push(
        &folder("1.0.0"),
        &format!("oci://{host}/echo:1.0.0"),
        &cache,
    );
    let oci = format!("[[oci]]\nref = \"oci://{host}/echo:1.0.0\"\npoll = \"200ms\"\n");
    let replicas: Vec<Gateway> = (0..3)
        .map(|i| replica_with(i, work.path(), &redis.url(), &[], &oci))
        .collect();
    let addrs: Vec<SocketAddr> = replicas.iter().map(Gateway::addr).collect();
    for (addr, r) in addrs.iter().zip(&replicas) {
        assert_eq!(
            greet_version(*addr).as_deref(),
            Some("1.0.0"),
            "{}",
            r.output()
        );
    }
    let v2 = folder("1.1.0");
    push(&v2, &format!("oci://{host}/echo:1.1.0"), &cache);
    let start = Instant::now();
    until_all(&addrs, "the 1.1.0 tag", |a| {
        greet_version(a).as_deref() == Some("1.1.0")
    });
    let reached = start.elapsed();
    eprintln!("a new tag reached 3 replicas in {reached:?}");
    assert!(reached < PROPAGATION, "{reached:?}");

    // A replica whose trust policy refuses unsigned plugins validates what it learns from
    // the others itself: it serves nothing and says why, in every replica's view.
    let strict = replica_with(
        3,
        work.path(),
        &redis.url(),
        &[],
        "[trust]\nrequire_signatures = true\n",
    );
    assert_eq!(greet_version(strict.addr()), None);
    let start = Instant::now();
    let rejected = loop {
        let r = admin(addrs[0], "GET", "/v1/admin/replicas", "");
        let v: serde_json::Value = serde_json::from_slice(&r.body).unwrap();
        let r3 = v["replicas"]
            .as_array()
            .unwrap()
            .iter()
            .find(|r| r["id"] == "r3")
            .cloned();
        if let Some(r3) = r3.filter(|r| !r["rejected"].as_array().unwrap().is_empty()) {
            break r3;
        }
        assert!(start.elapsed() < Duration::from_secs(5), "{v}");
        std::thread::sleep(Duration::from_millis(50));
    };
    // Both versions were refused here, each with its class and module digest.
    let refused: Vec<&str> = rejected["rejected"]
        .as_array()
        .unwrap()
        .iter()
        .map(|r| {
            assert_eq!(r["plugin"], "wat-echo", "{r}");
            assert_eq!(r["class"], "untrusted", "{r}");
            assert_eq!(r["sha256"].as_str().unwrap().len(), 64, "{r}");
            r["version"].as_str().unwrap()
        })
        .collect();
    assert_eq!(refused, ["1.0.0", "1.1.0"], "{rejected}");
    assert!(
        rejected["plugins"].as_array().unwrap().is_empty(),
        "{rejected}"
    );
}
