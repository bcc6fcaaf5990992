#!/usr/bin/env bash
# Creates or refreshes the project environment in .venv/ (idempotent, fast when nothing changed).
# Sourced by scripts/run.sh and scripts/test.sh; safe to run on its own.
set -euo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")/.."

PYTHON=${PYTHON:-python3}
if ! "$PYTHON" -c 'import sys; sys.exit(sys.version_info < (3, 11))' 2>/dev/null; then
  echo "doeflow needs Python 3.11 or newer ($PYTHON is $("$PYTHON" --version 2>&1))" >&2
  exit 1
fi

if [ ! -x .venv/bin/python ]; then
  echo "== creating .venv"
  "$PYTHON" -m venv .venv
fi

stamp=.venv/.requirements.sha256
wanted=$(sha256sum requirements.txt | cut -d' ' -f1)
if [ "$(cat "$stamp" 2>/dev/null)" != "$wanted" ]; then
  echo "== installing Python packages (requirements.txt)"
  .venv/bin/python -m pip install --quiet --disable-pip-version-check --upgrade pip
  .venv/bin/python -m pip install --quiet --disable-pip-version-check -r requirements.txt
  echo "$wanted" > "$stamp"
fi

# The front-end packages the UI serves (bpmn-js), from npm, into .venv/npm (never committed).
assets=web/assets
npm_stamp=.venv/npm/.lock.sha256
wanted_npm=$(sha256sum "$assets/package-lock.json" | cut -d' ' -f1)
if [ "$(cat "$npm_stamp" 2>/dev/null)" != "$wanted_npm" ]; then
  if ! command -v npm >/dev/null; then
    echo "doeflow needs Node.js and npm to install the diagram viewer (bpmn-js); install them (Debian: apt-get install nodejs npm)" >&2
    exit 1
  fi
  echo "== installing front-end packages (web/assets/package-lock.json)"
  mkdir -p .venv/npm
  cp "$assets/package.json" "$assets/package-lock.json" .venv/npm/
  (cd .venv/npm && npm ci --ignore-scripts --no-audit --no-fund --loglevel=error)
  echo "$wanted_npm" > "$npm_stamp"
fi

# The Spanish (and any other) translations, compiled from web/translations/*/LC_MESSAGES/*.po.
.venv/bin/python -m web.i18n compile
