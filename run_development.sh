#!/usr/bin/env bash
# Install (first run only) and start the read (3038) and write (3039) apps on the
# embedded SQLite default (var/backdrop.db), reloading on code changes. Ctrl-C stops both.
# BACKDROP_ADMIN_TOKEN defaults to "dev-admin-token" here so the admin API works out of the box.
set -euo pipefail
cd "$(dirname "$0")"

./tools/ensure-venv.sh

export BACKDROP_ADMIN_TOKEN=${BACKDROP_ADMIN_TOKEN:-dev-admin-token}
export BACKDROP_RELOAD=1
trap 'kill 0' EXIT INT TERM
./start-app.sh read 3038 &
./start-app.sh write 3039 &
wait
