#!/usr/bin/env bash
# Start one process type: ./start-app.sh read|write [PORT]  or  ./start-app.sh worker
# Reads BACKDROP_* variables (see README). Gunicorn serves the app factories.
set -euo pipefail
cd "$(dirname "$0")"
VENV=${BACKDROP_VENV:-.venv}
[ -x "$VENV/bin/gunicorn" ] && PATH="$VENV/bin:$PATH"

app=${1:?usage: ./start-app.sh read|write [PORT] | worker}
case "$app" in
  read)  port=${2:-${PORT:-3038}} ;;
  write) port=${2:-${PORT:-3039}} ;;
  worker) exec celery -A backdrop.transformers.worker worker --loglevel "${BACKDROP_LOG_LEVEL:-INFO}" ;;
  *) echo "usage: ./start-app.sh read|write [PORT] | worker" >&2; exit 2 ;;
esac
exec gunicorn "backdrop.${app}:create_app()" \
  --bind "0.0.0.0:${port}" \
  --workers "${WEB_CONCURRENCY:-2}" \
  --access-logfile - \
  ${BACKDROP_RELOAD:+--reload}
