#!/usr/bin/env bash
# Runs the whole test suite: sets up .venv, makes sure PostgreSQL answers (starting the local
# cluster when it is installed but stopped), then runs pytest. Arguments go to pytest.
set -euo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")/.."
bash scripts/setup.sh
bash scripts/postgres.sh
# The browser tests need Chromium; without it they fail in CI and are skipped elsewhere.
if chromium=$(bash scripts/chromium.sh); then
  export DOEFLOW_CHROMIUM=$chromium
else
  # CI=1, true or yes, as tests/ci.py reads it: in CI nothing may be skipped.
  case "$(printf %s "${CI:-}" | tr '[:upper:]' '[:lower:]')" in
    1 | true | yes) exit 1 ;;
  esac
fi

# One pytest-xdist worker per core (DOEFLOW_TEST_WORKERS=0: none), each with its own SQLite and
# PostgreSQL databases; a test file stays on one worker.
set +e
.venv/bin/python -m pytest -n "${DOEFLOW_TEST_WORKERS:-auto}" --dist loadfile --durations=15 "$@"
status=$?
set -e
if [ $status -eq 5 ]; then
  echo "pytest collected no tests: that is a failure here" >&2
  exit 1
fi
exit $status
