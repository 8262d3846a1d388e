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
"$HERE/setup.sh"
source "$HERE/../lib/service.sh"
service_start svmnet "${X402_SVMNET_VENV:-$HERE/.venv}/bin/python" "$HERE/svmnet.py" "$STATE_DIR" "$PORT" --state-out \
    '{"jsonrpc":"2.0","id":1,"method":"getGenesisHash"}' 'r.get("result", "").startswith("EtWTRABZaYq6iMfeYKouRu166VU2xqa1")' \
    "${EXTRA[@]}"
