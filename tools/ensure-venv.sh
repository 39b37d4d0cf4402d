#!/usr/bin/env bash
# Create $BACKDROP_VENV (default .venv) with Python >= 3.11 and install Backdrop
# with its dev extras into it; reinstall only when pyproject.toml changes.
set -euo pipefail
cd "$(dirname "$0")/.."

# A pyenv shim answers `command -v` for versions it does not have and then
# prints "pyenv: python3.13: command not found": every probe stays silent.
find_python() {
  for candidate in python3.13 python3.12 python3.11 python3; do
    if command -v "$candidate" >/dev/null 2>&1 &&
      "$candidate" -c 'import sys; sys.exit(sys.version_info < (3, 11))' >/dev/null 2>&1; then
      echo "$candidate"
      return
    fi
  done
  echo "Backdrop needs Python 3.11 or newer" >&2
  exit 1
}

VENV=${BACKDROP_VENV:-.venv}
[ -x "$VENV/bin/python" ] || "$(find_python)" -m venv "$VENV"
stamp="$VENV/.backdrop-installed"
if [ ! -f "$stamp" ] || [ pyproject.toml -nt "$stamp" ]; then
  # BACKDROP_INSTALL_VERBOSE=1 (run_development.sh) shows pip's progress.
  quiet=-q
  [ -n "${BACKDROP_INSTALL_VERBOSE:-}" ] && quiet= && echo "Installing Backdrop into $VENV (first run, about 30 s)..."
  "$VENV/bin/python" -m pip install $quiet --upgrade pip
  "$VENV/bin/python" -m pip install $quiet -e '.[dev]'
  touch "$stamp"
fi
