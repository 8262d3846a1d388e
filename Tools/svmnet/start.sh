#!/usr/bin/env bash
# Starts the local Solana chain (svmnet) in the background and prints its state JSON.
#
#   Tools/svmnet/start.sh [--port N] [--state-dir DIR] [--slot-ms MS] [--verbose]
#
# Port: --port, else $X402_SVMNET_PORT, else 8899 (always bound to 127.0.0.1).
# State dir: --state-dir, else $X402_SVMNET_STATE_DIR, else <repo>/.svmnet-run.
# Writes <state-dir>/svmnet.json (state JSON), svmnet.pid and svmnet.log.
# Prints the state JSON to stdout and the RPC URL as the last line.
# Exits non-zero with a message if the port is taken or the server dies.
set -euo pipefail

HERE="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
ROOT="$(cd "$HERE/../.." && pwd)"
PORT="${X402_SVMNET_PORT:-8899}"
STATE_DIR="${X402_SVMNET_STATE_DIR:-$ROOT/.svmnet-run}"
EXTRA=()

while [[ $# -gt 0 ]]; do
    case "$1" in
        --port) PORT="$2"; shift 2 ;;
        --port=*) PORT="${1#*=}"; shift ;;
        --state-dir) STATE_DIR="$2"; shift 2 ;;
        --state-dir=*) STATE_DIR="${1#*=}"; shift ;;
        --slot-ms) EXTRA+=(--slot-ms "$2"); shift 2 ;;
        --slot-ms=*) EXTRA+=(--slot-ms "${1#*=}"); shift ;;
        --verbose) EXTRA+=(--verbose); shift ;;
        -h|--help) sed -n '2,10p' "$0" | sed 's/^# \{0,1\}//'; exit 0 ;;
        *) echo "svmnet start: unknown argument: $1" >&2; exit 2 ;;
    esac
done
if ! [[ "$PORT" =~ ^[0-9]+$ ]] || (( PORT < 1 || PORT > 65535 )); then
    echo "svmnet start: invalid port: $PORT" >&2; exit 2
fi

"$HERE/setup.sh"
VENV="${X402_SVMNET_VENV:-$HERE/.venv}"
PY="$VENV/bin/python"

mkdir -p "$STATE_DIR"
STATE_DIR="$(cd "$STATE_DIR" && pwd)"
PIDFILE="$STATE_DIR/svmnet.pid"
JSON="$STATE_DIR/svmnet.json"
LOG="$STATE_DIR/svmnet.log"

if [[ -f "$PIDFILE" ]]; then
    old="$(cat "$PIDFILE" 2>/dev/null || true)"
    if [[ -n "$old" ]] && kill -0 "$old" 2>/dev/null && grep -qa svmnet.py "/proc/$old/cmdline" 2>/dev/null; then
        echo "svmnet start: an svmnet is already running from $STATE_DIR (pid $old); stop it with $HERE/stop.sh --state-dir $STATE_DIR" >&2
        exit 1
    fi
    rm -f "$PIDFILE"
fi

if ! "$PY" - "$PORT" <<'PYEOF'
import socket, sys
s = socket.socket()
s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)  # like the server: ignore TIME_WAIT leftovers
try:
    s.bind(("127.0.0.1", int(sys.argv[1])))
except OSError:
    sys.exit(1)
finally:
    s.close()
PYEOF
then
    echo "svmnet start: port $PORT on 127.0.0.1 is already in use (choose another with --port N or X402_SVMNET_PORT)" >&2
    exit 1
fi

rm -f "$JSON"
t0=$(date +%s%N)
nohup "$PY" "$HERE/svmnet.py" --port "$PORT" --state-out "$JSON" "${EXTRA[@]}" >"$LOG" 2>&1 </dev/null &
pid=$!
echo "$pid" > "$PIDFILE"

URL="http://127.0.0.1:$PORT"
for _ in $(seq 1 600); do
    if ! kill -0 "$pid" 2>/dev/null; then
        echo "svmnet start: the server exited during start-up; log ($LOG):" >&2
        tail -n 30 "$LOG" >&2
        rm -f "$PIDFILE"
        exit 1
    fi
    if [[ -f "$JSON" ]] && "$PY" - "$URL" <<'PYEOF' 2>/dev/null
import json, sys, urllib.request
req = urllib.request.Request(sys.argv[1], data=b'{"jsonrpc":"2.0","id":1,"method":"getGenesisHash"}',
                             headers={"Content-Type": "application/json"})
with urllib.request.urlopen(req, timeout=2) as r:
    sys.exit(0 if json.load(r).get("result", "").startswith("EtWTRABZaYq6iMfeYKouRu166VU2xqa1") else 1)
PYEOF
    then
        cat "$JSON"
        echo "svmnet start: pid $pid, server up $(( ($(date +%s%N) - t0) / 1000000 )) ms after launch, state in $JSON" >&2
        echo "$URL"
        exit 0
    fi
    sleep 0.1
done
echo "svmnet start: no answer on $URL after 60 s; log ($LOG):" >&2
tail -n 30 "$LOG" >&2
kill "$pid" 2>/dev/null || true
rm -f "$PIDFILE"
exit 1
