#!/usr/bin/env bash
# SPDX-License-Identifier: GPL-3.0-or-later
# Soak: the daemon at 48 kHz, 64-frame periods on a private dummy JACK server for MINUTES, steered every second, beside a pass-through client on the same server and on twin servers.
#
# Usage: Tests/Soak/soak.sh SORDINO MINUTES [PRESET]
# RUN_ARGS: more options for `sordino run` (e.g. RUN_ARGS="--hop-work spread").
# Three identical servers (48 kHz, 64 frames, dummy driver) run side by side, each fed by
# jack_simple_client: on the middle one, `SORDINO run` and jack_thru (JACK's pass-through example)
# side by side, both fed the sine, while a control client (`sordino ctl`) changes a parameter every
# second (the floor, and every 5 s the mask exponent) and reloads the preset every RELOAD_EVERY
# seconds (default 10; a rebuild and a swap of the engine); on the other two, two jack_thru each
# (graphs of the same size, so the three servers' totals compare).
# An xrun is a cycle the server reports as failed: its "Process error" (a client had not finished)
# or its driver's "XRun = N usec" (the cycle began too late); jackd prints one more line per client
# that had not finished, so lines would count a two-client failure twice. For each xrun jackd names
# the clients that had not finished and their state: "Running" (inside its process callback when
# the cycle's time was up) or "finished after current callback"; "Triggered" means it had been
# woken but not yet scheduled (the server or the machine was late, not the client).
# A client's xruns are those jackd attributes to it (Running or finished late); Sordino's also
# count, with RUN_ARGS="--hop-work worker", each period the daemon played as silence because its
# worker was late (a glitch the server never sees).
# Fails (exit 1) if Sordino has more xruns than the pass-through client on the same server by more
# than XRUN_SLACK_PERCENT (default 0) percent plus XRUN_SLACK (default 2) (JUDGE_XRUNS=0 reports
# without judging), if the daemon dies or a control request fails, or if the daemon's private
# memory (RssAnon) grew by more than 1024 kB between the end of its first minute (or of its first
# half, for runs shorter than two minutes) and the end. Reported beside them: every server's failed
# cycles (the twin servers' totals differ from each other too: that difference is the machine's
# noise) and the daemon's own count of callbacks longer than the period (its overruns).
set -euo pipefail
SORDINO=${1:?usage: soak.sh SORDINO MINUTES [PRESET]}
MINUTES=${2:?usage: soak.sh SORDINO MINUTES [PRESET]}
PRESET=${3:-speech-48k}
RELOAD_EVERY=${RELOAD_EVERY:-10}   # seconds between reloads; 0: none
XRUN_SLACK=${XRUN_SLACK:-2}
XRUN_SLACK_PERCENT=${XRUN_SLACK_PERCENT:-0}
JUDGE_XRUNS=${JUDGE_XRUNS:-1}   # 0: report the xrun counts, do not fail on them
DURATION=$(awk -v m="$MINUTES" 'BEGIN { printf "%d", m * 60 }')
(( DURATION >= 20 )) || { echo "soak: MINUTES must be at least 1/3 (20 s)"; exit 64; }
FIRST_MARK=$(( DURATION >= 120 ? 60 : DURATION / 2 ))
NAME=soak
# shellcheck source=Tests/Soak/server.sh
source "$(dirname "$0")/server.sh"
# xruns the server $1 attributes to its client $2: it was inside its callback, or finished late.
# xrun events (failed cycles) of server $1 so far.
events() { grep -cE 'Process error|JackTimedDriver::Process XRun' "$WORK/$1.log" || true; }
attributed() { grep -cE "XRun: client( = $2 was not finished, state = Running| $2 finished after current callback)" "$WORK/$1.log" || true; }
rss_anon() { awk '/^RssAnon:/ { print $2 }' "/proc/$1/status"; }

# A pass-through client on server $SERVER, fed the sine; its JACK name is jack_thru, then jack_thru-01.
pass_through() {
    JACK_DEFAULT_SERVER=$SERVER jack_thru > /dev/null 2>&1 &
    PIDS+=("$!")
    sleep 1
    JACK_DEFAULT_SERVER=$SERVER jack_connect jack_simple_client:output1 "$1:input_1"
}
# A reference server: two pass-through clients, as many as Sordino's server has clients.
reference_server() {
    start_server "$1"
    pass_through jack_thru
    pass_through jack_thru-01
}
reference_server reference

# Sordino on the second server, steered every second; the second reference after it.
start_server sordino
CONTROL="$WORK/control.sock"
ctl() { "$SORDINO" ctl "$1" --control "$CONTROL" "${@:2}" > /dev/null 2>> "$WORK/ctl.log" || changes_failed=$(( changes_failed + 1 )); }
changes_failed=0
# shellcheck disable=SC2086 # RUN_ARGS is a list of options
"$SORDINO" run --server "$SERVER" --preset "$PRESET" --report-interval 10 --connect-in 'jack_simple_client:output1' \
    --control "$CONTROL" ${RUN_ARGS:-} > "$WORK/daemon.log" 2>&1 &
