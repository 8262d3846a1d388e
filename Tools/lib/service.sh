# Shared by Tools/devnet and Tools/svmnet start.sh / stop.sh (sourced, not run): one way to start
# a local chain server in the background, wait until it answers, and stop it.
#
#   service_start LABEL PY SCRIPT STATE_DIR PORT STATE_FLAG PROBE_BODY PROBE_CHECK [EXTRA...]
#       Runs `PY SCRIPT --port PORT STATE_FLAG STATE_DIR/LABEL.json EXTRA...` with nohup, its
#       pid in STATE_DIR/LABEL.pid and its output in STATE_DIR/LABEL.log, refusing a port in use
#       or a server already running from STATE_DIR. Waits up to 60 s for the state JSON and for a
#       POST of PROBE_BODY (a JSON-RPC request) to the RPC URL whose answer `r` satisfies the Python
#       expression PROBE_CHECK; then prints the state JSON and the URL as the last line.
#   service_stop LABEL STATE_DIR SCRIPT_NAME
#       SIGTERM to the pid in STATE_DIR/LABEL.pid (if it runs SCRIPT_NAME), 10 s, then SIGKILL.
# Messages go to stderr, prefixed with "LABEL start:" / "LABEL stop:".

service_start() {
    local label="$1" py="$2" script="$3" state_dir="$4" port="$5" state_flag="$6" probe_body="$7" probe_check="$8"
    shift 8
    local hint="${label^^}"
    if ! [[ "$port" =~ ^[0-9]+$ ]] || (( port < 1 || port > 65535 )); then
        echo "$label start: invalid port: $port" >&2; return 2
    fi
    mkdir -p "$state_dir"
    state_dir="$(cd "$state_dir" && pwd)"
    local pidfile="$state_dir/$label.pid" json="$state_dir/$label.json" log="$state_dir/$label.log"
    local name old pid t0 url="http://127.0.0.1:$port"
    name="$(basename "$script")"

    if [[ -f "$pidfile" ]]; then
        old="$(cat "$pidfile" 2>/dev/null || true)"
        if [[ -n "$old" ]] && kill -0 "$old" 2>/dev/null && grep -qa "$name" "/proc/$old/cmdline" 2>/dev/null; then
            echo "$label start: already running from $state_dir (pid $old); stop it with $(dirname "$script")/stop.sh --state-dir $state_dir" >&2
            return 1
        fi
        rm -f "$pidfile"
    fi

    if ! "$py" - "$port" <<'PYEOF'
import socket, sys
s = socket.socket()
s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)  # like the server: ignore TIME_WAIT leftovers
try:
    s.bind(("127.0.0.1", int(sys.argv[1])))
except OSError:
    sys.exit(1)
finally:
    s.close()
PYEOF
    then
        echo "$label start: port $port on 127.0.0.1 is already in use (choose another with --port N or X402_${hint}_PORT)" >&2
        return 1
    fi

    rm -f "$json"
    t0=$(date +%s%N)
    nohup "$py" "$script" --port "$port" "$state_flag" "$json" "$@" >"$log" 2>&1 </dev/null &
    pid=$!
    echo "$pid" > "$pidfile"

    for _ in $(seq 1 600); do
        if ! kill -0 "$pid" 2>/dev/null; then
            echo "$label start: the server exited during start-up; log ($log):" >&2
            tail -n 30 "$log" >&2
            rm -f "$pidfile"
            return 1
        fi
        if [[ -f "$json" ]] && "$py" - "$url" "$probe_body" "$probe_check" <<'PYEOF' 2>/dev/null
import json, sys, urllib.request
req = urllib.request.Request(sys.argv[1], data=sys.argv[2].encode(), headers={"Content-Type": "application/json"})
with urllib.request.urlopen(req, timeout=2) as answer:
    r = json.load(answer)
    sys.exit(0 if eval(sys.argv[3], {}, {"r": r}) else 1)
PYEOF
        then
            cat "$json"
            echo "$label start: pid $pid, server up $(( ($(date +%s%N) - t0) / 1000000 )) ms after launch, state in $json" >&2
            echo "$url"
            return 0
        fi
        sleep 0.1
    done
    echo "$label start: no answer on $url after 60 s; log ($log):" >&2
    tail -n 30 "$log" >&2
    kill "$pid" 2>/dev/null || true
    rm -f "$pidfile"
    return 1
}

service_stop() {
    local label="$1" state_dir="$2" name="$3"
    local pidfile="$state_dir/$label.pid" pid
    if [[ ! -f "$pidfile" ]]; then
        echo "$label stop: not running (no $pidfile)" >&2
        return 0
    fi
    pid="$(cat "$pidfile")"
    if [[ -z "$pid" ]] || ! kill -0 "$pid" 2>/dev/null || ! grep -qa "$name" "/proc/$pid/cmdline" 2>/dev/null; then
        echo "$label stop: not running (stale pid file removed)" >&2
        rm -f "$pidfile"
        return 0
    fi
    kill -TERM "$pid"
    for _ in $(seq 1 100); do
        kill -0 "$pid" 2>/dev/null || break
        sleep 0.1
    done
    if kill -0 "$pid" 2>/dev/null; then
        echo "$label stop: pid $pid did not exit after SIGTERM; sending SIGKILL" >&2
        kill -KILL "$pid" 2>/dev/null || true
    fi
    rm -f "$pidfile"
    echo "$label stop: stopped (pid $pid)" >&2
}
