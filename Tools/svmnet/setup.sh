#!/usr/bin/env bash
# Creates the svmnet's Python virtualenv and installs the pinned requirements.
# Idempotent: a stamp (sha256 of requirements.txt + Python version) in the venv
# makes a second run a fast no-op (see Tools/lib/venv.sh).
#
#   Tools/svmnet/setup.sh            # venv at Tools/svmnet/.venv
#   X402_SVMNET_VENV=/tmp/v setup.sh # venv elsewhere
#
# Needs only python3 (>= 3.10) with venv + pip. On Debian/Ubuntu, if the venv
# module is unusable it installs `python3-venv` with apt-get (as root) and says so.
set -euo pipefail

HERE="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
VENV="${X402_SVMNET_VENV:-$HERE/.venv}"
source "$HERE/../lib/venv.sh"

# Fail early if LiteSVM is not importable (e.g. a wheel without it for this platform).
check_litesvm() { "$VENV/bin/python" -c 'from solders.litesvm import LiteSVM; LiteSVM()' >&2; }

ensure_venv svmnet "$VENV" "$HERE/requirements.txt" check_litesvm
