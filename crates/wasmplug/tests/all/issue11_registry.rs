//! Regression tests for issue 11 (reliability) in the registry and its watcher: each test
//! is named after the defect it guards and failed before the fix.

use std::time::{Duration, Instant};

use wasmplug::{CallOptions, Error, Registry, RegistryEvent};

use crate::support::{quick_registry as registry, wait_for};
use crate::versioned::Spec;

fn v(s: &str) -> semver::Version {
    semver::Version::parse(s).unwrap()
}

fn serving(registry: &Registry, name: &str) -> String {
    let out = registry
        .call(name, "version", b"", &CallOptions::default())
        .unwrap();
    String::from_utf8(out.output.output).unwrap()
}

fn weights(registry: &Registry, name: &str) -> Vec<(String, u32)> {
    registry
        .plugins()
        .into_iter()
        .find(|p| p.name == name)
        .unwrap()
        .versions
        .into_iter()
        .map(|v| (v.version, v.weight))
        .collect()
}

fn is_rejected(e: &RegistryEvent) -> bool {
    matches!(e, RegistryEvent::Rejected { .. })
}

#[test]
fn issue11_broken_candidate_on_disk_is_rejected_once() {
    let dir = tempfile::tempdir().unwrap();
    let registry = registry();
    registry
        .load(&Spec::new("svc", "1.0.0").write(dir.path()))
        .unwrap();
    let events = registry.subscribe();
    let _watcher = registry.watch(dir.path()).unwrap();
    let broken = Spec::new("svc", "1.1.0");
    let wasm = broken.wasm();
    broken.write_bytes(dir.path(), &wasm[..wasm.len() / 2]);
    assert!(wait_for(&events, Duration::from_secs(10), is_rejected).is_some());
    // The watcher's own reads of the broken files must not trigger it again.
    std::thread::sleep(Duration::from_millis(1500));
    let again: Vec<_> = events.try_iter().filter(is_rejected).collect();
    assert!(again.is_empty(), "re-validated: {again:?}");
    assert_eq!(serving(&registry, "svc"), "1.0.0");
    // A real change is still seen.
    Spec::new("svc", "1.2.0").write(dir.path());
    let deadline = Instant::now() + Duration::from_secs(10);
    while serving(&registry, "svc") != "1.2.0" {
        assert!(Instant::now() < deadline, "1.2.0 never served");
        std::thread::sleep(Duration::from_millis(10));
    }
}

#[test]
fn issue11_unloaded_plugin_stays_unloaded_until_its_files_change() {
    let dir = tempfile::tempdir().unwrap();
    let registry = registry();
    registry
        .load(&Spec::new("svc", "1.0.0").write(dir.path()))
        .unwrap();
    let events = registry.subscribe();
    let _watcher = registry.watch(dir.path()).unwrap();
    registry.unload("svc").unwrap();
    let reloaded = wait_for(&events, Duration::from_millis(1500), |e| {
        matches!(e, RegistryEvent::Loaded { .. })
    });
    assert!(reloaded.is_none(), "unload undone: {reloaded:?}");
    assert!(registry.plugins().is_empty());
    Spec::new("svc", "1.1.0").write(dir.path());
    assert!(
        wait_for(&events, Duration::from_secs(10), |e| matches!(
            e,
            RegistryEvent::Loaded { version, .. } if version == "1.1.0"
        ))
        .is_some(),
        "a new deploy into the folder loads"
    );
}

