#!/usr/bin/env bash
# SPDX-License-Identifier: GPL-3.0-or-later
# Fault injection against `sordino run` on a private dummy JACK server, driven as a user would with JACK's own tools.
#
# Usage: Tests/Faults/faults.sh SORDINO [KILLS]
# The daemon runs with a preset copied to a scratch folder, fed by jack_simple_client (a sine), its
# output read by jack_thru. In turn: jackd SIGKILLed and restarted KILLS times (default 10); jackd
# SIGSTOPped for 2 s; the daemon's ports disconnected and reconnected by jack_disconnect /
# jack_connect; the buffer size changed 8 times (jack_bufsize); 20 SIGHUP reloads while another
# process rewrites the preset file (truncated, garbled and whole, in a loop); control clients
# killed mid-request and mid-stream (`sordino ctl` under SIGKILL: reloads, sets, subscriptions,
# and 20 subscribers at once, over the 16-client limit, killed together). After each, the
# daemon must be alive, connected and processing (its status line's sample count grows), and its
# log must name the event. Prints one line per fault; exits 1 on the first that fails.
set -euo pipefail
SORDINO=${1:?usage: faults.sh SORDINO [KILLS]}
KILLS=${2:-10}
SERVER=sordino-faults-$$
WORK=$(mktemp -d)
PRESETS="$WORK/presets"
mkdir -p "$PRESETS"
ROOT=$(cd "$(dirname "$0")/../.." && pwd)
cp "$ROOT"/presets/speech-48k.{json,basis,gain} "$PRESETS/"   # the preset, its basis and its learned gain
export JACK_DEFAULT_SERVER=$SERVER JACK_NO_START_SERVER=1
JACKD=""; DAEMON=""; HELPERS=()
# Stops each process given: SIGTERM, and SIGKILL if it has not ended 3 s later (a JACK client
# closing against a server that is gone can hang in libjack: seen with jack_simple_client after
# the kills below, which left this script waiting for it for ever).
stop() {
    local pid
    for pid in "$@"; do
        kill -TERM "$pid" 2>/dev/null || continue
        for _ in $(seq 30); do kill -0 "$pid" 2>/dev/null || break; sleep 0.1; done
        kill -KILL "$pid" 2>/dev/null || true
    done
}
cleanup() {
    stop "${HELPERS[@]}" $DAEMON $JACKD
    wait 2>/dev/null || true
    rm -rf "$WORK"
}
trap cleanup EXIT
fail() { echo "faults: FAIL: $*"; echo "--- daemon log (last 30 lines)"; tail -30 "$WORK/sordino.log"; exit 1; }

start_jackd() {
    jackd -n "$SERVER" -d dummy -r 48000 -p "${1:-256}" >> "$WORK/jackd.log" 2>&1 &
    JACKD=$!
    jack_wait -w -t 10 > /dev/null 2>&1 || fail "jackd did not start"
}
start_peers() {   # the sine source and the pass-through sink, connected to the daemon's ports
    jack_simple_client > /dev/null 2>&1 & HELPERS+=($!)
    jack_thru > /dev/null 2>&1 & HELPERS+=($!)
}
samples() {   # samples processed, from a status line asked for with SIGUSR1
    kill -USR1 "$DAEMON"; sleep 0.3
    grep -oE '[0-9]+ samples processed' "$WORK/sordino.log" | tail -1 | cut -d' ' -f1
}
expect_processing() {   # $1: what just happened
    kill -0 "$DAEMON" 2>/dev/null || fail "the daemon died after $1"
    local a b; a=$(samples); sleep 1; b=$(samples)
    (( b > a )) || fail "the daemon is not processing after $1 ($a → $b samples)"
    jack_lsp -c "$(jack_lsp | grep -m1 ':in_1$')" 2>/dev/null | grep -q 'jack_simple_client' \
        || fail "in_1 lost its connection to the sine after $1"
}
count() { grep -c -- "$1" "$WORK/sordino.log" || true; }

start_jackd
start_peers
sleep 0.5
# shellcheck disable=SC2086 # RUN_ARGS: more options for `sordino run`, a list (e.g. RUN_ARGS="--hop-work worker")
SORDINO_PRESET_PATH="$PRESETS" "$SORDINO" run --server "$SERVER" --preset speech-48k --report-interval 0 \
    --connect-in 'jack_simple_client:output1' --connect-out 'jack_thru:input_1' --control "$WORK/control.sock" \
    ${RUN_ARGS:-} > "$WORK/sordino.log" 2>&1 &
DAEMON=$!
sleep 2
expect_processing "start"
echo "faults: started, processing"

# 1. jackd SIGKILLed and restarted, with its peers.
for (( i = 1; i <= KILLS; i++ )); do
    kill -KILL "$JACKD"; wait "$JACKD" 2>/dev/null || true
    stop "${HELPERS[@]}"; HELPERS=()
    sleep 0.5
    start_jackd; start_peers
    for _ in $(seq 1 50); do (( $(count 'reconnected to JACK server') >= i )) && break; sleep 0.1; done
    (( $(count 'reconnected to JACK server') >= i )) || fail "no reconnection after kill $i"
    sleep 1.5
    expect_processing "kill $i"
done
echo "faults: jackd SIGKILL + restart: $KILLS of $KILLS reconnected and processing ($(count 'lost (') losses logged)"

