#!/usr/bin/env bash
# Wraps the PyInstaller build into Connector.app and dist/Connector-<version>.dmg (macOS only).
# UNTESTED here: .github/workflows/installers.yml runs it on a hosted macOS runner.
# Usage: installer/macos/make_dmg.sh   (after: pyinstaller --noconfirm installer/connector.spec)
set -euo pipefail
ROOT=$(cd "$(dirname "$0")/../.." && pwd)
VERSION=$(sed -n 's/^__version__ = "\(.*\)"$/\1/p' "$ROOT/protocol/version.py")
BUNDLE=$ROOT/dist/connector
APP=$ROOT/dist/Connector.app
[ -x "$BUNDLE/connector" ] || { echo "no bundle at $BUNDLE: run pyinstaller first" >&2; exit 1; }

# The one-folder build goes into Contents/MacOS unchanged; our Info.plist (LSUIElement) on top.
rm -rf "$APP"
mkdir -p "$APP/Contents/MacOS" "$APP/Contents/Resources"
cp -R "$BUNDLE/" "$APP/Contents/MacOS/"
sed "s/@VERSION@/$VERSION/g" "$ROOT/installer/macos/Info.plist" > "$APP/Contents/Info.plist"
# Ad-hoc signature so Gatekeeper on Apple silicon runs it; a release signs with a Developer ID.
codesign --force --deep --sign - "$APP"

STAGE=$(mktemp -d)
trap 'rm -rf "$STAGE"' EXIT
cp -R "$APP" "$STAGE/"
ln -s /Applications "$STAGE/Applications"
DMG=$ROOT/dist/Connector-$VERSION.dmg
rm -f "$DMG"
hdiutil create -volname "Connector $VERSION" -srcfolder "$STAGE" -fs HFS+ -format UDZO "$DMG"
echo "$DMG"
