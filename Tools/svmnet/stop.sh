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
source "$HERE/../lib/service.sh"
service_stop svmnet "$STATE_DIR" svmnet.py