# 2. jackd stopped for 2 s, then continued: no loss (the silence rule waits 5 s), processing again.
lost=$(count 'lost (')
kill -STOP "$JACKD"; sleep 2; kill -CONT "$JACKD"; sleep 1
expect_processing "SIGSTOP 2 s"
(( $(count 'lost (') == lost )) || fail "a 2 s stop was taken for a lost server"
echo "faults: jackd SIGSTOP 2 s + SIGCONT: processing, no reconnection"

# 3. Another client disconnects the daemon's ports, then reconnects them.
in1=$(jack_lsp | grep -m1 ':in_1$'); out1=$(jack_lsp | grep -m1 ':out_1$')
jack_disconnect jack_simple_client:output1 "$in1"; jack_disconnect "$out1" jack_thru:input_1
sleep 1; kill -0 "$DAEMON" || fail "the daemon died after its ports were disconnected"
jack_connect jack_simple_client:output1 "$in1"; jack_connect "$out1" jack_thru:input_1
sleep 0.5
expect_processing "disconnect + reconnect by another client"
echo "faults: ports disconnected and reconnected by jack_disconnect/jack_connect: processing"

# 4. Buffer size changed 8 times.
for size in 64 1024 128 32 512 2048 96 256; do
    jack_bufsize "$size" > /dev/null 2>&1 || fail "jack_bufsize $size refused"
    sleep 0.7
    kill -0 "$DAEMON" || fail "the daemon died at buffer size $size"
done
expect_processing "8 buffer-size changes"
changes=$(count 'block length changed')
(( changes >= 8 )) || fail "$changes block-length changes logged, 8 made"
echo "faults: buffer size changed 8 times: $changes changes logged, processing"

# 5. Reloads while the preset file is being rewritten (truncated, garbled, whole).
json="$PRESETS/speech-48k.json"; cp "$json" "$WORK/good.json"
( while :; do
      head -c 300 "$WORK/good.json" > "$json"; sleep 0.01
      sed 's/"floorDecibels"/"floorDecibel"/' "$WORK/good.json" > "$json"; sleep 0.01
      cp "$WORK/good.json" "$json"; sleep 0.02
  done ) & HELPERS+=($!)
writer=${HELPERS[-1]}
before_applied=$(count 'engine reloaded'); before_refused=$(count 'reload refused')
for _ in $(seq 1 20); do kill -HUP "$DAEMON"; sleep 0.15; done
kill -TERM "$writer"; wait "$writer" 2>/dev/null || true
cp "$WORK/good.json" "$json"; sleep 0.5
refused=$(( $(count 'reload refused') - before_refused )); applied=$(( $(count 'engine reloaded') - before_applied ))
expect_processing "20 reloads during rewrites"
[ "$refused" -eq 0 ] || echo "faults: e.g. $(grep -m1 'reload refused' "$WORK/sordino.log" | sed 's/^.*reload refused/reload refused/' | cut -c1-240)"
kill -HUP "$DAEMON"; sleep 1
expect_processing "a reload of the whole file"
echo "faults: 20 reloads while the preset was rewritten: $applied applied, $refused refused with a reason; processing"

# 6. Control clients that vanish: killed (SIGKILL) at random points of a request or a stream.
# `exec`: a background `ctl … &` is then the sordino process itself, not a subshell whose death
# would leave the client running (and connected).
ctl() { exec "$SORDINO" ctl "$@" --control "$WORK/control.sock"; }
killed=0
for i in $(seq 1 60); do
    case $(( i % 3 )) in
        0) (ctl reload > /dev/null 2>&1) & ;;
        1) (ctl set floor-db -$(( 12 + i % 12 )) > /dev/null 2>&1) & ;;
        2) (ctl subscribe --hz 10 > /dev/null 2>&1) & ;;
    esac
    pid=$!
    sleep "0.$(( RANDOM % 5 ))$(( RANDOM % 10 ))"   # 0–0.49 s: before, during or after the request
    kill -KILL "$pid" 2>/dev/null && killed=$(( killed + 1 )); wait "$pid" 2>/dev/null || true
done
subscribers=()
for _ in $(seq 1 20); do (ctl subscribe --hz 10 > /dev/null 2>&1) & subscribers+=($!); done
sleep 1
kill -KILL "${subscribers[@]}" 2>/dev/null || true; wait "${subscribers[@]}" 2>/dev/null || true
# A status must be answered within 30 s, and a set after it (a refusal at the 16-client limit,
# while the server has not yet seen every hang-up, is retried; refused tries are reported).
tries=0
while ! answered=$(timeout 5 "$SORDINO" ctl status --json --control "$WORK/control.sock" 2>&1); do
    tries=$(( tries + 1 )); (( tries < 60 )) || break
    sleep 0.5
done
if (( tries < 60 )) && grep -q '"connected":true' <<< "$answered" \
    && timeout 5 "$SORDINO" ctl set floor-db -18 --control "$WORK/control.sock" > /dev/null; then
    echo "faults: 60 control clients killed mid-request or mid-stream ($killed of them still running when killed) and 20 subscribers at once killed together: status answered (after $tries refused tries) and set, processing"
else
    fail "ctl status/set after the killed clients ($tries refused tries in 30 s): $answered"
fi
expect_processing "control clients killed mid-request"

kill -TERM "$DAEMON"; wait "$DAEMON" || fail "the daemon exited with $? on SIGTERM"
DAEMON=""
echo "faults: passed"