#[test]
fn issue11_spinning_candidate_does_not_delay_other_plugins() {
    let dir = tempfile::tempdir().unwrap();
    let registry = registry();
    registry
        .load(&Spec::new("slow", "1.0.0").write(dir.path()))
        .unwrap();
    registry
        .load(&Spec::new("fast", "1.0.0").write(dir.path()))
        .unwrap();
    let events = registry.subscribe();
    let _watcher = registry.watch(dir.path()).unwrap();
    let mut spinner = Spec::new("slow", "1.1.0");
    spinner.init_spins = true;
    spinner.manifest_extra = "[limits]\ntimeout = \"4s\"\n".into();
    spinner.write(dir.path());
    std::thread::sleep(Duration::from_millis(300));
    let written = Instant::now();
    Spec::new("fast", "1.1.0").write(dir.path());
    let loaded = wait_for(
        &events,
        Duration::from_secs(10),
        |e| matches!(e, RegistryEvent::Loaded { plugin, .. } if plugin == "fast"),
    );
    assert!(loaded.is_some(), "fast never reloaded");
    let took = written.elapsed();
    let rejected = wait_for(
        &events,
        Duration::from_secs(20),
        |e| matches!(e, RegistryEvent::Rejected { plugin, .. } if plugin == "slow"),
    );
    assert!(
        rejected.is_some(),
        "the spinning init is refused at its deadline"
    );
    // The spinner's init runs for its whole 4 s deadline; the fast plugin must not have
    // waited for it.
    assert!(
        took < Duration::from_secs(3),
        "fast waited {took:?} behind the spinning candidate"
    );
    assert_eq!(serving(&registry, "slow"), "1.0.0");
}

#[test]
fn issue11_redeploying_a_held_version_makes_it_serve() {
    let dir = tempfile::tempdir().unwrap();
    let registry = registry();
    registry
        .load(&Spec::new("svc", "1.0.0").write(dir.path()))
        .unwrap();
    registry
        .load(&Spec::new("svc", "1.1.0").write(dir.path()))
        .unwrap();
    assert_eq!(serving(&registry, "svc"), "1.1.0");
    let events = registry.subscribe();
    let _watcher = registry.watch(dir.path()).unwrap();
    // The identical 1.0.0 files written back: 1.0.0 serves again, and says so.
    Spec::new("svc", "1.0.0").write(dir.path());
    let loaded = wait_for(
        &events,
        Duration::from_secs(10),
        |e| matches!(e, RegistryEvent::Loaded { version, .. } if version == "1.0.0"),
    );
    assert!(loaded.is_some(), "no event for the redeploy");
    assert_eq!(serving(&registry, "svc"), "1.0.0");
    // After a rollback, deploying the identical 1.1.0 again makes it serve.
    assert_eq!(registry.rollback("svc").unwrap(), v("1.1.0"));
    assert_eq!(registry.rollback("svc").unwrap(), v("1.0.0"));
    let manifest = Spec::new("svc", "1.1.0").write(dir.path());
    assert_eq!(registry.load(&manifest).unwrap(), v("1.1.0"));
    assert_eq!(
        weights(&registry, "svc"),
        vec![("1.0.0".into(), 0), ("1.1.0".into(), 100)]
    );
}

#[test]
fn issue11_rollback_from_an_even_split_goes_to_the_previous_version() {
    let dir = tempfile::tempdir().unwrap();
    let registry = registry();
    let one = registry
        .load(&Spec::new("svc", "1.0.0").write(dir.path()))
        .unwrap();
    let err = registry.rollback("svc").unwrap_err();
    assert!(
        matches!(err, Error::NoPreviousVersion { .. }),
        "single version: {err:?}"
    );
    let two = registry
        .load(&Spec::new("svc", "1.1.0").write(dir.path()))
        .unwrap();
    registry
        .set_weights("svc", &[(one.clone(), 50), (two.clone(), 50)])
        .unwrap();
    assert_eq!(registry.plugins()[0].current.as_deref(), Some("1.1.0"));
    assert_eq!(registry.rollback("svc").unwrap(), one);
    assert_eq!(
        weights(&registry, "svc"),
        vec![("1.0.0".into(), 100), ("1.1.0".into(), 0)]
    );
    // A second rollback undoes the first.
    assert_eq!(registry.rollback("svc").unwrap(), two);
    assert_eq!(
        weights(&registry, "svc"),
        vec![("1.0.0".into(), 0), ("1.1.0".into(), 100)]
    );
}

#[test]
fn issue11_escalation_cannot_bypass_the_check_through_unload() {
    let dir = tempfile::tempdir().unwrap();
    let registry = registry();
    registry
        .load(&Spec::new("svc", "1.0.0").write(dir.path()))
        .unwrap();
    registry.unload("svc").unwrap();
    let mut wider = Spec::new("svc", "1.1.0");
    wider.manifest_extra = "[capabilities]\nenv = [\"HOME\"]\n".into();
    let err = registry.load(&wider.write(dir.path())).unwrap_err();
    assert!(matches!(err, Error::CapabilityEscalation { .. }), "{err:?}");
    // The same grants as the last serving version load fine.
    let same = registry
        .load(&Spec::new("svc", "1.2.0").write(dir.path()))
        .unwrap();
    assert_eq!(same, v("1.2.0"));
}

