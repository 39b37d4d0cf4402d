#!/usr/bin/env bash
# Start one process type: ./start-app.sh read|write|admin [PORT [HOST]]  or  ./start-app.sh worker|beat
# Reads BACKDROP_* variables (see README). The web apps go through `backdrop serve`
# (gunicorn with backdrop/gunicorn_conf.py: gthread workers with bounded request reads,
# access log on stdout), bound to HOST
# (default 0.0.0.0), WEB_CONCURRENCY workers (default 2), reloading if BACKDROP_RELOAD is set.
set -euo pipefail
cd "$(dirname "$0")"
VENV=${BACKDROP_VENV:-.venv}
[ -x "$VENV/bin/gunicorn" ] && PATH="$VENV/bin:$PATH"

app=${1:?usage: ./start-app.sh read|write|admin [PORT [HOST]] | worker | beat}
case "$app" in
  read)  port=${2:-${PORT:-3038}} ;;
  write) port=${2:-${PORT:-3039}} ;;
  admin) port=${2:-${PORT:-3040}} ;;
  worker) exec celery -A backdrop.transformers.worker worker --loglevel "${BACKDROP_LOG_LEVEL:-INFO}" ;;
  # beat: one tick every BACKDROP_SOURCES_TICK_SECONDS; the worker reads the schedules from the database
  beat) mkdir -p var && exec celery -A backdrop.transformers.worker beat \
          --schedule var/celerybeat-schedule --loglevel "${BACKDROP_LOG_LEVEL:-INFO}" ;;
  *) echo "usage: ./start-app.sh read|write|admin [PORT [HOST]] | worker | beat" >&2; exit 2 ;;
esac
exec backdrop serve "$app" --port "$port" --host "${3:-0.0.0.0}" \
  --workers "${WEB_CONCURRENCY:-2}" \
  ${BACKDROP_RELOAD:+--reload}
