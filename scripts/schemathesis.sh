#!/usr/bin/env bash
# The OpenAPI document against the server, by a fuzzer that knows nothing else:
# schemathesis (PyPI) drives a fresh `murphy serve` from /api/v1/openapi.json, every
# operation, once with the admin token and once with a student's, all checks on,
# bounded in time. Any failure it reports fails this script (and scripts/test.sh).
#
# A student's token sees two admin operations answer only 403 and most command
# bodies refused (they act for other students): schemathesis warns about both, rightly.
#
# schemathesis is installed, pinned, into a venv in the build directory
# ($CARGO_TARGET_DIR, else target/) on first use. SCHEMATHESIS_SEED picks another
# seed (the default one makes a run repeatable); SCHEMATHESIS_TIME_MAX_S bounds each
# of the two runs (default 60).
set -euo pipefail
cd "$(dirname "$0")/.."

SCHEMATHESIS_VERSION=4.32.5
seed=${SCHEMATHESIS_SEED:-10}
time_max_s=${SCHEMATHESIS_TIME_MAX_S:-60}
target=${CARGO_TARGET_DIR:-target}
venv="$target/schemathesis-venv"

if ! "$venv/bin/schemathesis" --version 2>/dev/null | grep -qF "$SCHEMATHESIS_VERSION"; then
    echo "schemathesis: installing schemathesis $SCHEMATHESIS_VERSION into $venv"
    rm -rf "$venv"
    if ! python3 -m venv "$venv"; then
        echo "schemathesis: failed: python3 -m venv did not work (Debian: apt-get install python3-venv)" >&2
        exit 1
    fi
    "$venv/bin/pip" install --quiet --disable-pip-version-check "schemathesis==$SCHEMATHESIS_VERSION"
fi

cargo build --locked --quiet -p murphy
murphy="$target/debug/murphy"
work=$(mktemp -d)
port=$(python3 -c 'import socket; s = socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])')
url="http://127.0.0.1:$port"
admin=schemathesis-admin-token
# The default limits, but for shedding writes by their wait: a debug build answers
# schemathesis' bursts slower than a write may wait by default, and a 503 there would
# be the build's speed, not the contract.
"$murphy" serve --listen "127.0.0.1:$port" --data-dir "$work/data" --admin-token "$admin" \
    --queue-wait-time-max-ms 10000 >"$work/serve.log" 2>&1 &
server=$!
trap 'kill "$server" 2>/dev/null || true; wait "$server" 2>/dev/null || true; rm -rf "$work"' EXIT
for _ in $(seq 100); do
    curl -sf "$url/healthz" >/dev/null && break
    sleep 0.1
done

# Something to find: a section, a student, and the student's token.
post() {
    curl -sf -H "Authorization: Bearer $admin" -H 'content-type: application/json' "$url$1" -d "$2"
}
post /api/v1/commands '{"commands":[
    {"type":"create_section","section":"COMSCI-35L-1","title":"Software Construction","units":4,"capacity":2,
     "waitlist_capacity":2,"meetings":[{"days":"MW","start":"14:00","end":"15:50"}]},
    {"type":"create_student","student":"s0001","name":"Joe Bruin"}]}' >/dev/null
student=$(post /api/v1/tokens '{"student":"s0001"}' | python3 -c 'import json, sys; print(json.load(sys.stdin)["token"])')

status=0
for who in admin student; do
    token=$admin
    [ "$who" = student ] && token=$student
    echo "== schemathesis as $who ($url/api/v1/openapi.json)"
    timeout $((time_max_s + 60)) "$venv/bin/schemathesis" --config-file scripts/schemathesis.toml \
        run "$url/api/v1/openapi.json" \
        --checks all \
        --header "Authorization: Bearer $token" \
        --max-examples 50 \
        --max-time "$time_max_s" \
        --request-timeout 10 \
        --seed "$seed" \
        --generation-database none \
        --report-dir "$work/report" \
        --no-color || status=$?
done
if [ "$status" -eq 0 ]; then
    echo "schemathesis: both runs, all checks passed"
else
    echo "schemathesis: failed (status $status); the server's log:"
    tail -n 20 "$work/serve.log"
fi
exit "$status"
