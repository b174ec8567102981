#!/usr/bin/env bash
# Refreshes the uPlot charting library vendored into the console
# (crates/wasmplug-gateway/console/vendor/uplot/): `npm pack` of the pinned version from
# the npm registry, its integrity checked against the pin, then the ES module, the CSS and
# the license copied in. Not part of the build or of CI: the files are committed.
# Usage: scripts/vendor-uplot.sh [VERSION INTEGRITY]   (default: the pin below)
set -euo pipefail
ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
VERSION="${1:-1.6.32}"
INTEGRITY="${2:-sha512-KIMVnG68zvu5XXUbC4LQEPnhwOxBuLyW1AHtpm6IKTXImkbLgkMy+jabjLgSLMasNuGGzQm/ep3tOkyTxpiQIw==}"
DEST="$ROOT/crates/wasmplug-gateway/console/vendor/uplot"
WORK="$(mktemp -d)"
trap 'rm -rf "$WORK"' EXIT
cd "$WORK"
npm pack --silent "uplot@$VERSION" >/dev/null
TARBALL="uplot-$VERSION.tgz"
ACTUAL="sha512-$(openssl dgst -sha512 -binary "$TARBALL" | base64 -w0)"
[ "$ACTUAL" = "$INTEGRITY" ] || { echo "integrity mismatch: $ACTUAL" >&2; exit 1; }
tar xzf "$TARBALL"
mkdir -p "$DEST"
cp package/dist/uPlot.esm.js package/dist/uPlot.min.css package/LICENSE "$DEST/"
echo "uPlot $VERSION vendored into $DEST"
