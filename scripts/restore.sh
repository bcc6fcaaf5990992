#!/usr/bin/env bash
# Restores a dump of scripts/backup.sh into a PostgreSQL database, replacing what it holds of it
# (--clean --if-exists). Stop the web and worker processes first; start them again afterwards.
#   scripts/restore.sh FILE [DATABASE_URL]    default DATABASE_URL: DOEFLOW_DATABASE_URL
# The database must exist (createdb NAME for a new one).
set -euo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")/.."

file=${1:?usage: scripts/restore.sh FILE [DATABASE_URL]}
url=${2:-${DOEFLOW_DATABASE_URL:?give a DATABASE_URL or set DOEFLOW_DATABASE_URL}}
url=${url/postgresql+psycopg:\/\//postgresql://}
[ -r "$file" ] || { echo "restore.sh: cannot read $file" >&2; exit 2; }
pg_restore --clean --if-exists --no-owner --no-privileges --single-transaction --exit-on-error \
  --dbname="$url" "$file"
echo "restored $file"
