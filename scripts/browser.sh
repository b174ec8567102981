#!/usr/bin/env bash
# Installs the real browser that the console tests drive (issue 17): Debian's `chromium`
# and `chromium-driver` (/usr/bin/chromium, /usr/bin/chromedriver), and the DejaVu fonts
# the console's screenshots are rendered with. Idempotent: when both commands answer
# `--version` and the fonts are there it does nothing (no network). Needs root (apt-get); runs
# `apt-get update` once, only when something is missing. Prints the versions.
set -euo pipefail

have() { command -v chromium >/dev/null && command -v chromedriver >/dev/null \
    && chromium --version >/dev/null 2>&1 && chromedriver --version >/dev/null 2>&1 \
    && dpkg -s fonts-dejavu-core >/dev/null 2>&1; }

if ! have; then
    SUDO=""
    [ "$(id -u)" -eq 0 ] || SUDO="sudo"
    export DEBIAN_FRONTEND=noninteractive
    $SUDO apt-get update -qq
    $SUDO apt-get install -y -qq --no-install-recommends chromium chromium-driver fonts-dejavu-core >/dev/null
fi
have || { echo "chromium / chromedriver still missing after apt-get install" >&2; exit 1; }
chromium --version 2>/dev/null
chromedriver --version
