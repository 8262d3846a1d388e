#!/usr/bin/env bash
# Runs one interop entry point inside the harness venv, creating the venv first if needed
# (setup.sh writes only to stderr, so the tool's one-line JSON stdout stays clean).
#
#   Tools/interop/run.sh py_sign.py --key-env PAYER_KEY < payment-required.json
#   Tools/interop/run.sh py_facilitator.py --port 18402 --rpc-url http://127.0.0.1:8548 --key-env FAC_KEY
set -euo pipefail
HERE="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
if [[ $# -lt 1 ]]; then
    echo "usage: $0 TOOL.py [args...]   (py_facilitator.py py_sign.py py_check.py py_server.py py_client.py py_bazaar.py bench_verify.py)" >&2
    exit 2
fi
tool="$1"; shift
case "$tool" in
    py_facilitator.py|py_sign.py|py_check.py|py_server.py|py_client.py|py_mcp.py|py_bazaar.py|bench_verify.py) ;;
    *) echo "run.sh: unknown tool: $tool" >&2; exit 2 ;;
esac
"$HERE/setup.sh"
VENV="${X402_INTEROP_VENV:-$HERE/.venv}"
exec "$VENV/bin/python" "$HERE/$tool" "$@"