DAEMON=$!; PIDS+=("$DAEMON")
for _ in $(seq 1 50); do grep -q 'processing\|running' "$WORK/daemon.log" && break; sleep 0.2; done
# The pass-through beside Sordino, on its server; then the second reference.
pass_through jack_thru
reference_server control
reference_before=$(events reference); control_before=$(events control); before=$(events sordino)
own_before=$(attributed sordino sordino); beside_before=$(attributed sordino jack_thru)
first=""; reloads=0; changes=0
for (( s = 1; s <= DURATION; s++ )); do
    sleep 1
    kill -0 "$DAEMON" 2>/dev/null || { echo "soak: sordino died"; cat "$WORK/daemon.log"; exit 1; }
    ctl set floor-db $(( s % 2 == 0 ? -12 : -18 )); changes=$(( changes + 1 ))
    if (( s % 5 == 0 )); then ctl set mask-exponent $(( s % 10 == 0 ? 1 : 2 )); changes=$(( changes + 1 )); fi
    if (( RELOAD_EVERY > 0 && s % RELOAD_EVERY == 0 )); then ctl reload; reloads=$(( reloads + 1 )); fi
    (( s == FIRST_MARK )) && first=$(rss_anon "$DAEMON")
done
last=$(rss_anon "$DAEMON")
server_total=$(( $(events sordino) - before )); reference=$(( $(events reference) - reference_before ))
control=$(( $(events control) - control_before ))
own=$(( $(attributed sordino sordino) - own_before )); beside=$(( $(attributed sordino jack_thru) - beside_before ))
kill -USR1 "$DAEMON"; sleep 0.5
kill -TERM "$DAEMON"; wait "$DAEMON" || { echo "soak: sordino exited with $?"; tail -20 "$WORK/daemon.log"; exit 1; }
status=$(grep -E 'running: xruns' "$WORK/daemon.log" | tail -1 || true)
callback=$(sed -nE 's/.*(callback p50 [^,]* over [0-9]+ cycles).*/\1/p' <<< "$status")
swaps=$(sed -nE 's/.* ([0-9]+) engine swaps.*/\1/p' <<< "$status")
# Callbacks of the daemon that took longer than the period (its own count, since it started).
overruns=$(sed -nE 's/.* ([0-9]+) callbacks over the period.*/\1/p' <<< "$status")
# With --hop-work worker: periods that played silence because the worker was late. Each is a
# glitch of Sordino's making that the server never sees, so it counts as one of its xruns.
late=$(sed -nE 's/.*hop worker[^:]*: ([0-9]+) cycles late.*/\1/p' <<< "$status")
enhanced=$(( own + ${late:-0} ))
growth=$(( last - first ))
# The longest callback of any status interval, in whole µs: reported, not judged (it is wall-clock
# time, and a thread without real-time priority is preempted mid-callback on a busy machine).
longest=$(grep -oE 'max [0-9.]+ µs over' "$WORK/daemon.log" | awk '{ if ($2 > m) m = $2 } END { printf "%d", m }')
echo "soak: failed cycles in the same $DURATION s: $server_total on Sordino's server, $reference and $control on the pass-through servers"
echo "soak: sordino ($PRESET, 48 kHz, 64 frames${RUN_ARGS:+, $RUN_ARGS}): $enhanced xruns ($own attributed by jackd${late:+, $late periods the hop worker was late}); jack_thru beside it: $beside; $changes parameter changes, $reloads reloads, ${swaps:-?} engine swaps, $changes_failed control requests failed"
echo "soak: last status: ${callback:-no status line}; longest callback of the run ${longest} µs (period 1333 µs); ${overruns:-?} callbacks longer than the period"
echo "soak: RssAnon ${first} kB after ${FIRST_MARK} s, ${last} kB at the end (${growth} kB growth); load $(cut -d' ' -f1-3 /proc/loadavg)"
fail=0
allowed=$(( beside + beside * XRUN_SLACK_PERCENT / 100 + XRUN_SLACK ))
verdict="$enhanced xruns of Sordino's against $beside of the pass-through client on the same server (allowed $allowed)"
if (( enhanced > allowed )); then
    if (( JUDGE_XRUNS )); then echo "soak: FAIL: $verdict"; fail=1; else echo "soak: (not judged: JUDGE_XRUNS=0) $verdict"; fi
else
    echo "soak: xruns: $verdict"
fi
(( changes_failed == 0 )) || { echo "soak: FAIL: $changes_failed control requests failed: $(tail -3 "$WORK/ctl.log")"; fail=1; }
(( growth <= 1024 )) || { echo "soak: FAIL: private memory grew by $growth kB"; fail=1; }
(( fail == 0 )) && echo "soak: passed"
exit $fail
