# Shared by Tools/devnet/setup.sh and Tools/interop/setup.sh (sourced, not run).
#
#   ensure_venv LABEL VENV REQUIREMENTS [POST_INSTALL]
#
# Creates the virtualenv VENV with the pinned REQUIREMENTS, then runs the shell function
# POST_INSTALL (if given) and writes a stamp (sha256 of REQUIREMENTS + the Python version) to
# VENV/.x402-LABEL-stamp; while the stamp matches, a call is a fast no-op. Needs python3 (>= 3.10,
# `$PYTHON` to choose another) with venv + pip; on Debian/Ubuntu as root it installs python3-venv
# if the venv module is unusable, and says so. Every message goes to stderr.

ensure_venv() {
    local label="$1" venv="$2" req="$3" post_install="${4:-}"
    local py="${PYTHON:-python3}"
    _venv_log() { echo "$label setup: $*" >&2; }

    if ! command -v "$py" >/dev/null 2>&1; then
        _venv_log "python3 not found; install it first (Debian: apt-get install python3 python3-venv)"
        exit 1
    fi

    local pyver stamp_value stamp_file
    pyver="$("$py" -V 2>&1)"  # e.g. "Python 3.11.2" (fast: no interpreter start-up)
    stamp_value="$( { cat "$req"; echo "$pyver"; } | sha256sum | cut -d' ' -f1)"
    stamp_file="$venv/.x402-$label-stamp"
    if [[ -x "$venv/bin/python" && -f "$stamp_file" && "$(cat "$stamp_file")" == "$stamp_value" ]]; then
        return 0  # up to date
    fi

    if ! "$py" -c 'import sys; sys.exit(0 if sys.version_info >= (3, 10) else 1)'; then
        _venv_log "$pyver is too old (need >= 3.10)"
        exit 1
    fi

    if [[ ! -x "$venv/bin/python" ]] || ! "$venv/bin/python" -m pip --version >/dev/null 2>&1; then
        _venv_log "creating virtualenv at $venv"
        local errfile
        errfile="$(mktemp)"
        if ! { rm -rf "$venv" && "$py" -m venv "$venv"; } 2>"$errfile"; then
            if grep -qi "ensurepip\|venv" "$errfile" && command -v apt-get >/dev/null 2>&1 && [[ "$(id -u)" == "0" ]]; then
                local minor
                minor="$("$py" -c 'import sys; print("python3.%d-venv" % sys.version_info[1])')"
                _venv_log "python venv module unusable; installing Debian package(s): python3-venv ($minor as fallback)"
                apt-get update -qq >&2 || true
                DEBIAN_FRONTEND=noninteractive apt-get install -y -qq python3-venv >&2 \
                    || DEBIAN_FRONTEND=noninteractive apt-get install -y -qq "$minor" >&2
                rm -rf "$venv"
                "$py" -m venv "$venv"
            else
                cat "$errfile" >&2
                rm -f "$errfile"
                _venv_log "cannot create a venv; on Debian/Ubuntu install python3-venv (apt-get install python3-venv)"
                exit 1
            fi
        fi
        rm -f "$errfile"
    fi

    _venv_log "installing pinned requirements into $venv (one-time, ~1 min)"
    "$venv/bin/python" -m pip install --disable-pip-version-check --no-input -q -r "$req" >&2
    if [[ -n "$post_install" ]]; then "$post_install"; fi

    echo "$stamp_value" > "$stamp_file"
    _venv_log "ready ($venv)"
}