#[cfg(target_os = "linux")]
#[test]
fn issue11_module_that_is_a_device_is_refused_without_reading() {
    let dir = tempfile::tempdir().unwrap();
    let folder = dir.path().join("dev");
    std::fs::create_dir_all(&folder).unwrap();
    let manifest = folder.join("plugin.toml");
    std::fs::write(
        &manifest,
        "name = \"dev\"\nversion = \"1.0.0\"\nwasm = \"/dev/zero\"\n",
    )
    .unwrap();
    let err = registry().load(&manifest).unwrap_err();
    assert!(matches!(err, Error::NotAFile { .. }), "{err:?}");
}

#[test]
fn issue11_oversized_module_is_refused_before_reading() {
    let dir = tempfile::tempdir().unwrap();
    let manifest = Spec::new("big", "1.0.0").write(dir.path());
    // A sparse 2 GiB module: reading it first would take seconds and gigabytes.
    let module = dir.path().join("big/plugin.wasm");
    std::fs::File::options()
        .write(true)
        .open(&module)
        .unwrap()
        .set_len(2 << 30)
        .unwrap();
    let peak_before = peak_rss();
    let err = registry().load(&manifest).unwrap_err();
    assert!(
        matches!(err, Error::ModuleTooLarge { size, .. } if size == 2 << 30),
        "{err:?}"
    );
    let grew = peak_rss().saturating_sub(peak_before);
    assert!(grew < 512 << 20, "peak memory grew by {grew} bytes");
}

/// The process's peak resident memory (`VmHWM`), in bytes; 0 where unknown.
fn peak_rss() -> u64 {
    std::fs::read_to_string("/proc/self/status")
        .unwrap_or_default()
        .lines()
        .find_map(|l| l.strip_prefix("VmHWM:"))
        .and_then(|v| v.trim().trim_end_matches("kB").trim().parse::<u64>().ok())
        .map_or(0, |kb| kb * 1024)
}

/// A function that grows its memory by 40 pages (2.5 MiB) and then traps.
const GROW_THEN_TRAP: &str = r#"(module
  (memory (export "memory") 1)
  (global $bump (mut i32) (i32.const 1024))
  (func (export "allocate") (param $len i32) (result i32)
    (local $p i32)
    (local.set $p (global.get $bump))
    (global.set $bump (i32.add (global.get $bump) (local.get $len)))
    (local.get $p))
  (func (export "deallocate") (param i32 i32))
  (func (export "grow_then_trap") (param i32 i32) (result i64)
    (drop (memory.grow (i32.const 40)))
    unreachable)
  (func (export "ok") (param i32 i32) (result i64) (i64.const 0))
  (@custom "wasmplug.abi" "\01\00\00\00")
  (@custom "wasmplug.functions" "grow_then_trap\nok\n")
  (@custom "wasmplug.meta" "{\"name\":\"grower\",\"version\":\"1.0.0\"}"))"#;

#[test]
fn issue11_failed_call_records_its_memory_high_water() {
    let dir = tempfile::tempdir().unwrap();
    let wasm = wat::parse_str(GROW_THEN_TRAP).unwrap();
    let manifest = Spec::new("grower", "1.0.0").write_bytes(dir.path(), &wasm);
    let registry = registry();
    registry.load(&manifest).unwrap();
    let high_water =
        |registry: &Registry| registry.plugins()[0].versions[0].stats.memory_high_water;
    registry
        .call("grower", "ok", b"", &CallOptions::default())
        .unwrap();
    let after_ok = high_water(&registry);
    assert!(
        after_ok < 2 * 65_536,
        "one page and a table, got {after_ok}"
    );
    let err = registry
        .call("grower", "grow_then_trap", b"", &CallOptions::default())
        .unwrap_err();
    assert!(matches!(err, Error::Trap { .. }), "{err:?}");
    let after_trap = high_water(&registry);
    assert!(
        after_trap >= 41 * 65_536,
        "the failed call grew memory to 41 pages; high water {after_trap}"
    );
}
