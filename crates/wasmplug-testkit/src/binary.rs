//! Finding the server binaries: an environment override, else `PATH` (plus `/usr/sbin`).

use std::path::{Path, PathBuf};

/// Environment variable naming the `redis-server` binary to use.
pub const REDIS_SERVER_ENV: &str = "WASMPLUG_REDIS_SERVER";
/// Environment variable naming the `docker-registry` binary to use.
pub const DOCKER_REGISTRY_ENV: &str = "WASMPLUG_DOCKER_REGISTRY";

/// The path of `name`, or a panic that says how to install it.
pub(crate) fn find(name: &str, env: &str) -> PathBuf {
    if let Some(path) = std::env::var_os(env).filter(|p| !p.is_empty()) {
        return PathBuf::from(path);
    }
    let path = std::env::var_os("PATH").unwrap_or_default();
    std::env::split_paths(&path)
        .chain([PathBuf::from("/usr/sbin"), PathBuf::from("/usr/bin")])
        .map(|dir| dir.join(name))
        .find(|candidate| is_executable(candidate))
        .unwrap_or_else(|| {
            panic!(
                "`{name}` not found on PATH: run `scripts/servers.sh install` (installs the \
                 Debian packages redis-server and docker-registry), or set ${env} to the binary"
            )
        })
}

fn is_executable(path: &Path) -> bool {
    use std::os::unix::fs::PermissionsExt;
    path.metadata()
        .is_ok_and(|m| m.is_file() && m.permissions().mode() & 0o111 != 0)
}
