//! WASI attacks: files outside (or through) a mount, writes to read-only mounts, the host's
//! environment, sockets and a stdout flood. WASI is deny-by-default; each guest reports the
//! errno it got back as a guest error value (`Error::Guest { code: Some(errno) }`).
//! Each case is paired with a grant under which the same guest succeeds, so a denial cannot
//! come from a broken guest.

use std::collections::BTreeSet;
use std::fs;
use std::path::Path;
use std::sync::Once;

use wasmplug::{ByteSize, CallOutput, EnvGrant, FsMount, Limits, Plugin};

use crate::neighbour::with_neighbour;
use crate::support::{assert_errno, hostile, le, load};

/// WASI errno `badf`: no such file descriptor.
const EBADF: i32 = 8;
/// WASI errno `notsock`.
const ENOTSOCK: i32 = 57;
/// WASI errno `perm`: what wasmtime-wasi (cap-std) answers for a path that leaves its
/// directory, an absolute path, and a write to a read-only mount.
const EPERM: i32 = 63;

const HELLO: &[u8] = b"hello from inside the mount\n";
const SECRET: &[u8] = b"host secret outside the mount\n";

/// Loads `case` with `mount` ("HOST:GUEST:MODE") granted.
fn load_mounted(case: &str, mount: &str) -> Plugin {
    let mount: FsMount = mount.parse().unwrap();
    Plugin::builder()
        .allow_fs(mount)
        .load(hostile(case))
        .unwrap_or_else(|e| panic!("{case} must load: {e}"))
}

/// A temp dir with `mount/hello.txt`, `mount/sub/` and `outside/secret.txt`.
fn sandbox_dirs() -> tempfile::TempDir {
    let dir = tempfile::tempdir().unwrap();
    fs::create_dir_all(dir.path().join("mount/sub")).unwrap();
    fs::create_dir_all(dir.path().join("outside")).unwrap();
    fs::write(dir.path().join("mount/hello.txt"), HELLO).unwrap();
    fs::write(dir.path().join("outside/secret.txt"), SECRET).unwrap();
    dir
}

fn mount_spec(host: &Path, guest: &str, mode: &str) -> String {
    format!("{}:{guest}:{mode}", host.display())
}

/// `[dirfd] ++ path`, the input of `read-passwd`.
fn fd_path(fd: u8, path: &str) -> Vec<u8> {
    let mut input = vec![fd];
    input.extend_from_slice(path.as_bytes());
    input
}

#[test]
fn read_passwd_without_any_grant_fails_on_every_fd() {
    let plugin = load("read-passwd");
    with_neighbour(|| {
        for fd in 0..=10u8 {
            for path in ["/etc/passwd", "etc/passwd", "../etc/passwd"] {
                for _ in 0..2 {
                    let err = plugin.call("run", &fd_path(fd, path)).unwrap_err();
                    let errno = assert_errno(err, "run", "path_open");
                    // 0..=2 are stdio, not directories; no other fd exists.
                    assert_eq!(errno, EBADF, "fd {fd}: {path}");
                }
            }
        }
    });
}

#[test]
fn read_passwd_guest_reads_what_is_granted() {
    let dir = sandbox_dirs();
    let plugin = load_mounted(
        "read-passwd",
        &mount_spec(&dir.path().join("mount"), "/data", "ro"),
    );
    assert_eq!(plugin.call("run", &fd_path(3, "hello.txt")).unwrap(), HELLO);
    // A grant is not a way out either.
    let err = plugin.call("run", &fd_path(3, "/etc/passwd")).unwrap_err();
    assert_eq!(assert_errno(err, "run", "path_open"), EPERM);
}

#[test]
fn dotdot_cannot_leave_a_mount() {
    let dir = sandbox_dirs();
    let plugin = load_mounted(
        "dotdot-escape",
        &mount_spec(&dir.path().join("mount"), "/data", "ro"),
    );
    with_neighbour(|| {
        for path in [
            "../etc/passwd",
            "../../../../etc/passwd",
            "../outside/secret.txt",
            "sub/../../outside/secret.txt",
            "./sub/../../../outside/secret.txt",
            "/etc/passwd",
            "/data/../outside/secret.txt",
        ] {
            for _ in 0..2 {
                let err = plugin.call("run", path.as_bytes()).unwrap_err();
                assert_eq!(assert_errno(err, "run", "path_open"), EPERM, "{path}");
            }
        }
    });
    // Obeyed: `..` that stays inside the mount is fine.
    assert_eq!(plugin.call("run", b"hello.txt").unwrap(), HELLO);
    assert_eq!(plugin.call("run", b"sub/../hello.txt").unwrap(), HELLO);
}

