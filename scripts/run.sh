#!/usr/bin/env bash
# Runs doeflow on this machine: sets up .venv, migrates the database (SQLite by default), loads the
# demo data into a new database, publishes the shipped diagrams and starts the web process.
set -euo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")/.."
bash scripts/setup.sh

export FLASK_APP=wsgi
HOST=${DOEFLOW_HOST:-127.0.0.1}
PORT=${DOEFLOW_PORT:-5000}
export DOEFLOW_BASE_URL=${DOEFLOW_BASE_URL:-http://$HOST:$PORT}
flask() { .venv/bin/flask "$@"; }

mkdir -p instance
flask db upgrade
if [ "${DOEFLOW_ENV:-development}" != production ]; then
  flask demo load
fi
shopt -s nullglob
diagrams=(workflows/bpmn/*.bpmn)
if [ ${#diagrams[@]} -gt 0 ]; then
  flask bpmn publish workflows/bpmn/*.bpmn workflows/bpmn/*.dmn
fi
# A new demo database also gets the invented scenarios as running cases (DOEFLOW_DEMO_INSTANCES=0: none).
if [ "${DOEFLOW_ENV:-development}" != production ] && [ "${DOEFLOW_DEMO_INSTANCES:-1}" != 0 ]; then
  flask demo instances
fi

cat <<MSG

  doeflow is running at $DOEFLOW_BASE_URL/
MSG
if [ "${DOEFLOW_ENV:-development}" != production ]; then
  cat <<MSG
  Demo logins (password: ${DOEFLOW_DEMO_PASSWORD:-doeflow-demo}), one per role and office, e.g.
    project-developer@hti.demo            country office Haiti
    chief-of-mission@hti.demo             country office Haiti
    emergency-focal-point@ro-americas.demo  regional office
    regional-director@ro-americas.demo    regional office
    mefm-approver@hq.demo                 headquarters
    process-manager@hq.demo               headquarters
  (all: <role>@<office>.demo, see README.md)
MSG
fi
echo
exec .venv/bin/flask run --host "$HOST" --port "$PORT"
