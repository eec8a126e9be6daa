#!/usr/bin/env bash
# The whole test suite, from a fresh clone: formatting, lints, then every test of every
# crate (unit, property, the real-socket API tests, and the kill -9 test of the binary).
# SQLite is bundled, so there is nothing else to install yet.
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
cargo test --workspace --locked
