#!/usr/bin/env bash
# The web page's end-to-end tests in a real browser: playwright-core (npm) driving
# Debian's Chromium against the real murphy binary, signing in at a real OpenID provider
# (oidc-provider), after a scan of the page's security headers with curl. Installs what
# is missing first: Chromium from apt (as root), playwright-core and oidc-provider from
# web/package-lock.json (npm ci).
# Usage: bash scripts/web-test.sh        (from anywhere; ends with "# pass N / # fail N")
set -euo pipefail
# cargo reads a relative CARGO_TARGET_DIR from where it runs: pin it before moving.
if [ -n "${CARGO_TARGET_DIR:-}" ]; then
  CARGO_TARGET_DIR=$(mkdir -p "$CARGO_TARGET_DIR" && cd "$CARGO_TARGET_DIR" && pwd)
  export CARGO_TARGET_DIR
fi
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
  || [ ! -f web/node_modules/oidc-provider/package.json ] \
  || [ web/package-lock.json -nt web/node_modules/.package-lock.json ]; then
  echo "web-test: npm ci (web/)"
  (cd web && npm ci --no-audit --no-fund)
fi

# The page is embedded in the binary (include_str!): cargo rebuilds it when a file it
# embeds, or any source, changed since, and does nothing when it is current.
echo "web-test: cargo build -p murphy"
cargo build -p murphy --locked
export MURPHY_BIN="${CARGO_TARGET_DIR:-$PWD/target}/debug/murphy"

bash scripts/headers-test.sh "$MURPHY_BIN"

exec node --test --test-concurrency=1 web/tests/
