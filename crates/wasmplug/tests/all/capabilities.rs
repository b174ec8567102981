//! Deny-by-default capabilities, granted one by one (obeyed / violated pairs), with a Rust
//! guest using the ordinary std APIs (`std::fs`, `std::env`, `println!`).

use wasmplug::{ByteSize, Capabilities, Error, Limits, Plugin};

use crate::support::probe;

fn guest_error(plugin: &Plugin, function: &str, input: &[u8]) -> String {
    match plugin.call(function, input).unwrap_err() {
        Error::Guest { message, .. } => message,
        other => panic!("{function}: expected a guest error value, got {other:?}"),
    }
}

#[test]
fn nothing_of_the_host_file_system_is_visible_by_default() {
    let plugin = Plugin::load(probe()).unwrap();
    for path in ["/etc/passwd", "etc/passwd", "../etc/passwd", "/"] {
        let message = guest_error(&plugin, "read", path.as_bytes());
        assert!(message.starts_with(path), "{message}");
    }
}

#[test]
fn read_only_mount_can_be_read_but_not_written() {
    let dir = tempfile::tempdir().unwrap();
    std::fs::write(dir.path().join("hello.txt"), "from the host").unwrap();
    let plugin = Plugin::builder()
        .allow_fs(
            format!("{}:/data:ro", dir.path().display())
                .parse()
                .unwrap(),
        )
        .load(probe())
        .unwrap();
    assert_eq!(
        plugin.call("read", b"/data/hello.txt").unwrap(),
        b"from the host"
    );
    let message = guest_error(&plugin, "write", b"/data/new.txt\nx");
    assert!(message.contains("/data/new.txt"), "{message}");
    assert!(
        !dir.path().join("new.txt").exists(),
        "nothing written on the host"
    );
    guest_error(&plugin, "write", b"/data/hello.txt\noverwritten");
    assert_eq!(
        std::fs::read_to_string(dir.path().join("hello.txt")).unwrap(),
        "from the host"
    );
}

#[test]
fn read_write_mount_can_be_written() {
    let dir = tempfile::tempdir().unwrap();
    let plugin = Plugin::builder()
        .allow_fs(format!("{}:/out:rw", dir.path().display()).parse().unwrap())
        .load(probe())
        .unwrap();
    plugin.call("write", b"/out/result.txt\n42").unwrap();
    assert_eq!(
        std::fs::read_to_string(dir.path().join("result.txt")).unwrap(),
        "42"
    );
}

#[test]
fn dotdot_and_symlinks_cannot_leave_a_mount() {
    let dir = tempfile::tempdir().unwrap();
    let mount = dir.path().join("mount");
    std::fs::create_dir(&mount).unwrap();
    std::fs::write(dir.path().join("secret.txt"), "outside").unwrap();
    std::os::unix::fs::symlink("/etc", mount.join("etc-link")).unwrap();
    std::os::unix::fs::symlink(dir.path().join("secret.txt"), mount.join("secret-link")).unwrap();
    let plugin = Plugin::builder()
        .allow_fs(format!("{}:/data:ro", mount.display()).parse().unwrap())
        .load(probe())
        .unwrap();
    for path in [
        "/data/../secret.txt",
        "/data/../../etc/passwd",
        "/data/etc-link/passwd",
        "/data/secret-link",
    ] {
        guest_error(&plugin, "read", path.as_bytes());
    }
}

#[test]
fn mount_of_a_missing_directory_is_a_load_error() {
    let err = Plugin::builder()
        .allow_fs("/definitely/not/here:/data".parse().unwrap())
        .load(probe())
        .unwrap_err();
    assert!(
        matches!(&err, Error::Capability { reason } if reason.contains("/definitely/not/here")),
        "{err:?}"
    );
}

#[test]
fn environment_holds_only_granted_variables() {
    // SAFETY: tests in this binary do not read these variables concurrently with the write.
    unsafe {
        std::env::set_var("WASMPLUG_TEST_SECRET", "hunter2");
        std::env::set_var("WASMPLUG_TEST_SHARED", "from-host");
    }
    let denied = Plugin::load(probe()).unwrap();
    assert_eq!(
        denied.call("env_all", b"").unwrap(),
        b"",
        "no variables at all, not even PATH"
    );
    assert!(guest_error(&denied, "env", b"WASMPLUG_TEST_SECRET").contains("no variable"));
    let granted = Plugin::builder()
        .allow_env("GREETING=hi".parse().unwrap())
        .allow_env("WASMPLUG_TEST_SHARED".parse().unwrap())
        .load(probe())
        .unwrap();
    let all = String::from_utf8(granted.call("env_all", b"").unwrap()).unwrap();
    assert!(
        all.contains("GREETING=hi\n") && all.contains("WASMPLUG_TEST_SHARED=from-host\n"),
        "{all}"
    );
    assert!(!all.contains("hunter2") && !all.contains("PATH="), "{all}");
}

#[test]
fn stdout_and_stderr_are_captured_per_call_and_capped() {
    let plugin = Plugin::load(probe()).unwrap();
    let out = plugin.call_captured("print", b"hello").unwrap();
    assert_eq!(out.output, b"printed");
    assert_eq!(out.stdout, b"hello\n");
    assert_eq!(out.stderr, b"err: hello\n");
    let again = plugin.call_captured("print", b"second").unwrap();
    assert_eq!(
        again.stdout, b"second\n",
        "each call sees only its own output"
    );

    let capped = Plugin::builder()
        .limits(Limits {
            max_stdio: ByteSize(4),
            ..Limits::default()
        })
        .load(probe())
        .unwrap();
    let out = capped.call_captured("print", b"0123456789").unwrap();
    assert_eq!(out.stdout, b"0123");
    assert_eq!(out.stdout_dropped, 7);
    assert_eq!(out.output, b"printed", "the guest is not broken by the cap");
}

#[test]
fn capabilities_replace_or_add_to_the_declared_grants() {
    let dir = tempfile::tempdir().unwrap();
    std::fs::write(dir.path().join("f"), "x").unwrap();
    let mount: wasmplug::FsMount = format!("{}:/d", dir.path().display()).parse().unwrap();
    let granted = Plugin::builder()
        .capabilities(Capabilities {
            fs: vec![mount],
            ..Capabilities::default()
        })
        .load(probe())
        .unwrap();
    assert_eq!(granted.compiled().capabilities().fs.len(), 1);
    assert_eq!(granted.call("read", b"/d/f").unwrap(), b"x");
}
