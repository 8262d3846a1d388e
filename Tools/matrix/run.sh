#!/usr/bin/env bash
# Interop matrix driver: client x server x facilitator in {Swift, Python SDK x402==2.25.0}, v2 and v1,
# on a running EVM devnet and/or Solana svmnet. Exit status 0 only if every applicable row passed.
# See Tools/matrix/README.md.
#
#   Tools/matrix/run.sh --rpc-url http://127.0.0.1:8545 --state .devnet-run/x \
#       --svm-rpc-url http://127.0.0.1:8899 --svm-state .svmnet-run/x/svmnet.json --bin .build/debug [options]
#
# --rpc-url / --state default to $X402_DEVNET_URL / $X402_DEVNET_STATE, --svm-rpc-url / --svm-state to
# $X402_SVMNET_URL / $X402_SVMNET_STATE; a chain without a URL is left out (or name them: --chains evm,solana).
# Other options: --versions v2,v1, --only REGEX (on "chain:client/server/facilitator"),
# --port-min/--port-max (default 18600-18699), --role NAME=TEMPLATE (solana.NAME for Solana), --keep-logs.
set -euo pipefail
here="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
root="$(cd "$here/../.." && pwd)"
"$root/Tools/interop/setup.sh" >&2
venv="${X402_INTEROP_VENV:-$root/Tools/interop/.venv}"
exec "$venv/bin/python" "$here/matrix.py" "$@"
