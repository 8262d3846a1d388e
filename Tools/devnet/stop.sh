#!/usr/bin/env bash
# Stops the devnet started by start.sh: SIGTERM, wait up to 10 s, then SIGKILL.
#
#   Tools/devnet/stop.sh [--state-dir DIR]
set -euo pipefail

HERE="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
ROOT="$(cd "$HERE/../.." && pwd)"
STATE_DIR="${X402_DEVNET_STATE_DIR:-$ROOT/.devnet-run}"
while [[ $# -gt 0 ]]; do
    case "$1" in
        --state-dir) STATE_DIR="$2"; shift 2 ;;
        --state-dir=*) STATE_DIR="${1#*=}"; shift ;;
        *) echo "devnet stop: unknown argument: $1" >&2; exit 2 ;;
    esac
done
source "$HERE/../lib/service.sh"
service_stop devnet "$STATE_DIR" devnet.py