#[cfg(unix)]
#[test]
fn symlinks_cannot_leave_a_mount() {
    use std::os::unix::fs::symlink;

    let dir = sandbox_dirs();
    let mount = dir.path().join("mount");
    symlink("/etc", mount.join("link")).unwrap();
    symlink("/etc/passwd", mount.join("passwd-link")).unwrap();
    symlink("../outside", mount.join("up")).unwrap();
    symlink(
        dir.path().join("outside/secret.txt"),
        mount.join("secret-link"),
    )
    .unwrap();
    symlink("hello.txt", mount.join("inside")).unwrap();
    let plugin = load_mounted("symlink-escape", &mount_spec(&mount, "/data", "ro"));
    with_neighbour(|| {
        for path in ["link/passwd", "passwd-link", "up/secret.txt", "secret-link"] {
            for _ in 0..2 {
                let err = plugin.call("run", path.as_bytes()).unwrap_err();
                assert_eq!(assert_errno(err, "run", "path_open"), EPERM, "{path}");
            }
        }
    });
    // Obeyed: a symlink that stays inside the mount is followed.
    assert_eq!(plugin.call("run", b"inside").unwrap(), HELLO);

    // With a read-write mount the guest plants its own `evil -> /etc` and reads through it.
    let rw = tempfile::tempdir().unwrap();
    let plugin = load_mounted("symlink-escape", &mount_spec(rw.path(), "/data", "rw"));
    with_neighbour(|| {
        for _ in 0..2 {
            match plugin.call("plant", b"").unwrap_err() {
                wasmplug::Error::Guest {
                    message,
                    code: Some(code),
                    ..
                } => {
                    // Either creating the absolute link (what wasmtime-wasi 48 does) or
                    // following it is refused.
                    assert!(
                        message == "path_symlink" || message == "path_open",
                        "{message}"
                    );
                    assert_eq!(code, EPERM);
                }
                other => panic!("expected a guest errno, got {other:?}"),
            }
        }
    });
}

#[test]
fn read_only_mount_cannot_be_written() {
    let dir = tempfile::tempdir().unwrap();
    let existing = dir.path().join("existing.txt");
    fs::write(&existing, "original\n").unwrap();
    let plugin = load_mounted("write-readonly", &mount_spec(dir.path(), "/data", "ro"));
    with_neighbour(|| {
        for _ in 0..2 {
            let err = plugin.call("create", b"new.txt").unwrap_err();
            assert_eq!(assert_errno(err, "create", "path_open"), EPERM);
            let err = plugin.call("overwrite", b"existing.txt").unwrap_err();
            assert_eq!(assert_errno(err, "overwrite", "path_open"), EPERM);
            // Opening for reading is allowed; writing through that descriptor is not.
            let err = plugin.call("write_ro_fd", b"existing.txt").unwrap_err();
            assert_eq!(assert_errno(err, "write_ro_fd", "fd_write"), EBADF);
        }
    });
    assert!(!dir.path().join("new.txt").exists(), "no file was created");
    assert_eq!(
        fs::read_to_string(&existing).unwrap(),
        "original\n",
        "unchanged"
    );
}

#[test]
fn read_write_mount_can_be_written() {
    let line = b"written by a hostile plugin\n";
    let dir = tempfile::tempdir().unwrap();
    let existing = dir.path().join("existing.txt");
    fs::write(&existing, "original\n").unwrap();
    let plugin = load_mounted("write-readonly", &mount_spec(dir.path(), "/data", "rw"));
    assert_eq!(plugin.call("create", b"new.txt").unwrap(), line);
    assert_eq!(fs::read(dir.path().join("new.txt")).unwrap(), line);
    assert_eq!(plugin.call("overwrite", b"existing.txt").unwrap(), line);
    assert_eq!(fs::read(&existing).unwrap(), line);
    // A descriptor opened for reading stays read-only, even on a read-write mount.
    let err = plugin.call("write_ro_fd", b"existing.txt").unwrap_err();
    assert_eq!(assert_errno(err, "write_ro_fd", "fd_write"), EBADF);
    assert_eq!(fs::read(&existing).unwrap(), line);
}

const SECRET_VAR: &str = "WASMPLUG_HOSTILE_SECRET";
const PASS_VAR: &str = "WASMPLUG_HOSTILE_PASS";

fn set_host_env() {
    static SET: Once = Once::new();
    SET.call_once(|| {
        // SAFETY: set once, before any guest of this test reads the environment; no other
        // code of this test binary writes environment variables.
        unsafe {
            std::env::set_var(SECRET_VAR, "s3cret-token-from-the-host");
            std::env::set_var(PASS_VAR, "passed-through");
        }
    });
}

