#!/usr/bin/env bash
# Starts a throwaway local PostgreSQL cluster for tests and prints one JSON line with its URL.
#
#   Tools/postgres/start.sh [--port N] [--data-dir DIR]
#
# Port: --port, else $X402_POSTGRES_PORT, else 55432 (bound to 127.0.0.1 only, trust auth on loopback).
# Data dir: --data-dir, else <repo>/.devnet-run/postgres-<port>. The cluster is created on first use
# (initdb) and reused afterwards; database `x402` is created if missing. Idempotent: when the
# cluster of DIR is already running, it only prints the URL.
# Output: {"url":"postgres://postgres@127.0.0.1:N/x402","port":N,"dataDir":"DIR","pid":PID}
# As root, the server runs as the `postgres` OS user (PostgreSQL refuses to run as root).
set -euo pipefail

HERE="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
ROOT="$(cd "$HERE/../.." && pwd)"
PORT="${X402_POSTGRES_PORT:-55432}"
DATA_DIR=""

while [[ $# -gt 0 ]]; do
    case "$1" in
        --port) PORT="$2"; shift 2 ;;
        --port=*) PORT="${1#*=}"; shift ;;
        --data-dir) DATA_DIR="$2"; shift 2 ;;
        --data-dir=*) DATA_DIR="${1#*=}"; shift ;;
        -h|--help) sed -n '2,12p' "$0" | sed 's/^# \{0,1\}//'; exit 0 ;;
        *) echo "postgres start: unknown argument: $1" >&2; exit 2 ;;
    esac
done
if ! [[ "$PORT" =~ ^[0-9]+$ ]] || (( PORT < 1 || PORT > 65535 )); then
    echo "postgres start: invalid port: $PORT" >&2; exit 2
fi
DATA_DIR="${DATA_DIR:-$ROOT/.devnet-run/postgres-$PORT}"

BIN=""
if command -v pg_config >/dev/null 2>&1 && [[ -x "$(pg_config --bindir 2>/dev/null)/initdb" ]]; then
    BIN="$(pg_config --bindir)"
fi
if [[ -z "$BIN" ]]; then
    BIN="$(ls -d /usr/lib/postgresql/*/bin 2>/dev/null | sort -V | tail -1 || true)"
fi
if [[ -z "$BIN" || ! -x "$BIN/initdb" ]]; then
    echo "postgres start: PostgreSQL server binaries not found (apt-get install postgresql / brew install postgresql)" >&2
    exit 1
fi

mkdir -p "$DATA_DIR"
DATA_DIR="$(cd "$DATA_DIR" && pwd)"
CLUSTER="$DATA_DIR/cluster"
SOCKET_DIR="$DATA_DIR/socket"
LOG="$DATA_DIR/postgres.log"
URL="postgres://postgres@127.0.0.1:$PORT/x402"

# Run a PostgreSQL binary as the postgres OS user when we are root.
as_pg() {
    if [[ $(id -u) -eq 0 ]]; then
        runuser -u postgres -- "$@"
    else
        "$@"
    fi
}
if [[ $(id -u) -eq 0 ]]; then
    id postgres >/dev/null 2>&1 || useradd --system --home-dir /var/lib/postgresql --shell /bin/sh postgres
    # The postgres user must be able to reach the data dir through every parent.
    d="$DATA_DIR"
    while [[ "$d" != "/" ]]; do chmod o+x "$d" 2>/dev/null || true; d="$(dirname "$d")"; done
    chown postgres "$DATA_DIR"
fi

print_url() {
    local pid
    pid="$(head -1 "$CLUSTER/postmaster.pid" 2>/dev/null || echo 0)"
    printf '{"url":"%s","port":%s,"dataDir":"%s","pid":%s}\n' "$URL" "$PORT" "$DATA_DIR" "$pid"
}

ready() { as_pg "$BIN/pg_isready" -q -h 127.0.0.1 -p "$PORT" -d postgres -U postgres; }

if [[ -f "$CLUSTER/postmaster.pid" ]] && as_pg "$BIN/pg_ctl" status -D "$CLUSTER" >/dev/null 2>&1; then
    if ready; then print_url; exit 0; fi
fi

if [[ ! -f "$CLUSTER/PG_VERSION" ]]; then
    rm -rf "$CLUSTER"
    as_pg "$BIN/initdb" -D "$CLUSTER" -U postgres --auth=trust -E UTF8 --locale=C.UTF-8 >"$DATA_DIR/initdb.log" 2>&1 \
        || as_pg "$BIN/initdb" -D "$CLUSTER" -U postgres --auth=trust -E UTF8 --no-locale >"$DATA_DIR/initdb.log" 2>&1 \
        || { echo "postgres start: initdb failed, see $DATA_DIR/initdb.log" >&2; exit 1; }
    cat >"$CLUSTER/pg_hba.conf" <<HBA
# Throwaway test cluster: trust on loopback only.
local   all all              trust
host    all all 127.0.0.1/32 trust
host    all all ::1/128      trust
HBA
fi
mkdir -p "$SOCKET_DIR"
[[ $(id -u) -eq 0 ]] && chown postgres "$SOCKET_DIR"

# Fail early with a clear message when the port is taken by something else.
if (echo >"/dev/tcp/127.0.0.1/$PORT") 2>/dev/null; then
    echo "postgres start: port $PORT on 127.0.0.1 is already in use" >&2
    exit 1
fi

# Test cluster: no fsync (fast; data is throwaway), enough connections for several instances.
OPTS="-c listen_addresses=127.0.0.1 -c port=$PORT -c unix_socket_directories=$SOCKET_DIR -c fsync=off"
OPTS+=" -c synchronous_commit=off -c full_page_writes=off -c max_connections=200 -c shared_buffers=64MB"
if ! as_pg "$BIN/pg_ctl" start -D "$CLUSTER" -l "$LOG" -w -t 60 -o "$OPTS" >/dev/null; then
    echo "postgres start: the server did not start, see $LOG" >&2
    tail -5 "$LOG" >&2 || true
    exit 1
fi
for _ in $(seq 1 100); do ready && break; sleep 0.1; done
ready || { echo "postgres start: the server is not accepting connections, see $LOG" >&2; exit 1; }

if [[ "$(as_pg "$BIN/psql" -h 127.0.0.1 -p "$PORT" -U postgres -d postgres -tAc "SELECT 1 FROM pg_database WHERE datname = 'x402'")" != 1 ]]; then
    as_pg "$BIN/createdb" -h 127.0.0.1 -p "$PORT" -U postgres x402
fi
print_url
