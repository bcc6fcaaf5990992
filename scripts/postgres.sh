#!/usr/bin/env bash
# Makes sure the PostgreSQL server the tests use (DOEFLOW_TEST_DATABASE_URL, by default
# 127.0.0.1:5432) answers: starts the local Debian cluster if it is installed but stopped, and
# installs it from Debian's packages when it is missing and we are root. Never fails by itself:
# the tests decide (with CI=true a missing server fails them).
set -uo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")/.."

url=${DOEFLOW_TEST_DATABASE_URL:-postgresql://postgres@127.0.0.1:5432/test}
answers() { .venv/bin/python - "$url" <<'PY' >/dev/null 2>&1
import sys, psycopg
url = sys.argv[1].replace("postgresql+psycopg://", "postgresql://")
psycopg.connect(url, connect_timeout=3).close()
PY
}

answers && exit 0
case "$url" in
  *127.0.0.1*|*localhost*) ;;
  *) echo "PostgreSQL at $url does not answer" >&2; exit 0 ;;
esac

if ! ls /etc/postgresql/*/main >/dev/null 2>&1 && [ "$(id -u)" = 0 ] && command -v apt-get >/dev/null; then
  echo "== installing PostgreSQL (Debian packages)"
  apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq postgresql >/dev/null
fi
for cluster in /etc/postgresql/*/main; do
  [ -d "$cluster" ] || continue
  version=$(basename "$(dirname "$cluster")")
  echo "== starting PostgreSQL $version"
  pg_ctlcluster --skip-systemctl-redirect "$version" main start 2>/dev/null || pg_ctlcluster "$version" main start || true
done
for _ in $(seq 1 20); do answers && break; sleep 0.5; done
if answers && [ "$url" = postgresql://postgres@127.0.0.1:5432/test ]; then
  # A fresh Debian cluster has no "test" database and asks for passwords on TCP: make it as CI has it.
  su postgres -c "psql -qc 'select 1' -d test" >/dev/null 2>&1 || su postgres -c "createdb test" 2>/dev/null || true
fi
answers || echo "PostgreSQL does not answer at $url" >&2
exit 0
