#!/usr/bin/env bash
# The store's tests with PostgreSQL: starts a throwaway server (scripts/pg.sh, which
# installs PostgreSQL from Debian's packages when missing), runs the store's tests with
# MURPHY_TEST_POSTGRES set to its URL, and stops it. Arguments go to cargo test, e.g.
# `bash scripts/pg-test.sh --test postgres_lease`.
set -euo pipefail
cd "$(dirname "$0")/.."

dir=$(mktemp -d)
trap 'bash scripts/pg.sh stop "$dir" >/dev/null 2>&1 || true; rm -rf "$dir"' EXIT
MURPHY_TEST_POSTGRES=$(bash scripts/pg.sh start "$dir")
export MURPHY_TEST_POSTGRES
echo "== PostgreSQL at $MURPHY_TEST_POSTGRES"
cargo test -p murphy-store --locked "$@"
