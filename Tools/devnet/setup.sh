#!/usr/bin/env bash
# Creates the devnet's Python virtualenv and installs the pinned requirements.
# Idempotent: a stamp (sha256 of requirements.txt + Python version) in the venv
# makes a second run a fast no-op (see Tools/lib/venv.sh).
#
#   Tools/devnet/setup.sh            # venv at Tools/devnet/.venv
#   X402_DEVNET_VENV=/tmp/v setup.sh # venv elsewhere
#
# Needs only python3 (>= 3.10) with venv + pip. On Debian/Ubuntu, if the venv
# module is unusable it installs `python3-venv` with apt-get (as root) and says so.
set -euo pipefail

HERE="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
VENV="${X402_DEVNET_VENV:-$HERE/.venv}"
source "$HERE/../lib/venv.sh"

# Compile the contracts once so the first start is fast (cached in .cache/).
compile_contracts() { "$VENV/bin/python" "$HERE/devnet.py" --compile-only >&2; }

ensure_venv devnet "$VENV" "$HERE/requirements.txt" compile_contracts
