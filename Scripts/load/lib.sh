# Shared by the load scenarios: find the binary, raise the descriptor limit, start a
# release server on an ephemeral port when no URL is given, say what the machine is.
# Sourced, not run.

set -euo pipefail
ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)"
CONFAB="${CONFAB_BINARY:-$ROOT/.build/release/confab}"
# The server reads every CONFAB_* variable as configuration and refuses unknown ones.
unset CONFAB_BINARY
if [[ ! -x "$CONFAB" ]]; then
    echo "no binary at $CONFAB: run 'swift build -c release' or set CONFAB_BINARY" >&2
    exit 69
fi

# Both the server and the load generator need a descriptor per connection.
ulimit -n "$(ulimit -Hn)" 2>/dev/null || true

SERVER_PID=""
# Every process a scenario started (servers, redis-server): stopped at exit.
STARTED_PIDS=()
WORKDIR="$(mktemp -d -t confab-load.XXXXXX)"
cleanup() {
    local pid
    for pid in ${STARTED_PIDS[@]+"${STARTED_PIDS[@]}"}; do kill -TERM "$pid" 2>/dev/null || true; done
    for pid in ${STARTED_PIDS[@]+"${STARTED_PIDS[@]}"}; do
        for _ in $(seq 1 100); do kill -0 "$pid" 2>/dev/null || break; sleep 0.1; done
        kill -KILL "$pid" 2>/dev/null || true
    done
    rm -rf "$WORKDIR"
}
trap cleanup EXIT INT TERM

# A server that lets the load through: no practical rate limit (the default of 5 msg/s per
# user would refuse the senders), room for many connections from one address and rooms.
LOAD_CONFIG='server:
  maxConnections: 30000
  maxConnectionsPerIP: 30000
chat:
  maxRooms: 10000
  roomCapacity: 30000
  rate:
    perSecond: 1000000
    burst: 1000000
log:
  level: warning
'

# launch_server NAME CONFIG: starts `confab serve --port 0` with the YAML text CONFIG in
# $WORKDIR/NAME (its log: server.log there); sets LAUNCHED_URL and LAUNCHED_PID from its banner.
# SERVER_PREFIX (an array, e.g. (taskset -c 0)) goes before the command; it must exec it.
launch_server() {
    local dir="$WORKDIR/$1"
    mkdir -p "$dir"
    printf '%s' "$2" > "$dir/confab.yaml"
    mkfifo "$dir/banner"
    ${SERVER_PREFIX[@]+"${SERVER_PREFIX[@]}"} "$CONFAB" serve --host 127.0.0.1 --port 0 --config "$dir/confab.yaml" \
        > "$dir/banner" 2> "$dir/server.log" &
    LAUNCHED_PID=$!
    STARTED_PIDS+=("$LAUNCHED_PID")
    local line=""
    # The banner is the first stdout line: `confab 0.1.0 listening on http://127.0.0.1:PORT (...)`.
    if ! read -r -t 15 line < "$dir/banner"; then
        echo "the server $1 did not start; its log:" >&2
        cat "$dir/server.log" >&2
        exit 69
    fi
    local port
    port="$(sed -n 's|^confab [^ ]* listening on http://127\.0\.0\.1:\([0-9]*\) (WebSocket at \([^ ,)]*\).*|\1 \2|p' <<< "$line")"
    [[ -n "$port" ]] || { echo "unexpected banner: $line" >&2; exit 69; }
    LAUNCHED_URL="ws://127.0.0.1:${port% *}${port#* }"
}

# start_server: starts a server with LOAD_CONFIG and sets URL and SERVER_PID.
start_server() {
    launch_server server "$LOAD_CONFIG"
    SERVER_PID="$LAUNCHED_PID"
    URL="$LAUNCHED_URL"
    echo "server: $CONFAB (pid $SERVER_PID) at $URL"
}

# server_rss_kb: the server's resident memory in KiB (VmRSS), when we started it.
server_rss_kb() {
    awk '/^VmRSS:/ {print $2}' "/proc/$SERVER_PID/status"
}

# cpu_ticks [PID]: user+system CPU of a process (default: the server) so far, in clock ticks
# (/proc/PID/stat; the command name in field 2 has no spaces for the processes we start).
cpu_ticks() {
    awk '{print $14 + $15}' "/proc/${1:-$SERVER_PID}/stat"
}

# run_load ARGS...: runs confab load (bounded to 60 s); prints the server's CPU over the
# run when we started the server.
run_load() {
    local before=0 status=0
    [[ -n "$SERVER_PID" ]] && before="$(cpu_ticks)"
    local start=$SECONDS
    timeout 60 "$CONFAB" load "$@" || status=$?
    if [[ -n "$SERVER_PID" ]]; then
        local ticks=$(( $(cpu_ticks) - before )) hz
        hz="$(getconf CLK_TCK)"
        awk -v t="$ticks" -v hz="$hz" -v s="$(( SECONDS - start ))" 'BEGIN {
            printf "server CPU       %.2f s over ~%d s of run\n", t / hz, s }'
    fi
    return "$status"
}

# watch_args: PID_ARGS=(--server-pid PID) for the server we started, or WATCH_PID's.
watch_args() {
    PID_ARGS=()
    if [[ -n "$SERVER_PID" ]]; then PID_ARGS=(--server-pid "$SERVER_PID")
    elif [[ -n "${WATCH_PID:-}" ]]; then PID_ARGS=(--server-pid "$WATCH_PID")
    else echo "server CPU and memory: not read (a server we did not start; WATCH_PID=PID reads it)"
    fi
}

# verdict NAME STATUS BOUND: says PASS or why not from confab load's exit status (3: its
# verdict was a fail; 124/137: stopped at BOUND s) and exits 0 or 1.
verdict() {
    case "$2" in
        0) echo "$1: PASS" ;;
        3) echo "$1: FAIL (see the verdict above)" ;;
        124 | 137) echo "$1: FAIL — confab load did not finish within $3 s and was stopped" ;;
        1) echo "$1: FAIL — no connection could be made" ;;
        *) echo "$1: FAIL — confab load exited with status $2" ;;
    esac
    exit $(( $2 == 0 ? 0 : 1 ))
}

machine() {
    local cpu mem
    cpu="$(awk -F': ' '/^model name/ {print $2; exit}' /proc/cpuinfo)"
    mem="$(awk '/^MemTotal:/ {printf "%.1f GiB", $2 / 1048576}' /proc/meminfo)"
    echo "machine: $(nproc) CPUs ($cpu), $mem RAM, $(uname -sr), descriptors $(ulimit -n)"
    echo "load average before: $(cut -d' ' -f1-3 /proc/loadavg) (other work on the machine skews latency)"
}

# setup_scenario "$@": URL from the first argument, else a fresh server.
setup_scenario() {
    machine
    if [[ $# -ge 1 && "$1" == ws://* ]]; then
        URL="$1"
        echo "server: $URL (given)"
    else
        start_server
    fi
}

# Load threads: leave at least one core to the server's single event loop.
THREADS="${THREADS:-$(( $(nproc) > 2 ? $(nproc) / 2 : 1 ))}"
