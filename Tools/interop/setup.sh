#!/usr/bin/env bash
# Creates the interop harness's Python virtualenv (the official x402 SDK 2.25.0
# and its pinned dependencies). Idempotent: a stamp (sha256 of requirements.txt
# + Python version) inside the venv makes a second run a ~0.1 s no-op (see
# Tools/lib/venv.sh).
#
#   Tools/interop/setup.sh              # venv at Tools/interop/.venv
#   X402_INTEROP_VENV=/tmp/v setup.sh   # venv elsewhere
#
# All messages go to stderr. Exit status 0 = the venv is ready.
#
# Needs only python3 (>= 3.10) with venv + pip. On Debian/Ubuntu, if the venv
# module is unusable it installs `python3-venv` with apt-get (as root) and says so.
set -euo pipefail

HERE="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
VENV="${X402_INTEROP_VENV:-$HERE/.venv}"
source "$HERE/../lib/venv.sh"

# Fail early if the SDK is not importable as the harness uses it.
check_sdk() {
    "$VENV/bin/python" -c 'import x402, x402.mechanisms.evm.exact, x402.mechanisms.svm.exact, solana.rpc.api, x402.http.middleware.fastapi, x402.http.clients, uvicorn, coincurve' >&2
}

ensure_venv interop "$VENV" "$HERE/requirements.txt" check_sdk

# The SDK's extensions (sign-in-with-x, payment-identifier) need the packages of
# requirements-extensions.txt, installed without their dependencies (see that file). Checked by
# import, so a ready venv costs one interpreter start.
if ! "$VENV/bin/python" -c 'import siwe, jsonschema, nacl, x402.extensions.sign_in_with_x' 2>/dev/null; then
    echo "interop setup: installing the SDK's extension packages (requirements-extensions.txt)" >&2
    "$VENV/bin/python" -m pip install --disable-pip-version-check --no-input --no-deps -q -r "$HERE/requirements-extensions.txt" >&2
fi

# The SDK's MCP transport (x402.mcp: the `mcp` package and the few dependencies requirements.txt does not
# already pin), installed without dependencies so nothing pinned above moves (see requirements-mcp.txt).
if ! "$VENV/bin/python" -c 'import mcp.server.fastmcp, mcp.client.stdio, x402.mcp' 2>/dev/null; then
    echo "interop setup: installing the SDK's MCP packages (requirements-mcp.txt)" >&2
    "$VENV/bin/python" -m pip install --disable-pip-version-check --no-input --no-deps -q -r "$HERE/requirements-mcp.txt" >&2
fi
