#!/usr/bin/env bash
# Sets up a virtualenv with the test extra, fetches what browser tests need where it can, runs the tests.
set -euo pipefail
cd "$(dirname "$0")/.."
python3 -m venv .venv
.venv/bin/python -m pip install -q --upgrade pip >/dev/null
.venv/bin/python -m pip install -q -e '.[test]'

if [ ! -x /usr/bin/chromium ]; then
  if [ "$(id -u)" = 0 ] && command -v apt-get >/dev/null 2>&1; then
    echo "Installing Debian's chromium for the browser tests ..."
    (apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq chromium >/dev/null) \
      || echo "Could not install chromium."
  fi
  [ -x /usr/bin/chromium ] || echo "NOTE: /usr/bin/chromium is missing: the browser tests (tests/browser) will be skipped."
fi
# Debian's ffmpeg probes and converts uploaded videos (and makes the test clips).
if ! command -v ffprobe >/dev/null 2>&1; then
  if [ "$(id -u)" = 0 ] && command -v apt-get >/dev/null 2>&1; then
    echo "Installing Debian's ffmpeg for the video tests ..."
    (apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq ffmpeg >/dev/null) \
      || echo "Could not install ffmpeg."
  fi
  command -v ffprobe >/dev/null 2>&1 || echo "NOTE: ffmpeg is missing: the video tests will be skipped."
fi
# nginx, Caddy and systemd-analyze check the deployment files in docs/deploy (tests/deploy).
if ! command -v caddy >/dev/null 2>&1 || [ ! -x /usr/sbin/nginx ]; then
  if [ "$(id -u)" = 0 ] && command -v apt-get >/dev/null 2>&1; then
    echo "Installing Debian's nginx and caddy for the deployment checks ..."
    (apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq nginx caddy >/dev/null) \
      || echo "Could not install nginx and caddy."
  fi
  { command -v caddy >/dev/null 2>&1 && [ -x /usr/sbin/nginx ]; } \
    || echo "NOTE: nginx or caddy is missing: the deployment checks (tests/deploy) will be skipped."
fi
# axe-core checks the public pages for WCAG 2.1 AA violations (tests/browser/test_public_*.py).
if [ ! -f node_modules/axe-core/axe.min.js ]; then
  if command -v npm >/dev/null 2>&1; then
    npm install --no-save --no-audit --no-fund --silent axe-core@4 || echo "Could not install axe-core."
  fi
  [ -f node_modules/axe-core/axe.min.js ] || echo "NOTE: npm or axe-core is missing: the accessibility browser tests will be skipped."
fi
# The AT Protocol reference PDS for the Bluesky connector test (Node 22 and @atproto/pds from npm, ~3 min once).
if [ ! -d tests/pds/node_modules/@atproto/pds ]; then
  if command -v npm >/dev/null 2>&1; then
    bash tests/pds/install.sh || echo "Could not install the reference PDS."
  fi
  [ -d tests/pds/node_modules/@atproto/pds ] || echo "NOTE: npm or the reference PDS is missing: the Bluesky PDS tests (tests/bridge/platforms/test_connectors_bluesky_pds.py) will be skipped."
fi
# masto.js and megalodon, the Mastodon client libraries of Elk, Phanpy and Whalebird (tests/bridge/web/test_api_clients_node.py).
if [ ! -d tests/clients/node_modules/megalodon ] || [ ! -d tests/clients/node_modules/masto ]; then
  if command -v npm >/dev/null 2>&1; then
    bash tests/clients/install.sh || echo "Could not install the Mastodon client libraries."
  fi
  [ -d tests/clients/node_modules/masto ] || echo "NOTE: npm or masto.js/megalodon is missing: tests/bridge/web/test_api_clients_node.py will be skipped."
fi
if [ -z "${STADTBOTE_TEST_DATABASE_URL:-}" ]; then
  echo "Running on SQLite. For PostgreSQL too, set STADTBOTE_TEST_DATABASE_URL=postgresql+asyncpg://user@host/db"
fi
.venv/bin/lint-imports
exec .venv/bin/python -m pytest -q "$@"
