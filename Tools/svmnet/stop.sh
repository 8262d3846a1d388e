#!/usr/bin/env bash
# Stops the svmnet started by start.sh: SIGTERM, wait up to 10 s, then SIGKILL.
#
#   Tools/svmnet/stop.sh [--state-dir DIR]
set -euo pipefail

HERE="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
ROOT="$(cd "$HERE/../.." && pwd)"
STATE_DIR="${X402_SVMNET_STATE_DIR:-$ROOT/.svmnet-run}"
while [[ $# -gt 0 ]]; do
    case "$1" in
        --state-dir) STATE_DIR="$2"; shift 2 ;;
        --state-dir=*) STATE_DIR="${1#*=}"; shift ;;
        *) echo "svmnet stop: unknown argument: $1" >&2; exit 2 ;;
    esac
done
PIDFILE="$STATE_DIR/svmnet.pid"

if [[ ! -f "$PIDFILE" ]]; then
    echo "svmnet stop: not running (no $PIDFILE)" >&2
    exit 0
fi
pid="$(cat "$PIDFILE")"
if [[ -z "$pid" ]] || ! kill -0 "$pid" 2>/dev/null || ! grep -qa svmnet.py "/proc/$pid/cmdline" 2>/dev/null; then
    echo "svmnet stop: not running (stale pid file removed)" >&2
    rm -f "$PIDFILE"
    exit 0
fi
kill -TERM "$pid"
for _ in $(seq 1 100); do
    kill -0 "$pid" 2>/dev/null || break
    sleep 0.1
done
if kill -0 "$pid" 2>/dev/null; then
    echo "svmnet stop: pid $pid did not exit after SIGTERM; sending SIGKILL" >&2
    kill -KILL "$pid" 2>/dev/null || true
fi
rm -f "$PIDFILE"
echo "svmnet stop: stopped (pid $pid)" >&2
