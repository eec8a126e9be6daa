#!/usr/bin/env bash
# The README's walk-through, run as a test. Every ```console block of README.md is a
# step of one shell session, in order: `$ command` lines (a trailing `\` continues a
# command on the next line) are run, and the lines under a command are the output the
# README promises, compared with what the command really printed (stdout and stderr,
# trailing blanks ignored). In a promised line `[..]` matches any text (a date, a
# timestamp), and a line that is only `...` matches any number of lines (a long
# report shown by its head and tail). Lines starting with `# ` are comments.
#
# The first step must be `murphy demo ...`: it is started in the background on a free
# port (`--listen 127.0.0.1:0`), and the README's 127.0.0.1:3000 is read as that port
# from then on. Every other 127.0.0.1:3NNN the README names (a section's own server)
# is read as a free port of its own. A step ending in ` &` (a server started in the
# background) runs so, is waited for until its 127.0.0.1 port answers, is compared by
# the lines it printed first, and is stopped at the end. Everything runs in a fresh temporary directory (with the repository's
# examples/ in it), murphy found on the PATH as the README tells readers to put it:
# from ${CARGO_TARGET_DIR:-target}/debug, built first, or from $MURPHY_BIN_DIR.
#
# Usage: bash scripts/readme-test.sh        (ends with "readme: N steps, all as shown")
set -euo pipefail
root=$(cd "$(dirname "$0")/.." && pwd)
cd "$root"

