#!/usr/bin/env bash
# The whole test suite: install into .venv if needed, lint, pytest (the storage
# contract suite runs on every reachable engine), then the behave features over
# real HTTP on SQLite and, when PostgreSQL is reachable, again on PostgreSQL.
# Extra arguments go to pytest. Exits non-zero on any failure.
set -euo pipefail
cd "$(dirname "$0")"

VENV=${BACKDROP_VENV:-.venv}
./tools/ensure-venv.sh

echo "== ruff"
"$VENV/bin/ruff" check .

echo "== pytest"
"$VENV/bin/pytest" "$@"

echo "== behave (sqlite)"
BACKDROP_TEST_ENGINE=sqlite "$VENV/bin/behave" --format progress --no-capture-stderr features

if "$VENV/bin/python" -c 'import socket; socket.create_connection(("127.0.0.1", 5432), 2)' 2>/dev/null; then
  echo "== behave (postgresql, real server at 127.0.0.1:5432)"
  BACKDROP_TEST_ENGINE=postgresql "$VENV/bin/behave" --format progress --no-capture-stderr features
else
  echo "== behave (postgresql) not run: nothing listens on 127.0.0.1:5432"
fi
