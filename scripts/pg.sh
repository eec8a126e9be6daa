#!/usr/bin/env bash
# A throwaway PostgreSQL server for murphy's tests: never a system-wide one.
#
#   bash scripts/pg.sh install               install PostgreSQL from Debian's packages
#                                            if its binaries are missing (needs root)
#   bash scripts/pg.sh start DIR             initdb into DIR (new or empty), start it on a
#                                            free port of 127.0.0.1 with its unix socket in
#                                            DIR, print its URL (for MURPHY_TEST_POSTGRES)
#   bash scripts/pg.sh url DIR               print the URL of the server in DIR again
#   bash scripts/pg.sh restart DIR [MODE]    pg_ctl restart, MODE fast or immediate (the
#                                            default: a crash, WAL replay at start)
#   bash scripts/pg.sh stop DIR              stop it (DIR is left for the caller to remove)
#   bash scripts/pg.sh bindir                print the directory of PostgreSQL's programs
#
# PostgreSQL refuses to run as root: as root, the server runs as the system user
# `murphy-test` (or $MURPHY_PG_USER; created when missing, and said so on stderr),
# which owns DIR. The database superuser is `murphy`, trusted on the socket and on
# 127.0.0.1 only. fsync stays on: the tests check durability across restarts.
set -euo pipefail

PG_USER=${MURPHY_PG_USER:-murphy-test}
# Ports tried at random before giving up.
PORT_TRIES_MAX=20

die() { echo "pg.sh: $*" >&2; exit 1; }

bindir() {
    local dir
    if command -v pg_config >/dev/null && dir=$(pg_config --bindir 2>/dev/null) && [ -x "$dir/initdb" ]; then
        echo "$dir"; return
    fi
    for dir in $(ls -d /usr/lib/postgresql/*/bin 2>/dev/null | sort -V -r); do
        [ -x "$dir/initdb" ] && { echo "$dir"; return; }
    done
    return 1
}

install() {
    bindir >/dev/null && return
    [ "$(id -u)" = 0 ] || die "PostgreSQL is not installed; as root: apt-get install -y postgresql"
    echo "pg.sh: installing PostgreSQL from Debian's packages" >&2
    export DEBIAN_FRONTEND=noninteractive
    apt-get update -qq >&2
    apt-get install -y -qq postgresql >&2
    bindir >/dev/null || die "apt-get installed postgresql but no initdb was found"
}

# Runs a command as the server's user (ourselves unless we are root).
as_pg() {
    if [ "$(id -u)" = 0 ]; then
        runuser -u "$PG_USER" -- "$@"
    else
        "$@"
    fi
}

ensure_user() {
    [ "$(id -u)" = 0 ] || return 0
    id "$PG_USER" >/dev/null 2>&1 && return
    echo "pg.sh: PostgreSQL refuses to run as root: creating the system user $PG_USER to run it" \
        "(no home, no login; \`userdel $PG_USER\` removes it)" >&2
    useradd --system --user-group --no-create-home --shell /usr/sbin/nologin "$PG_USER"
}

url() {
    local dir port
    dir=$(cd "$1" 2>/dev/null && pwd) || die "no server was started in $1"
    port=$(cat "$dir/port" 2>/dev/null) || die "no server was started in $dir"
    # The socket directory, percent-encoded into the host part (libpq and rust-postgres
    # both read it so).
    local host=${dir//\//%2F}
    echo "postgresql://murphy@$host:$port/postgres"
}

port_free() {
    ! (exec 3<>"/dev/tcp/127.0.0.1/$1") 2>/dev/null
}

start() {
    local dir=$1 bin port try
    install
    bin=$(bindir)
    ensure_user
    mkdir -p "$dir"
    dir=$(cd "$dir" && pwd)
    [ -z "$(ls -A "$dir")" ] || die "$dir is not empty"
    [ "$(id -u)" = 0 ] && chown "$PG_USER:" "$dir"
    chmod 700 "$dir"
    as_pg "$bin/initdb" -D "$dir/data" -U murphy --auth=trust --encoding=UTF8 --locale=C >"$dir/initdb.log" 2>&1 ||
        die "initdb failed: $(tail -5 "$dir/initdb.log")"
    for ((try = 0; try < PORT_TRIES_MAX; try++)); do
        port=$((20000 + RANDOM % 40000))
        port_free "$port" || continue
        as_pg sh -c "echo $port > '$dir/port'"
        if as_pg "$bin/pg_ctl" -D "$dir/data" -l "$dir/server.log" -w -t 30 \
            -o "-c listen_addresses=127.0.0.1 -p $port -c unix_socket_directories='$dir' -c max_connections=200 -c fsync=on -c synchronous_commit=on" \
            start >/dev/null; then
            url "$dir"
            return
        fi
    done
    die "the server did not start: $(tail -5 "$dir/server.log" 2>/dev/null)"
}

ctl() {
    local dir=$1
    shift
    [ -f "$dir/port" ] || die "no server was started in $dir"
    as_pg "$(bindir)/pg_ctl" -D "$dir/data" -l "$dir/server.log" -w -t 30 "$@" >/dev/null
}

case "${1:-}" in
install) install ;;
start) start "${2:?usage: pg.sh start DIR}" ;;
url) url "${2:?usage: pg.sh url DIR}" ;;
bindir) bindir || die "PostgreSQL is not installed" ;;
restart) ctl "${2:?usage: pg.sh restart DIR [fast|immediate]}" restart -m "${3:-immediate}" ;;
stop) ctl "${2:?usage: pg.sh stop DIR}" stop -m fast ;;
*) sed -n '2,18p' "$0" >&2; exit 2 ;;
esac
