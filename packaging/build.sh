#!/usr/bin/env bash
# Build the one-folder offline bundle with PyInstaller (packaging/forensic_gui.spec).
#
# The bundle is written OUTSIDE the repository (it is hundreds of MB of third-party binaries).
# Check it afterwards with packaging/smoke_test.py; docs/PACKAGING.md explains both.
#
# Usage: packaging/build.sh [--python PY] [--dist DIR] [--work DIR]
#   --python PY  interpreter of an environment with the app and the "package" extra installed
#                (default: $FORENSIC_VENV/bin/python, else .venv/bin/python of the checkout)
#   --dist DIR   the bundle goes to DIR/forensic-gui
#                (default: ${XDG_CACHE_HOME:-~/.cache}/forensic-face-analyzer/bundle)
#   --work DIR   PyInstaller's scratch folder (default: DIR/../pyinstaller-work)
set -euo pipefail
REPO="$(cd "$(dirname "$0")/.." && pwd)"
CACHE="${XDG_CACHE_HOME:-$HOME/.cache}/forensic-face-analyzer"
PY="${FORENSIC_VENV:-$REPO/.venv}/bin/python"
DIST="$CACHE/bundle"
WORK=""

while [ $# -gt 0 ]; do
  case "$1" in
    --python) PY="$2"; shift 2 ;;
    --dist) DIST="$2"; shift 2 ;;
    --work) WORK="$2"; shift 2 ;;
    -h|--help) sed -n '2,12p' "$0"; exit 0 ;;
    *) echo "build.sh: unknown argument $1 (see --help)" >&2; exit 2 ;;
  esac
done

mkdir -p "$DIST"
DIST="$(cd "$DIST" && pwd)"
WORK="${WORK:-$(dirname "$DIST")/pyinstaller-work}"
case "$DIST/" in
  "$REPO"/*) echo "build.sh: --dist $DIST is inside the repository; choose a folder outside it" >&2
             exit 2 ;;
esac
if [ ! -x "$PY" ]; then
  echo "build.sh: no Python at $PY; pass --python or set FORENSIC_VENV" >&2
  exit 2
fi
if ! "$PY" -m PyInstaller --version >/dev/null 2>&1; then
  echo "build.sh: PyInstaller is missing in that environment: $PY -m pip install -e '$REPO[package]'" >&2
  exit 2
fi

echo "building with $("$PY" -m PyInstaller --version) from $PY into $DIST/forensic-gui"
start_s=$(date +%s)
# NOTE: --clean: no stale module graph from an earlier build can leak excluded packages back in.
"$PY" -m PyInstaller --noconfirm --clean --log-level WARN \
  --distpath "$DIST" --workpath "$WORK" "$REPO/packaging/forensic_gui.spec"
echo "built $DIST/forensic-gui in $(( $(date +%s) - start_s )) s"
echo "next: $PY $REPO/packaging/smoke_test.py --bundle $DIST/forensic-gui"
