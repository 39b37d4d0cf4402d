#!/usr/bin/env bash
# The whole test suite: install into .venv if needed, lint, type-check, pytest (the storage
# contract suite runs on every reachable engine), then the behave features over
# real HTTP on SQLite and, when PostgreSQL is reachable, again on PostgreSQL.
# Extra arguments go to pytest. Exits non-zero on any failure.
set -euo pipefail
cd "$(dirname "$0")"

VENV=${BACKDROP_VENV:-.venv}
./tools/ensure-venv.sh
./tools/ensure-browser.sh  # headless Chromium for tests/browser (they skip, saying why, without it)

echo "== ruff"
"$VENV/bin/ruff" check .
"$VENV/bin/ruff" format --check .

echo "== mypy (strict on backdrop/core)"
"$VENV/bin/mypy"

echo "== pytest"
"$VENV/bin/pytest" "$@"

# behave's own summary says "N scenarios passed, …"; each run ends with one
# plain "scenarios: N passed, N failed, N skipped" line for CI to read.
run_features() {
  local log
  log=$(mktemp)
  BACKDROP_TEST_ENGINE=$1 "$VENV/bin/behave" --format progress --no-capture-stderr features \
    | tee "$log"
  sed -n 's/^\([0-9]*\) scenarios passed, \([0-9]*\) failed, \([0-9]*\) skipped.*/scenarios: \1 passed, \2 failed, \3 skipped/p' "$log"
  rm -f "$log"
}

echo "== behave (sqlite)"
run_features sqlite

if "$VENV/bin/python" -c 'import socket; socket.create_connection(("127.0.0.1", 5432), 2)' 2>/dev/null; then
  echo "== behave (postgresql, real server at 127.0.0.1:5432)"
  run_features postgresql
else
  echo "== behave (postgresql) not run: nothing listens on 127.0.0.1:5432"
fi
