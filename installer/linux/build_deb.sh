#!/usr/bin/env bash
# Builds dist/connector_<version>_<arch>.deb from the PyInstaller folder dist/connector/.
# Usage (from anywhere): installer/linux/build_deb.sh [BUNDLE_DIR] [OUT_DIR]
# Needs dpkg-deb (Debian package dpkg). `make installer` runs PyInstaller first, then this.
set -euo pipefail

ROOT=$(cd "$(dirname "$0")/../.." && pwd)
BUNDLE=${1:-$ROOT/dist/connector}
OUT=${2:-$ROOT/dist}
HERE=$ROOT/installer/linux

[ -x "$BUNDLE/connector" ] || { echo "no bundle at $BUNDLE: run pyinstaller installer/connector.spec first" >&2; exit 1; }
command -v dpkg-deb >/dev/null || { echo "dpkg-deb is missing (Debian package dpkg)" >&2; exit 1; }

# The version has one home: protocol/version.py.
VERSION=$(sed -n 's/^__version__ = "\(.*\)"$/\1/p' "$ROOT/protocol/version.py")
ARCH=$(dpkg --print-architecture)
[ -n "$VERSION" ] || { echo "could not read the version from protocol/version.py" >&2; exit 1; }

STAGE=$(mktemp -d)
trap 'rm -rf "$STAGE"' EXIT
PKG=$STAGE/connector

install -d "$PKG/DEBIAN" "$PKG/opt" "$PKG/usr/bin" "$PKG/usr/share/applications" \
    "$PKG/usr/share/icons/hicolor/scalable/apps" "$PKG/usr/share/connector" \
    "$PKG/usr/share/doc/connector"
cp -a "$BUNDLE" "$PKG/opt/connector"
ln -s /opt/connector/connector "$PKG/usr/bin/connector"
install -m 0644 "$HERE/connector.desktop" "$PKG/usr/share/applications/connector.desktop"
# Optional start at login: not active until a user copies it (or ticks "Start at login" in the
# tray's settings, which writes the same file): cp /usr/share/connector/connector-autostart.desktop
# ~/.config/autostart/connector.desktop
install -m 0644 "$HERE/connector-autostart.desktop" "$PKG/usr/share/connector/connector-autostart.desktop"
install -m 0644 "$ROOT/resources/icons/idle.svg" "$PKG/usr/share/icons/hicolor/scalable/apps/connector.svg"
# Debian's copyright file is the licence's full text; without LICENSE the build fails (set -e).
install -m 0644 "$ROOT/LICENSE" "$PKG/usr/share/doc/connector/copyright"
install -m 0755 "$HERE/postrm" "$PKG/DEBIAN/postrm"
install -m 0755 "$HERE/postinst" "$PKG/DEBIAN/postinst"

SIZE_KB=$(du -sk "$PKG" | cut -f1)
sed -e "s/@VERSION@/$VERSION/" -e "s/@ARCH@/$ARCH/" -e "s/@SIZE@/$SIZE_KB/" \
    "$HERE/control.in" > "$PKG/DEBIAN/control"

mkdir -p "$OUT"
DEB=$OUT/connector_${VERSION}_${ARCH}.deb
dpkg-deb --root-owner-group -Zxz --build "$PKG" "$DEB" >/dev/null
echo "$DEB"
