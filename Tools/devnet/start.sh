#!/usr/bin/env bash
# Starts the local devnet in the background and prints its accounts JSON.
#
#   Tools/devnet/start.sh [--port N] [--state-dir DIR] [--verbose] [--calls-per-second R]
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
        --calls-per-second) EXTRA+=(--calls-per-second "$2"); shift 2 ;;
        -h|--help) sed -n '2,10p' "$0" | sed 's/^# \{0,1\}//'; exit 0 ;;
        *) echo "devnet start: unknown argument: $1" >&2; exit 2 ;;
    esac
done

"$HERE/setup.sh"
source "$HERE/../lib/service.sh"
service_start devnet "${X402_DEVNET_VENV:-$HERE/.venv}/bin/python" "$HERE/devnet.py" "$STATE_DIR" "$PORT" --accounts-out \
    '{"jsonrpc":"2.0","id":1,"method":"eth_chainId","params":[]}' 'r.get("result") == hex(84532)' "${EXTRA[@]}"
