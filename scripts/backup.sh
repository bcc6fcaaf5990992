#!/usr/bin/env bash
# Backs up the database of DOEFLOW_DATABASE_URL (PostgreSQL) with pg_dump's custom format.
#   scripts/backup.sh [FILE]     default FILE: backups/doeflow-YYYYmmddTHHMMSSZ.dump
# Restore with scripts/restore.sh FILE. The dump is consistent while the app runs (one snapshot).
set -euo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")/.."

url=${DOEFLOW_DATABASE_URL:?DOEFLOW_DATABASE_URL must name the PostgreSQL database to back up}
url=${url/postgresql+psycopg:\/\//postgresql://}
case "$url" in
  postgresql://*|postgres://*) ;;
  *) echo "backup.sh: DOEFLOW_DATABASE_URL is not a PostgreSQL URL" >&2; exit 2 ;;
esac
file=${1:-backups/doeflow-$(date -u +%Y%m%dT%H%M%SZ).dump}
mkdir -p "$(dirname "$file")"
# Written beside the target first, so a failed dump never leaves a truncated FILE behind.
pg_dump --format=custom --no-owner --no-privileges --file="$file.partial" --dbname="$url"
mv "$file.partial" "$file"
echo "backup written: $file ($(wc -c <"$file") bytes)"
