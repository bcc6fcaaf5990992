#!/usr/bin/env bash
# Makes sure a Chromium for the browser tests is installed (Debian's package; Playwright cannot
# download its own browser here). Prints its path. Installs it with apt when running as root.
set -euo pipefail
for candidate in "${DOEFLOW_CHROMIUM:-}" /usr/bin/chromium /usr/bin/chromium-browser; do
  if [ -n "$candidate" ] && [ -x "$candidate" ]; then
    echo "$candidate"
    exit 0
  fi
done
if [ "$(id -u)" = 0 ] && command -v apt-get >/dev/null; then
  echo "== installing Debian's chromium for the browser tests" >&2
  export DEBIAN_FRONTEND=noninteractive
  apt-get update -qq >&2
  apt-get install -y -qq chromium >&2
  echo /usr/bin/chromium
  exit 0
fi
echo "no Chromium found: install Debian's package 'chromium' (or set DOEFLOW_CHROMIUM)" >&2
exit 1
