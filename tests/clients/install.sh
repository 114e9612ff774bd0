#!/usr/bin/env bash
# Installs the Mastodon client libraries for tests/bridge/web/test_api_clients_node.py: masto.js (Elk's and
# Phanpy's library) and megalodon (Whalebird's), the newest releases of their major versions from npm.
set -euo pipefail
cd "$(dirname "$0")"
npm install --no-audit --no-fund --no-package-lock --silent
node -e "import('masto').then(() => import('megalodon'))"
echo "Mastodon client libraries installed (node $(node --version))"
