# SPDX-License-Identifier: GPL-3.0-or-later
# Sourced by soak.sh and phases.sh: private 48 kHz / 64-frame dummy JACK servers, each fed by jack_simple_client's sine, torn down on exit.
#
# Expects NAME (the script's name, for messages and server names). Defines WORK (a temporary folder,
# removed on exit), PIDS (processes stopped on exit, clients before servers: add yours),
# start_server SUFFIX (starts the server sordino-NAME-PID-SUFFIX with its sine; its log is
# $WORK/SUFFIX.log and its name is left in SERVER) and xruns SUFFIX (that server's "XRun" lines so far).
WORK=$(mktemp -d)
PIDS=()
# Clients first, the servers last (a client closing against a server already gone can hang), and
# whatever has not ended 3 s after SIGTERM is killed.
cleanup() {
    local i pid
    for (( i = ${#PIDS[@]} - 1; i >= 0; i-- )); do
        pid=${PIDS[i]}
        kill -TERM "$pid" 2>/dev/null || continue
        for _ in $(seq 30); do kill -0 "$pid" 2>/dev/null || break; sleep 0.1; done
        kill -KILL "$pid" 2>/dev/null || true
    done
    wait 2>/dev/null || true
    rm -rf "$WORK"
}
trap cleanup EXIT
export JACK_NO_START_SERVER=1
start_server() {
    SERVER=sordino-$NAME-$$-$1
    jackd -n "$SERVER" -d dummy -r 48000 -p 64 > "$WORK/$1.log" 2>&1 &
    PIDS+=("$!")
    JACK_DEFAULT_SERVER=$SERVER jack_wait -w -t 10 > /dev/null 2>&1 || { echo "$NAME: jackd did not start"; cat "$WORK/$1.log"; exit 1; }
    JACK_DEFAULT_SERVER=$SERVER jack_simple_client > /dev/null 2>&1 &   # a sine on jack_simple_client:output1
    PIDS+=("$!")
    sleep 1
}
xruns() { grep -c 'XRun' "$WORK/$1.log" || true; }
