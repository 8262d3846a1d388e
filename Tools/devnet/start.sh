#!/usr/bin/env bash
# Starts the local devnet in the background and prints its accounts JSON.
#
#   Tools/devnet/start.sh [--port N] [--state-dir DIR] [--verbose]
#
# Port: --port, else $X402_DEVNET_PORT, else 8545 (always bound to 127.0.0.1).
# State dir: --state-dir, else $X402_DEVNET_STATE_DIR, else <repo>/.devnet-run.
# Writes <state-dir>/devnet.json (accounts JSON), devnet.pid and devnet.log.
# Prints the accounts JSON to stdout and the RPC URL as the last line.
# Exits non-zero with a message if the port is taken or the server dies.
set -euo pipefail

HERE="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
ROOT="$(cd "$HERE/../.." && pwd)"
PORT="${X402_DEVNET_PORT:-8545}"
STATE_DIR="${X402_DEVNET_STATE_DIR:-$ROOT/.devnet-run}"
EXTRA=()

while [[ $# -gt 0 ]]; do
    case "$1" in
        --port) PORT="$2"; shift 2 ;;
        --port=*) PORT="${1#*=}"; shift ;;
        --state-dir) STATE_DIR="$2"; shift 2 ;;
        --state-dir=*) STATE_DIR="${1#*=}"; shift ;;
        --verbose) EXTRA+=(--verbose); shift ;;
        -h|--help) sed -n '2,11p' "$0" | sed 's/^# \{0,1\}//'; exit 0 ;;
        *) echo "devnet start: unknown argument: $1" >&2; exit 2 ;;
    esac
done
if ! [[ "$PORT" =~ ^[0-9]+$ ]] || (( PORT < 1 || PORT > 65535 )); then
    echo "devnet start: invalid port: $PORT" >&2; exit 2
fi

"$HERE/setup.sh"
VENV="${X402_DEVNET_VENV:-$HERE/.venv}"
PY="$VENV/bin/python"

mkdir -p "$STATE_DIR"
STATE_DIR="$(cd "$STATE_DIR" && pwd)"
PIDFILE="$STATE_DIR/devnet.pid"
JSON="$STATE_DIR/devnet.json"
LOG="$STATE_DIR/devnet.log"

if [[ -f "$PIDFILE" ]]; then
    old="$(cat "$PIDFILE" 2>/dev/null || true)"
    if [[ -n "$old" ]] && kill -0 "$old" 2>/dev/null && grep -qa devnet.py "/proc/$old/cmdline" 2>/dev/null; then
        echo "devnet start: a devnet is already running from $STATE_DIR (pid $old); stop it with $HERE/stop.sh${STATE_DIR:+ --state-dir $STATE_DIR}" >&2
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
except OSError as e:
    sys.exit(1)
finally:
    s.close()
PYEOF
then
    echo "devnet start: port $PORT on 127.0.0.1 is already in use (choose another with --port N or X402_DEVNET_PORT)" >&2
    exit 1
fi

rm -f "$JSON"
t0=$(date +%s%N)
nohup "$PY" "$HERE/devnet.py" --port "$PORT" --accounts-out "$JSON" "${EXTRA[@]}" >"$LOG" 2>&1 </dev/null &
pid=$!
echo "$pid" > "$PIDFILE"

URL="http://127.0.0.1:$PORT"
for _ in $(seq 1 600); do
    if ! kill -0 "$pid" 2>/dev/null; then
        echo "devnet start: the server exited during start-up; log ($LOG):" >&2
        tail -n 30 "$LOG" >&2
        rm -f "$PIDFILE"
        exit 1
    fi
    if [[ -f "$JSON" ]] && "$PY" - "$URL" <<'PYEOF' 2>/dev/null
import json, sys, urllib.request
req = urllib.request.Request(sys.argv[1], data=b'{"jsonrpc":"2.0","id":1,"method":"eth_chainId","params":[]}',
                             headers={"Content-Type": "application/json"})
with urllib.request.urlopen(req, timeout=2) as r:
    sys.exit(0 if json.load(r).get("result") == hex(84532) else 1)
PYEOF
    then
        cat "$JSON"
        echo "devnet start: pid $pid, server up $(( ($(date +%s%N) - t0) / 1000000 )) ms after launch, state in $STATE_DIR" >&2
        echo "$URL"
        exit 0
    fi
    sleep 0.1
done
echo "devnet start: no answer on $URL after 60 s; log ($LOG):" >&2
tail -n 30 "$LOG" >&2
kill "$pid" 2>/dev/null || true
rm -f "$PIDFILE"
exit 1
