#!/usr/bin/env bash
# The whole test suite, from a fresh clone: formatting, lints, every test of every crate
# (unit, property, the real-socket API tests, the kill -9 test of the binary),
# schemathesis against the OpenAPI document (scripts/schemathesis.sh, which installs it
# from PyPI into a venv in target/ on first use), the README's walk-through on a fresh
# demo, then the web page in a real browser. SQLite is bundled; the PostgreSQL tests
# run against a throwaway server started here (scripts/pg.sh, which installs PostgreSQL
# from Debian's packages when missing); scripts/web-test.sh installs Chromium (Debian's
# package) and playwright-core (npm) when they are missing.
set -euo pipefail
cd "$(dirname "$0")/.."

if ! command -v cargo >/dev/null; then
    echo "cargo is needed: install Rust from your package manager or rustup" >&2
    exit 1
fi

echo "== cargo fmt --check"
cargo fmt --all -- --check
echo "== cargo clippy"
cargo clippy --workspace --all-targets --locked -- -D warnings
echo "== cargo test"
log=$(mktemp)
pgdir=$(mktemp -d)
trap 'rm -f "$log"; bash scripts/pg.sh stop "$pgdir" >/dev/null 2>&1 || true; rm -rf "$pgdir"' EXIT
MURPHY_TEST_POSTGRES=$(bash scripts/pg.sh start "$pgdir")
export MURPHY_TEST_POSTGRES
status=0
# --no-fail-fast: one failing test binary does not hide the results of the others.
cargo test --workspace --locked --no-fail-fast 2>&1 | tee "$log" || status=$?
echo "== the OpenAPI document against the server, by schemathesis (scripts/schemathesis.sh)"
bash scripts/schemathesis.sh 2>&1 | tee -a "$log" || status=$?
echo "== the README's walk-through on a fresh demo (scripts/readme-test.sh)"
bash scripts/readme-test.sh 2>&1 | tee -a "$log" || status=$?
echo "== web page in a real browser (scripts/web-test.sh)"
bash scripts/web-test.sh 2>&1 | tee -a "$log" || status=$?
# One closing line for the whole suite: cargo's test binaries, schemathesis (one test),
# the README's walk-through (one test) and node's test runner.
awk '/^test result:/ { passed += $4; failed += $6 }
     /^schemathesis: both runs, all checks passed/ { passed += 1 }
     /^schemathesis: failed/ { failed += 1 }
     /^readme: [0-9]+ steps, all as shown/ { passed += 1 }
     /^headers: ok$/ { passed += 1 }
     /^readme: [0-9]+ of [0-9]+ steps/ { failed += 1 }
     /^# pass / { passed += $3 }
     /^# fail / { failed += $3 }
     END { printf "%d passed, %d failed\n", passed, failed }' "$log"
exit "$status"