/// The `NAME=value` entries of an environment block returned by `env-read`.
fn entries(block: &[u8]) -> BTreeSet<String> {
    block
        .split(|&b| b == 0)
        .filter(|e| !e.is_empty())
        .map(|e| String::from_utf8(e.to_vec()).unwrap())
        .collect()
}

#[test]
fn environment_is_empty_unless_granted() {
    set_host_env();
    assert!(std::env::var_os("PATH").is_some(), "the host has a PATH");
    let plugin = load("env-read");
    with_neighbour(|| {
        for _ in 0..2 {
            let block = plugin.call("run", b"").unwrap();
            assert_eq!(entries(&block), BTreeSet::new(), "nothing inherited");
        }
    });

    // Obeyed: exactly the granted variables, nothing else.
    let plugin = Plugin::builder()
        .allow_env("GREETING=hello".parse::<EnvGrant>().unwrap())
        .allow_env(PASS_VAR.parse::<EnvGrant>().unwrap())
        .load(hostile("env-read"))
        .unwrap();
    let block = plugin.call("run", b"").unwrap();
    let text = String::from_utf8_lossy(&block);
    assert!(
        !text.contains("s3cret") && !text.contains("PATH="),
        "{text}"
    );
    assert_eq!(
        entries(&block),
        BTreeSet::from([
            "GREETING=hello".to_string(),
            format!("{PASS_VAR}=passed-through")
        ])
    );
}

#[test]
fn every_socket_call_fails() {
    let ops = [(0u8, "sock_accept"), (1, "sock_recv"), (2, "sock_send")];
    let fds = [0u8, 1, 2, 3, 4, 5, 10, 255];
    let plugin = load("socket");
    with_neighbour(|| {
        for (op, name) in ops {
            for fd in fds {
                for _ in 0..2 {
                    let err = plugin.call("run", &[op, fd]).unwrap_err();
                    let errno = assert_errno(err, "run", name);
                    let expected = if fd <= 2 { ENOTSOCK } else { EBADF };
                    assert_eq!(errno, expected, "{name} on fd {fd}");
                }
            }
        }
    });
    // A mounted directory at fd 3 is not a socket either.
    let dir = tempfile::tempdir().unwrap();
    let plugin = load_mounted("socket", &mount_spec(dir.path(), "/data", "rw"));
    for (op, name) in ops {
        let err = plugin.call("run", &[op, 3]).unwrap_err();
        assert_eq!(
            assert_errno(err, "run", name),
            ENOTSOCK,
            "{name} on a directory"
        );
    }
}

const FLOOD: u64 = 100 * 1024 * 1024;

fn assert_capped(out: &CallOutput, stream: &str, cap: u64) {
    let (kept, dropped, other, other_dropped) = match stream {
        "stdout" => (
            &out.stdout,
            out.stdout_dropped,
            &out.stderr,
            out.stderr_dropped,
        ),
        _ => (
            &out.stderr,
            out.stderr_dropped,
            &out.stdout,
            out.stdout_dropped,
        ),
    };
    assert_eq!(out.output, b"done");
    assert_eq!(kept.len() as u64, cap, "{stream} keeps exactly the cap");
    assert!(kept.iter().all(|&b| b == b'A'));
    assert_eq!(
        dropped,
        FLOOD - cap,
        "{stream}: the rest is dropped and counted"
    );
    assert!(
        other.is_empty() && other_dropped == 0,
        "the other stream is untouched"
    );
}

#[test]
fn stdout_and_stderr_floods_are_capped() {
    let cap = 64 * 1024;
    let plugin = Plugin::builder()
        .limits(Limits {
            max_stdio: ByteSize(cap),
            ..Limits::default()
        })
        .load(hostile("stdout-flood"))
        .unwrap();
    with_neighbour(|| {
        for stream in ["stdout", "stderr"] {
            // The cap applies per call: the second flood is captured like the first.
            for _ in 0..2 {
                assert_capped(&plugin.call_captured(stream, b"").unwrap(), stream, cap);
            }
        }
    });
    // Obeyed: output under the cap is kept whole.
    let out = plugin.call_captured("stdout", &le(1000)).unwrap();
    assert_eq!((out.stdout.len(), out.stdout_dropped), (1000, 0));
    // `call` returns the output only.
    assert_eq!(plugin.call("stdout", &le(10)).unwrap(), b"done");

    // The default cap is 1 MiB.
    let plugin = load("stdout-flood");
    let out = with_neighbour(|| plugin.call_captured("stdout", b"").unwrap());
    assert_capped(&out, "stdout", Limits::default().max_stdio.bytes());
}
