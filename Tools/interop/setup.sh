#!/usr/bin/env bash
# Creates the interop harness's Python virtualenv (the official x402 SDK 2.25.0
# and its pinned dependencies). Idempotent: a stamp (sha256 of requirements.txt
# + Python version) inside the venv makes a second run a ~0.1 s no-op.
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
REQ="$HERE/requirements.txt"
PY="${PYTHON:-python3}"

log() { echo "interop setup: $*" >&2; }

if ! command -v "$PY" >/dev/null 2>&1; then
    log "python3 not found; install it first (Debian: apt-get install python3 python3-venv)"
    exit 1
fi

pyver="$("$PY" -V 2>&1)"  # e.g. "Python 3.11.2"
stamp_value="$( { cat "$REQ"; echo "$pyver"; } | sha256sum | cut -d' ' -f1)"
stamp_file="$VENV/.x402-interop-stamp"

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

errfile="$(mktemp)"
trap 'rm -f "$errfile"' EXIT

if [[ ! -x "$VENV/bin/python" ]] || ! "$VENV/bin/python" -m pip --version >/dev/null 2>&1; then
    log "creating virtualenv at $VENV"
    if ! make_venv 2>"$errfile"; then
        if grep -qi "ensurepip\|venv" "$errfile" && command -v apt-get >/dev/null 2>&1 \
                && [[ "$(id -u)" == "0" ]]; then
            minor="$("$PY" -c 'import sys; print("python3.%d-venv" % sys.version_info[1])')"
            log "python venv module unusable; installing Debian package(s): python3-venv ($minor as fallback)"
            apt-get update -qq >&2 || true
            DEBIAN_FRONTEND=noninteractive apt-get install -y -qq python3-venv >&2 \
                || DEBIAN_FRONTEND=noninteractive apt-get install -y -qq "$minor" >&2
            make_venv
        else
            cat "$errfile" >&2
            log "cannot create a venv; on Debian/Ubuntu install python3-venv (apt-get install python3-venv)"
            exit 1
        fi
    fi
fi

log "installing pinned requirements into $VENV (one-time, ~1 min)"
"$VENV/bin/python" -m pip install --disable-pip-version-check --no-input -q -r "$REQ" >&2
# Fail early if the SDK is not importable as the harness uses it.
"$VENV/bin/python" -c 'import x402, x402.mechanisms.evm.exact, x402.http.middleware.fastapi, x402.http.clients, uvicorn, coincurve' >&2

echo "$stamp_value" > "$stamp_file"
log "ready ($VENV)"
