#!/usr/bin/env bash
# Creates the benchmark catalog on a running murphy: SECTIONS sections of 100 seats and
# STUDENTS students, in requests of 100 commands.
# Usage: MURPHY_URL=http://127.0.0.1:3000 MURPHY_TOKEN=... bench/setup.sh
set -euo pipefail
: "${MURPHY_URL:?}" "${MURPHY_TOKEN:?}"
SECTIONS=${SECTIONS:-300}
STUDENTS=${STUDENTS:-6400}

post() {
    curl -sf -o /dev/null -H "Authorization: Bearer $MURPHY_TOKEN" -H 'Content-Type: application/json' \
        --data-binary @- "$MURPHY_URL/api/v1/commands"
}

python3 - "$SECTIONS" "$STUDENTS" <<'PY' | while read -r body; do echo "$body" | post; done
import json, sys
sections, students = int(sys.argv[1]), int(sys.argv[2])
commands = [{"type": "create_section", "section": f"BENCH-{i:03d}", "title": f"Bench section {i}",
             "units": 4, "capacity": 100} for i in range(1, sections + 1)]
commands += [{"type": "create_student", "student": f"s{i:05d}", "name": f"Student {i}"}
             for i in range(1, students + 1)]
for start in range(0, len(commands), 100):
    print(json.dumps({"commands": commands[start:start + 100]}))
PY
