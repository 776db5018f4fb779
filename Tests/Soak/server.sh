# SPDX-License-Identifier: GPL-3.0-or-later
# Sourced by soak.sh and phases.sh: a private 48 kHz / 64-frame dummy JACK server fed by jack_simple_client's sine, torn down on exit.
#
# Expects NAME (the script's name, for messages and the server's name). Defines WORK (a temporary
# folder, removed on exit; jackd's log is $WORK/jackd.log), PIDS (processes stopped on exit: add
# yours), SERVER, and xruns (jackd's "XRun" lines so far); exports JACK_DEFAULT_SERVER.
SERVER=sordino-$NAME-$$
WORK=$(mktemp -d)
PIDS=()
cleanup() {
    for pid in "${PIDS[@]}"; do kill -TERM "$pid" 2>/dev/null || true; done
    wait 2>/dev/null || true
    rm -rf "$WORK"
}
trap cleanup EXIT
jackd -n "$SERVER" -d dummy -r 48000 -p 64 > "$WORK/jackd.log" 2>&1 &
PIDS+=("$!")
export JACK_DEFAULT_SERVER=$SERVER JACK_NO_START_SERVER=1
jack_wait -w -t 10 > /dev/null || { echo "$NAME: jackd did not start"; cat "$WORK/jackd.log"; exit 1; }
jack_simple_client > /dev/null 2>&1 &   # a sine on jack_simple_client:output1
PIDS+=("$!")
sleep 1
xruns() { grep -c 'XRun' "$WORK/jackd.log" || true; }
