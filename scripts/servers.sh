#!/usr/bin/env bash
# The external servers the tests run against, from Debian's packages:
#
#   redis-server      the Redis kv backend's conformance and outage tests
#   docker-registry   the CNCF distribution registry, for `wasmplug push` / `pull` and
#                     gateways configured with `[[oci]]` references
#   haproxy           the load balancer in front of 3 replicas (crates/wasmplug-cli/tests/replicas.rs)
#
# Usage: scripts/servers.sh install   installs the missing packages (idempotent: does
#                                     nothing when both binaries are present)
#        scripts/servers.sh check     exits non-zero, naming what is missing
#
# Nothing is started here and no system service is enabled: the tests start each server
# themselves on a free 127.0.0.1 port with a temporary directory and stop it at the end
# (crates/wasmplug-testkit). Installing needs root (or sudo) and apt.
set -euo pipefail

PACKAGES=(redis-server docker-registry haproxy)
BINARIES=(redis-server docker-registry haproxy)

missing() {
    local i
    for i in "${!BINARIES[@]}"; do
        if ! command -v "${BINARIES[$i]}" >/dev/null && [[ ! -x "/usr/sbin/${BINARIES[$i]}" ]]; then
            echo "${PACKAGES[$i]}"
        fi
    done
}

install() {
    local need
    mapfile -t need < <(missing)
    if [[ ${#need[@]} -eq 0 ]]; then
        echo "servers: ${BINARIES[*]} already installed"
        return
    fi
    local sudo=()
    if [[ $(id -u) -ne 0 ]]; then
        command -v sudo >/dev/null || { echo "servers: need root or sudo to install ${need[*]}" >&2; exit 1; }
        sudo=(sudo)
    fi
    echo "servers: installing ${need[*]} (Debian packages)"
    # Refresh the package lists only when the install cannot find the packages.
    # policy-rc.d (or the absence of an init system) keeps apt from starting the services.
    if ! DEBIAN_FRONTEND=noninteractive "${sudo[@]}" apt-get install -y -qq --no-install-recommends "${need[@]}" >/dev/null; then
        "${sudo[@]}" apt-get update -qq
        DEBIAN_FRONTEND=noninteractive "${sudo[@]}" apt-get install -y -qq --no-install-recommends "${need[@]}" >/dev/null
    fi
    # Debian enables the services it installs; the tests never use them.
    for service in "${need[@]}"; do
        "${sudo[@]}" systemctl disable --now "$service" >/dev/null 2>&1 || true
    done
    local still
    still="$(missing)"
    if [[ -n "$still" ]]; then
        echo "servers: still missing after install: $still" >&2
        exit 1
    fi
}

case "${1:-}" in
    install) install ;;
    check)
        still="$(missing)"
        if [[ -n "$still" ]]; then
            echo "servers: missing: $still (run scripts/servers.sh install)" >&2
            exit 1
        fi
        ;;
    *)
        echo "usage: $0 install|check" >&2
        exit 2
        ;;
esac
