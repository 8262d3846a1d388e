#!/usr/bin/env bash
# Stops the test PostgreSQL cluster started by Tools/postgres/start.sh.
#
#   Tools/postgres/stop.sh --data-dir DIR [--remove]
#
# --remove also deletes DIR afterwards. Succeeds when nothing is running.
set -euo pipefail

DATA_DIR=""
REMOVE=0
while [[ $# -gt 0 ]]; do
    case "$1" in
        --data-dir) DATA_DIR="$2"; shift 2 ;;
        --data-dir=*) DATA_DIR="${1#*=}"; shift ;;
        --remove) REMOVE=1; shift ;;
        -h|--help) sed -n '2,6p' "$0" | sed 's/^# \{0,1\}//'; exit 0 ;;
        *) echo "postgres stop: unknown argument: $1" >&2; exit 2 ;;
    esac
done
[[ -n "$DATA_DIR" ]] || { echo "postgres stop: --data-dir is required" >&2; exit 2; }
[[ -d "$DATA_DIR" ]] || exit 0
CLUSTER="$DATA_DIR/cluster"

BIN="$(ls -d /usr/lib/postgresql/*/bin 2>/dev/null | sort -V | tail -1 || true)"
if [[ -z "$BIN" ]] && command -v pg_config >/dev/null 2>&1; then BIN="$(pg_config --bindir)"; fi

if [[ -f "$CLUSTER/postmaster.pid" && -n "$BIN" ]]; then
    if [[ $(id -u) -eq 0 ]]; then
        runuser -u postgres -- "$BIN/pg_ctl" stop -D "$CLUSTER" -m fast -w -t 30 >/dev/null 2>&1 || true
    else
        "$BIN/pg_ctl" stop -D "$CLUSTER" -m fast -w -t 30 >/dev/null 2>&1 || true
    fi
fi
if (( REMOVE )); then rm -rf "$DATA_DIR"; fi
