//! The compiled-module cache: hits skip compilation; corrupt or foreign entries are
//! detected and recompiled.

use wasmplug::{CacheOutcome, Engine, EngineConfig, Plugin};

use crate::support::wat;

fn engine(dir: &std::path::Path, fuel: bool) -> Engine {
    Engine::new(EngineConfig {
        cache_dir: Some(dir.to_path_buf()),
        fuel,
        ..EngineConfig::default()
    })
    .unwrap()
}

/// The compiled modules (`.cwasm`) in `dir`; each has its checksum file (`.sum`) next to it.
fn entries(dir: &std::path::Path) -> Vec<std::path::PathBuf> {
    let mut v: Vec<_> = std::fs::read_dir(dir)
        .unwrap()
        .map(|e| e.unwrap().path())
        .filter(|p| p.extension().is_some_and(|e| e == "cwasm"))
        .collect();
    for entry in &v {
        assert!(
            entry.with_extension("sum").is_file(),
            "{entry:?} has its checksum"
        );
    }
    v.sort();
    v
}

#[test]
fn second_compile_is_a_cache_hit() {
    let dir = tempfile::tempdir().unwrap();
    let engine = engine(dir.path(), false);
    let first = Plugin::builder()
        .engine(&engine)
        .compile(wat("echo"))
        .unwrap();
    assert_eq!(first.cache_outcome(), CacheOutcome::Miss);
    assert_eq!(entries(dir.path()).len(), 1);
    let second = Plugin::builder().engine(&engine).load(wat("echo")).unwrap();
    assert_eq!(second.compiled().cache_outcome(), CacheOutcome::Hit);
    assert_eq!(second.call("echo", b"cached").unwrap(), b"cached");
    let uncached = Plugin::load(wat("echo")).unwrap();
    assert_eq!(uncached.compiled().cache_outcome(), CacheOutcome::Disabled);
}

#[test]
fn corrupt_entries_are_recompiled_and_rewritten() {
    let dir = tempfile::tempdir().unwrap();
    let engine = engine(dir.path(), false);
    Plugin::builder()
        .engine(&engine)
        .compile(wat("echo"))
        .unwrap();
    let entry = entries(dir.path()).remove(0);
    let good = std::fs::read(&entry).unwrap();
    let mut corrupt = good.clone();
    let mid = corrupt.len() / 2;
    corrupt[mid] ^= 0xff;
    for bad in [
        corrupt,
        good[..good.len() / 2].to_vec(),
        b"not a cache entry".to_vec(),
        Vec::new(),
    ] {
        std::fs::write(&entry, &bad).unwrap();
        let plugin = Plugin::builder().engine(&engine).load(wat("echo")).unwrap();
        assert_eq!(plugin.compiled().cache_outcome(), CacheOutcome::Miss);
        assert_eq!(plugin.call("echo", b"still right").unwrap(), b"still right");
        assert_eq!(std::fs::read(&entry).unwrap(), good, "entry rewritten");
    }
    // A damaged checksum file is a miss too.
    let sum = entry.with_extension("sum");
    let mut header = std::fs::read(&sum).unwrap();
    *header.last_mut().unwrap() ^= 1;
    std::fs::write(&sum, &header).unwrap();
    let plugin = Plugin::builder().engine(&engine).load(wat("echo")).unwrap();
    assert_eq!(plugin.compiled().cache_outcome(), CacheOutcome::Miss);
    assert_ne!(std::fs::read(&sum).unwrap(), header, "checksum rewritten");
}

#[test]
fn entries_of_other_engine_settings_are_not_used() {
    let dir = tempfile::tempdir().unwrap();
    Plugin::builder()
        .engine(&engine(dir.path(), false))
        .compile(wat("echo"))
        .unwrap();
    let metered = Plugin::builder()
        .engine(&engine(dir.path(), true))
        .compile(wat("echo"))
        .unwrap();
    assert_eq!(
        metered.cache_outcome(),
        CacheOutcome::Miss,
        "fuel changes the machine code"
    );
    assert_eq!(entries(dir.path()).len(), 2);
}

#[test]
fn foreign_entry_with_a_valid_checksum_is_refused_by_wasmtime() {
    let (plain_dir, metered_dir) = (tempfile::tempdir().unwrap(), tempfile::tempdir().unwrap());
    let plain = engine(plain_dir.path(), false);
    Plugin::builder()
        .engine(&plain)
        .compile(wat("echo"))
        .unwrap();
    Plugin::builder()
        .engine(&engine(metered_dir.path(), true))
        .compile(wat("echo"))
        .unwrap();
    // Plant the fuel-metered engine's (intact) entry under the plain engine's key.
    let target = entries(plain_dir.path()).remove(0);
    let planted = entries(metered_dir.path()).remove(0);
    std::fs::copy(&planted, &target).unwrap();
    std::fs::copy(planted.with_extension("sum"), target.with_extension("sum")).unwrap();
    let plugin = Plugin::builder().engine(&plain).load(wat("echo")).unwrap();
    assert_eq!(plugin.compiled().cache_outcome(), CacheOutcome::Miss);
    assert_eq!(plugin.call("echo", b"ok").unwrap(), b"ok");
}

#[test]
fn components_are_cached_and_corrupt_component_entries_recompiled() {
    let dir = tempfile::tempdir().unwrap();
    let engine = engine(dir.path(), false);
    let probe = wat("component-probe");
    let first = Plugin::builder().engine(&engine).compile(&probe).unwrap();
    assert!(first.is_component());
    assert_eq!(first.cache_outcome(), CacheOutcome::Miss);
    let entry = entries(dir.path()).remove(0);
    let second = Plugin::builder().engine(&engine).load(&probe).unwrap();
    assert_eq!(second.compiled().cache_outcome(), CacheOutcome::Hit);
    assert_eq!(second.call("echo", b"cached").unwrap(), b"cached");
    // A flipped byte in the compiled component: detected, recompiled, rewritten.
    let good = std::fs::read(&entry).unwrap();
    let mut corrupt = good.clone();
    let mid = corrupt.len() / 2;
    corrupt[mid] ^= 0xff;
    std::fs::write(&entry, &corrupt).unwrap();
    let third = Plugin::builder().engine(&engine).load(&probe).unwrap();
    assert_eq!(third.compiled().cache_outcome(), CacheOutcome::Miss);
    assert_eq!(third.call("echo", b"still right").unwrap(), b"still right");
    assert_eq!(std::fs::read(&entry).unwrap(), good, "entry rewritten");
}
