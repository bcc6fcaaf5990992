#!/usr/bin/env bash
# The production web process: migrates the database (`db upgrade`, safe to run on every deploy),
# then serves wsgi:app with gunicorn and several workers. Timers and email are NOT run here
# (DOEFLOW_SCHEDULER=off): run one or more `flask --app wsgi worker` processes beside it.
#
#   DOEFLOW_DATABASE_URL   the PostgreSQL database (required in practice)
#   DOEFLOW_WEB_WORKERS    gunicorn worker processes (default 4)
#   DOEFLOW_HOST/PORT      where to listen (default 0.0.0.0:8000)
#   DOEFLOW_LOG_FORMAT     json (default in production) or text
# Extra arguments go to gunicorn, e.g. `scripts/serve.sh --timeout 60`.
set -euo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")/.."

BIN=${DOEFLOW_VENV:-.venv}/bin
[ -x "$BIN/gunicorn" ] || BIN=$(dirname "$(command -v gunicorn)")
export FLASK_APP=wsgi
export DOEFLOW_SCHEDULER=off
if [ -z "${DOEFLOW_LOG_FORMAT:-}" ]; then
  if [ "${DOEFLOW_ENV:-development}" = production ]; then DOEFLOW_LOG_FORMAT=json; else DOEFLOW_LOG_FORMAT=text; fi
fi
export DOEFLOW_LOG_FORMAT

# The migration's output becomes log lines of the same format; a failed migration stops the deploy.
"$BIN/flask" db upgrade 2>&1 | "$BIN/python" -m web.logs --logger doeflow.deploy

exec "$BIN/gunicorn" \
  --workers "${DOEFLOW_WEB_WORKERS:-4}" \
  --bind "${DOEFLOW_HOST:-0.0.0.0}:${DOEFLOW_PORT:-8000}" \
  --access-logfile - \
  --logger-class web.logs.GunicornLogger \
  "$@" \
  wsgi:app
