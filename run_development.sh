#!/usr/bin/env bash
# Install (first run only, with progress) and start the read, write and (when present)
# admin apps on the embedded SQLite default (var/backdrop.db), on 127.0.0.1, reloading
# on code changes; prints one "ready" banner once every app answers /_status.
# Ports: BACKDROP_READ_PORT, BACKDROP_WRITE_PORT, BACKDROP_ADMIN_PORT (3038, 3039, 3040).
# BACKDROP_ADMIN_TOKEN defaults to "dev-admin-token" here so the admin API works out of the box.
# Ctrl-C stops every app. Exits non-zero, saying why, if a port is taken or an app dies.
set -euo pipefail
cd "$(dirname "$0")"

declare -A ports=([read]=${BACKDROP_READ_PORT:-3038} [write]=${BACKDROP_WRITE_PORT:-3039})
apps=(read write)
if [ -f backdrop/admin/__init__.py ]; then
  ports[admin]=${BACKDROP_ADMIN_PORT:-3040}
  apps+=(admin)
fi

port_taken() { (exec 3<>"/dev/tcp/127.0.0.1/$1") 2>/dev/null; }
for app in "${apps[@]}"; do
  if port_taken "${ports[$app]}"; then
    var="BACKDROP_$(echo "$app" | tr a-z A-Z)_PORT"
    echo "run_development.sh: port ${ports[$app]} (the $app app) is already in use;" \
      "stop what listens there or choose another port, e.g. $var=$((ports[$app] + 100)) ./run_development.sh" >&2
    exit 1
  fi
done

BACKDROP_INSTALL_VERBOSE=1 ./tools/ensure-venv.sh

export BACKDROP_ADMIN_TOKEN=${BACKDROP_ADMIN_TOKEN:-dev-admin-token}
export BACKDROP_RELOAD=1
[ -n "${ports[admin]:-}" ] && export BACKDROP_ADMIN_URL=${BACKDROP_ADMIN_URL:-http://127.0.0.1:${ports[admin]}/}
trap 'trap - EXIT INT TERM; kill 0 2>/dev/null; wait' EXIT INT TERM
declare -A pids
for app in "${apps[@]}"; do
  ./start-app.sh "$app" "${ports[$app]}" 127.0.0.1 &
  pids[$app]=$!
done

for app in "${apps[@]}"; do
  for _ in $(seq 1 600); do
    if ! kill -0 "${pids[$app]}" 2>/dev/null; then
      echo "run_development.sh: the $app app exited while starting on port ${ports[$app]} (see its log above)" >&2
      exit 1
    fi
    "${BACKDROP_VENV:-.venv}/bin/python" -c "import sys, urllib.request as u; u.urlopen(sys.argv[1], timeout=2)" \
      "http://127.0.0.1:${ports[$app]}/_status" 2>/dev/null && break
    sleep 0.1
  done
done

echo "================ Backdrop is ready ================"
for app in "${apps[@]}"; do
  if [ "$app" = admin ]; then
    printf '  %-6s http://127.0.0.1:%s/   (web UI: sign in with the admin token)\n' "$app" "${ports[$app]}"
  else
    printf '  %-6s http://127.0.0.1:%s/   (API docs: http://127.0.0.1:%s/docs)\n' "$app" "${ports[$app]}" "${ports[$app]}"
  fi
done
echo "  admin token: $BACKDROP_ADMIN_TOKEN"
echo "  database:    ${BACKDROP_DATABASE_URL:-sqlite:///var/backdrop.db}"
echo "  Ctrl-C stops every app."
echo "==================================================="
wait -n
echo "run_development.sh: an app exited; stopping the others" >&2
exit 1
