#!/usr/bin/env bash
# The web page's end-to-end tests in a real browser: playwright-core (npm) driving
# Debian's Chromium against the real murphy binary. Installs what is missing first:
# Chromium from apt (as root), playwright-core from web/package-lock.json (npm ci).
# Usage: bash scripts/web-test.sh        (from anywhere; ends with "# pass N / # fail N")
set -euo pipefail
cd "$(dirname "$0")/.."

if [ ! -x /usr/bin/chromium ]; then
  echo "web-test: installing chromium (apt)"
  apt-get update
  DEBIAN_FRONTEND=noninteractive apt-get install -y chromium
fi

if ! command -v node >/dev/null || ! command -v npm >/dev/null; then
  echo "web-test: node and npm are needed (node >= 20)" >&2
  exit 1
fi

if [ ! -f web/node_modules/playwright-core/package.json ] \
  || [ web/package-lock.json -nt web/node_modules/.package-lock.json ]; then
  echo "web-test: npm ci (web/)"
  (cd web && npm ci --no-audit --no-fund)
fi

# The page is embedded in the binary (include_str!): rebuild when it is missing or
# older than any of the files it embeds.
bin=target/debug/murphy
if [ ! -x "$bin" ] || [ -n "$(find web/index.html web/app.js web/style.css -newer "$bin" 2>/dev/null)" ]; then
  echo "web-test: cargo build -p murphy"
  cargo build -p murphy
fi

exec node --test --test-concurrency=1 web/tests/
