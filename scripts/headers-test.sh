#!/usr/bin/env bash
# The page's security headers, scanned as an operator would: `curl -I` of the page and
# of an API answer from a real murphy. Each must carry a Content-Security-Policy with
# `frame-ancestors 'none'` and no inline script, `X-Content-Type-Options: nosniff` and
# `Referrer-Policy: no-referrer`.
# Usage: bash scripts/headers-test.sh PATH/TO/murphy   (prints "headers: ok" or fails)
set -euo pipefail
murphy=${1:?usage: headers-test.sh PATH/TO/murphy}
dir=$(mktemp -d)
out="$dir/out"
"$murphy" serve --listen 127.0.0.1:0 --data-dir "$dir/data" --admin-token headers-test >"$out" 2>&1 &
pid=$!
trap 'kill "$pid" 2>/dev/null; wait "$pid" 2>/dev/null; rm -rf "$dir"' EXIT
for _ in $(seq 100); do
  url=$(sed -n 's/^murphy serving \(http:[^ ]*\)\/ .*/\1/p' "$out")
  [ -n "$url" ] && break
  sleep 0.1
done
[ -n "${url:-}" ] || { echo "headers: murphy did not start: $(cat "$out")" >&2; exit 1; }
fail=0
for path in / /app.js /api/v1/sections; do
  head=$(curl -sI "$url$path" | tr -d '\r' | tr 'A-Z' 'a-z')
  for want in "content-security-policy:.*frame-ancestors 'none'" "x-content-type-options: nosniff" \
              "referrer-policy: no-referrer"; do
    if ! grep -q "^$want" <<<"$head"; then
      echo "headers: $path lacks $want" >&2
      fail=1
    fi
  done
  if grep -q "^content-security-policy:.*unsafe-inline" <<<"$head"; then
    echo "headers: $path allows inline script" >&2
    fail=1
  fi
done
page=$(curl -sI "$url/" | tr -d '\r' | tr 'A-Z' 'a-z')
grep -q "^content-security-policy:.*script-src 'self'" <<<"$page" || { echo "headers: the page's CSP does not pin scripts to murphy" >&2; fail=1; }
[ "$fail" = 0 ] && echo "headers: ok"
exit "$fail"
