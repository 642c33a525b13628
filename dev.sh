#!/usr/bin/env bash
# One entry point for a fresh checkout: creates .venv when needed, then runs the app or the tests.
#   ./dev.sh app [args]    start the desktop app (ONNX Runtime; torch is not needed)
#   ./dev.sh test [args]   run the whole test suite (installs the train + dev extras)
#   ./dev.sh analyze ...   run the headless CLI
#   ./dev.sh env           only create/update the environment (with every extra)
set -euo pipefail
cd "$(dirname "$0")"
VENV="${FORENSIC_VENV:-.venv}"
PY="$(command -v python3.11 || command -v python3)"

ensure_env() {  # $1: extras to install, e.g. "dev" or "train,dev"
  local extras="$1"
  local stamp="$VENV/.installed-$(echo "$extras" | tr ',' '-')"
  if [ ! -x "$VENV/bin/python" ]; then
    "$PY" -m venv "$VENV"
    "$VENV/bin/python" -m pip install -q --upgrade pip
  fi
  # Reinstall only when pyproject.toml changed since the last install of these extras.
  local want
  want="$(sha256sum pyproject.toml | cut -d' ' -f1)"
  if [ ! -f "$stamp" ] || [ "$(cat "$stamp")" != "$want" ]; then
    echo "Installing the project into $VENV (extras: $extras); the first time takes a few minutes..." >&2
    "$VENV/bin/python" -m pip install -q -e ".[$extras]"
    echo "$want" > "$stamp"
  fi
}

cmd="${1:-app}"
shift || true
case "$cmd" in
  app)
    ensure_env "dev"
    exec "$VENV/bin/forensic-gui" "$@"
    ;;
  test)
    ensure_env "train,dev"
    export QT_QPA_PLATFORM="${QT_QPA_PLATFORM:-offscreen}"
    "$VENV/bin/lint-imports"
    exec "$VENV/bin/python" -m pytest "$@"
    ;;
  analyze)
    ensure_env "dev"
    exec "$VENV/bin/forensic-analyze" "$@"
    ;;
  env)
    ensure_env "train,dev"
    ;;
  *)
    echo "usage: ./dev.sh app|test|analyze|env [args]" >&2
    exit 2
    ;;
esac
