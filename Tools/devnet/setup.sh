#!/usr/bin/env bash
# Creates the devnet's Python virtualenv and installs the pinned requirements.
# Idempotent: a stamp (sha256 of requirements.txt + Python version) in the venv
# makes a second run a fast no-op.
#
#   Tools/devnet/setup.sh            # venv at Tools/devnet/.venv
#   X402_DEVNET_VENV=/tmp/v setup.sh # venv elsewhere
#
# Needs only python3 (>= 3.10) with venv + pip. On Debian/Ubuntu, if the venv
# module is unusable it installs `python3-venv` with apt-get (as root) and says so.
set -euo pipefail

HERE="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
VENV="${X402_DEVNET_VENV:-$HERE/.venv}"
REQ="$HERE/requirements.txt"
PY="${PYTHON:-python3}"

log() { echo "devnet setup: $*" >&2; }

if ! command -v "$PY" >/dev/null 2>&1; then
    log "python3 not found; install it first (Debian: apt-get install python3 python3-venv)"
    exit 1
fi

pyver="$("$PY" -V 2>&1)"  # e.g. "Python 3.11.2" (fast: no interpreter start-up)
stamp_value="$( { cat "$REQ"; echo "$pyver"; } | sha256sum | cut -d' ' -f1)"
stamp_file="$VENV/.x402-devnet-stamp"

if [[ -x "$VENV/bin/python" && -f "$stamp_file" && "$(cat "$stamp_file")" == "$stamp_value" ]]; then
    exit 0  # up to date
fi

if ! "$PY" -c 'import sys; sys.exit(0 if sys.version_info >= (3, 10) else 1)'; then
    log "$pyver is too old (need >= 3.10)"
    exit 1
fi

make_venv() {
    rm -rf "$VENV"
    "$PY" -m venv "$VENV"
}

if [[ ! -x "$VENV/bin/python" ]] || ! "$VENV/bin/python" -m pip --version >/dev/null 2>&1; then
    log "creating virtualenv at $VENV"
    if ! make_venv 2>/tmp/x402-devnet-venv.err; then
        if grep -qi "ensurepip\|venv" /tmp/x402-devnet-venv.err && command -v apt-get >/dev/null 2>&1 \
                && [[ "$(id -u)" == "0" ]]; then
            pkg="python3-venv"
            minor="$("$PY" -c 'import sys; print("python3.%d-venv" % sys.version_info[1])')"
            log "python venv module unusable; installing Debian package(s): $pkg $minor"
            apt-get update -qq >&2 || true
            DEBIAN_FRONTEND=noninteractive apt-get install -y -qq "$pkg" >&2 \
                || DEBIAN_FRONTEND=noninteractive apt-get install -y -qq "$minor" >&2
            make_venv
        else
            cat /tmp/x402-devnet-venv.err >&2
            log "cannot create a venv; on Debian/Ubuntu install python3-venv (apt-get install python3-venv)"
            exit 1
        fi
    fi
fi

log "installing pinned requirements into $VENV (one-time, ~1 min)"
"$VENV/bin/python" -m pip install --disable-pip-version-check --no-input -q -r "$REQ"

# Compile the contracts once so the first start is fast (cached in .cache/).
"$VENV/bin/python" "$HERE/devnet.py" --compile-only

echo "$stamp_value" > "$stamp_file"
log "ready ($VENV)"