if [ -z "${MURPHY_BIN_DIR:-}" ]; then
  target=${CARGO_TARGET_DIR:-target}
  case $target in /*) ;; *) target=$root/$target ;; esac
  cargo build -p murphy --locked --quiet
  MURPHY_BIN_DIR=$target/debug
fi
export PATH="$MURPHY_BIN_DIR:$PATH"
command -v murphy >/dev/null || { echo "readme: no murphy in $MURPHY_BIN_DIR" >&2; exit 1; }
command -v curl >/dev/null || { echo "readme: the README's tour needs curl" >&2; exit 1; }

work=$(mktemp -d "${TMPDIR:-/tmp}/murphy-readme.XXXXXX")
demo_pid=
cleanup() {
  for pid in $demo_pid $(cat "$work/background" 2>/dev/null); do
    kill "$pid" 2>/dev/null || true
    while kill -0 "$pid" 2>/dev/null; do sleep 0.1; done
  done
  rm -rf "$work"
}
trap cleanup EXIT
mkdir "$work/steps" "$work/run"
ln -s "$root/examples" "$work/run/examples"

# Split the console blocks into steps: steps/N.cmd and steps/N.want.
awk -v dir="$work/steps" '
  /^```console[[:space:]]*$/ { inside = 1; next }
  /^```/ { inside = 0; continuing = 0; next }
  !inside { next }
  continuing { print > cmd; continuing = /\\$/; next }
  /^\$ / {
    n++; cmd = sprintf("%s/%03d.cmd", dir, n); want = sprintf("%s/%03d.want", dir, n)
    print substr($0, 3) > cmd; printf "" > want
    continuing = /\\$/; next
  }
  /^# / || /^#$/ { next }
  n { print > want }
' README.md
steps=$(find "$work/steps" -name '*.cmd' | wc -l)
[ "$steps" -gt 0 ] || { echo "readme: README.md has no console blocks" >&2; exit 1; }

# Does the output in $2 match what $1 promises? (trailing blanks and CRs ignored)
matches() {
  awk -v wantfile="$1" '
    function clean(s) { sub(/\r$/, "", s); sub(/[ \t]+$/, "", s); return s }
    function pattern(s,   out, i, c) {
      out = ""
      for (i = 1; i <= length(s); i++) {
        if (substr(s, i, 4) == "[..]") { out = out ".*"; i += 3; continue }
        c = substr(s, i, 1)
        if (index("\\^$.[]|()*+?{}", c)) out = out "\\" c; else out = out c
      }
      return "^" out "$"
    }
    FILENAME == wantfile { w[++nw] = clean($0); next }
    { a[++na] = clean($0) }
    # Does a[i..] match w[j..]? `...` takes any number of lines.
    function from(i, j,   k) {
      if (j > nw) return i > na
      if (w[j] == "...") {
        for (k = i; k <= na + 1; k++) if (from(k, j + 1)) return 1
        return 0
      }
      return i <= na && a[i] ~ pattern(w[j]) && from(i + 1, j + 1)
    }
    END {
      while (nw > 0 && w[nw] == "") nw--
      while (na > 0 && a[na] == "") na--
      exit !from(1, 1)
    }
  ' "$1" "$2"
}

# The README's addresses: 127.0.0.1:3000 read as the demo's real one, every other
# 127.0.0.1:3NNN as a free port of its own (ports.sed, written once the demo runs).
localize() { sed -f "$work/ports.sed" "$1"; }

# A port nothing listens on, and that no other README address was given.
free_port() {
  local p
  while :; do
    p=$((20000 + RANDOM % 20000))
    grep -q ":$p|" "$work/ports.sed" 2>/dev/null && continue
    (exec 3<>"/dev/tcp/127.0.0.1/$p") 2>/dev/null || { echo "$p"; return; }
  done
}

cd "$work/run"
export MURPHY_CACHE_DIR="$work/cache"
unset MURPHY_URL MURPHY_TOKEN MURPHY_STUDENT MURPHY_ADMIN_TOKEN MURPHY_DATA_DIR MURPHY_LISTEN

first=$work/steps/001
read -ra demo <"$first.cmd"
[ "${demo[0]:-}" = murphy ] && [ "${demo[1]:-}" = demo ] \
  || { echo "readme: the first console step must be \`murphy demo\`, not: $(cat "$first.cmd")" >&2; exit 1; }
"${demo[@]}" --listen 127.0.0.1:0 >"$work/demo.out" 2>&1 &
demo_pid=$!
for _ in $(seq 300); do
  grep -q '^murphy serving ' "$work/demo.out" && break
  kill -0 "$demo_pid" 2>/dev/null || { cat "$work/demo.out" >&2; echo "readme: murphy demo exited" >&2; exit 1; }
  sleep 0.1
done
port=$(sed -n 's|^murphy serving http://127\.0\.0\.1:\([0-9]*\)/.*|\1|p' "$work/demo.out")
[ -n "$port" ] || { cat "$work/demo.out" >&2; echo "readme: murphy demo did not start" >&2; exit 1; }
echo "s|127\.0\.0\.1:3000|127.0.0.1:$port|g" >"$work/ports.sed"
for readme_port in $(grep -o '127\.0\.0\.1:3[0-9][0-9][0-9]' "$root/README.md" | cut -d: -f2 | sort -u); do
  [ "$readme_port" = 3000 ] && continue
  echo "s|127\.0\.0\.1:$readme_port|127.0.0.1:$(free_port)|g" >>"$work/ports.sed"
done

# Waits until something listens on 127.0.0.1:$1, for a background step.
wait_for_port() {
  for _ in $(seq 300); do
    (exec 3<>"/dev/tcp/127.0.0.1/$1") 2>/dev/null && return
    sleep 0.1
  done
  echo "readme: nothing listens on 127.0.0.1:$1 after 30 s" >&2
}

# Every later step runs in ONE shell, so what a step sets (URL, TOKEN, exports) holds
# for the next ones. Each command's output goes to its own file.
script=$work/steps.sh
{ declare -f wait_for_port; echo "cd '$work/run'"; } >"$script"
for cmd in "$work"/steps/*.cmd; do
  [ "$cmd" = "$first.cmd" ] && continue
  out=${cmd%.cmd}.out
  if grep -q ' &$' "$cmd"; then
    # A background server: its own process (so $! is the server), stopped by cleanup.
    listen=$(localize "$cmd" | grep -o '127\.0\.0\.1:[0-9]*' | head -1 | cut -d: -f2)
    [ -n "$listen" ] || { echo "readme: a background step names no 127.0.0.1 port: $(cat "$cmd")" >&2; exit 1; }
    touch "${cmd%.cmd}.background"
    line=$(localize "$cmd" | sed 's/ &$//')
    { echo "$line >'$out' 2>&1 </dev/null &"
      echo "echo \$! >>'$work/background'"; echo "wait_for_port $listen"; } >>"$script"
  else
    { echo "{"; localize "$cmd"; echo "} >'$out' 2>&1 </dev/null"; } >>"$script"
  fi
done
bash "$script" || true

failed=0
show() { awk '{ print "    | " $0 }' "$1"; }
head -n "$(wc -l <"$first.want")" "$work/demo.out" >"$first.out"
for cmd in "$work"/steps/*.cmd; do
  step=${cmd%.cmd}
  localize "$step.want" >"$step.local"
  touch "$step.out"
  if [ -e "$step.background" ]; then
    # Still running: what it printed first is what the README shows.
    head -n "$(wc -l <"$step.local")" "$step.out" >"$step.head" && mv "$step.head" "$step.out"
  fi
  if ! matches "$step.local" "$step.out"; then
    failed=$((failed + 1))
    echo "readme: \$ $(head -1 "$cmd")"
    echo "  the README shows:"; show "$step.local"
    echo "  it printed:"; show "$step.out"
  fi
done
if [ "$failed" -gt 0 ]; then
  echo "readme: $failed of $steps steps printed something else than README.md shows"
  exit 1
fi
echo "readme: $steps steps, all as shown"
