# Checks, within seconds and before any build, what the newcomer commands (scripts/demo,
# scripts/test) need from the machine, installs what it can, and otherwise stops at once with the
# exact command to run. Sourced; call `x402_prerequisites [extra...]`.
#
# Always needed: the Swift toolchain, pkg-config and libsecp256k1 (linked by X402EVM), python3 with
# venv (the local chains are Python), curl.
# Extras: `postgres` (a PostgreSQL server binary, for the multi-instance tests),
#         `chromium` (headless Chromium, for the paywall browser test). Outside CI a missing extra
#         that cannot be installed is reported and its tests are skipped; with CI=true it stops.
#
# Installs with apt-get when it can: as root, or with passwordless sudo. X402_NO_INSTALL=1 only
# reports. On macOS it names the Homebrew packages.

_prereq_log() { printf 'prerequisites: %s\n' "$*" >&2; }

# Debian package names for what is missing, filled by the checks below.
_prereq_missing_apt=()
_prereq_missing_brew=()
_prereq_missing_other=()
_prereq_missing_optional=()

_prereq_need() {  # APT-NAME BREW-NAME WHAT
    _prereq_missing_apt+=("$1")
    [[ -n "$2" ]] && _prereq_missing_brew+=("$2")
    _prereq_log "missing: $3"
}

_prereq_check() {
    _prereq_missing_apt=() _prereq_missing_brew=() _prereq_missing_other=() _prereq_missing_optional=()
    if ! command -v swift >/dev/null 2>&1; then
        _prereq_missing_other+=("the Swift toolchain 6.x (https://www.swift.org/install), then make sure 'swift' is on PATH")
        _prereq_log "missing: swift (the Swift toolchain)"
    fi
    command -v pkg-config >/dev/null 2>&1 || _prereq_need pkg-config pkg-config "pkg-config"
    if ! pkg-config --exists libsecp256k1 2>/dev/null; then
        _prereq_need libsecp256k1-dev secp256k1 "libsecp256k1 with its headers (secp256k1.h) and pkg-config file"
    fi
    command -v curl >/dev/null 2>&1 || _prereq_need curl curl "curl"
    if ! command -v python3 >/dev/null 2>&1; then
        _prereq_need python3 python@3.12 "python3 (3.10 or newer)"
        _prereq_missing_apt+=(python3-venv)
    elif ! python3 -c 'import sys; sys.exit(0 if sys.version_info >= (3, 10) else 1)' 2>/dev/null; then
        _prereq_missing_other+=("python3 3.10 or newer (found $(python3 -V 2>&1)); set PYTHON=/path/to/python3.x")
        _prereq_log "python3 is older than 3.10"
    elif ! python3 -c 'import ensurepip, venv' >/dev/null 2>&1; then
        _prereq_need python3-venv "" "the python3 venv module (python3-venv)"
    fi
    local extra
    for extra in "$@"; do
        case "$extra" in
            postgres)
                if ! ls /usr/lib/postgresql/*/bin/postgres >/dev/null 2>&1 && ! command -v postgres >/dev/null 2>&1; then
                    _prereq_need postgresql postgresql@16 "a PostgreSQL server (for the multi-instance tests)"
                    _prereq_missing_optional+=(postgresql)
                fi ;;
            chromium)
                if ! command -v chromium-headless-shell >/dev/null 2>&1 && ! command -v chromium >/dev/null 2>&1; then
                    _prereq_need chromium-headless-shell "" "headless Chromium (for the paywall browser test)"
                    _prereq_missing_optional+=(chromium-headless-shell)
                fi ;;
            *) _prereq_log "unknown extra '$extra' (ignored)" ;;
        esac
    done
}

x402_prerequisites() {
    _prereq_check "$@"
    if (( ${#_prereq_missing_apt[@]} )) && [[ "${X402_NO_INSTALL:-0}" != 1 ]] && command -v apt-get >/dev/null 2>&1; then
        local sudo=()
        if [[ $(id -u) -ne 0 ]]; then
            if command -v sudo >/dev/null 2>&1 && sudo -n true 2>/dev/null; then sudo=(sudo -n); else sudo=(); fi
        fi
        if [[ $(id -u) -eq 0 || ${#sudo[@]} -gt 0 ]]; then
            _prereq_log "installing with apt-get: ${_prereq_missing_apt[*]}"
            if "${sudo[@]}" apt-get update -qq >&2 \
                && DEBIAN_FRONTEND=noninteractive "${sudo[@]}" apt-get install -y -qq --no-install-recommends \
                    "${_prereq_missing_apt[@]}" >&2; then
                _prereq_check "$@"
            else
                _prereq_log "apt-get install failed"
            fi
        fi
    fi
    if (( ${#_prereq_missing_apt[@]} + ${#_prereq_missing_other[@]} == 0 )); then
        return 0
    fi
    if [[ "${CI:-}" != true && ${#_prereq_missing_other[@]} -eq 0 \
          && ${#_prereq_missing_apt[@]} -eq ${#_prereq_missing_optional[@]} ]]; then
        _prereq_log "continuing without: ${_prereq_missing_optional[*]} (the tests that need it are skipped; CI=true would stop here)"
        _prereq_log "to run them too:    sudo apt-get install -y ${_prereq_missing_optional[*]}"
        return 0
    fi
    _prereq_log "cannot continue; install what is missing, then run this again:"
    if (( ${#_prereq_missing_apt[@]} )); then
        if [[ "$(uname -s)" == Darwin ]]; then
            (( ${#_prereq_missing_brew[@]} )) && printf '    brew install %s\n' "${_prereq_missing_brew[*]}" >&2
        else
            printf '    sudo apt-get install -y %s\n' "${_prereq_missing_apt[*]}" >&2
        fi
    fi
    local item
    for item in "${_prereq_missing_other[@]}"; do printf '    %s\n' "$item" >&2; done
    return 1
}
