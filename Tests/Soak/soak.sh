#!/usr/bin/env bash
# SPDX-License-Identifier: GPL-3.0-or-later
# Soak: the daemon at 48 kHz, 64-frame periods on a private dummy JACK server for MINUTES, steered every second, against a pass-through client on a twin server at the same time.
#
# Usage: Tests/Soak/soak.sh SORDINO MINUTES [PRESET]
# RUN_ARGS: more options for `sordino run` (e.g. RUN_ARGS="--hop-work whole").
# Two identical servers (48 kHz, 64 frames, dummy driver) run side by side, each fed by
# jack_simple_client: on one, `SORDINO run` while a control client (`sordino ctl`) changes a
# parameter every second (the floor, and every 5 s the mask exponent) and reloads the preset every
# RELOAD_EVERY seconds (default 10; a rebuild and a swap of the engine); on the other, jack_thru
# (JACK's pass-through example), the reference. Both are counted over the same MINUTES, so the
# machine's late timer wake-ups, which drive most of the dummy driver's xruns on a virtual machine,
# fall on both alike (one after the other they did not: docs/RELIABILITY.md, "Soak").
# xruns are each server's own "XRun" lines. jackd names, for each xrun, the clients that had not
# finished the cycle and their state: "Running" (inside its process callback when the cycle's time
# was up) or "finished after current callback"; "Triggered" means it had been woken but not yet
# scheduled. Those counts are reported per client ("attributed"), not judged.
# Fails (exit 1) if the Sordino server has more xruns than the pass-through server by more than
# XRUN_SLACK_PERCENT (default 10) percent plus XRUN_SLACK (default 2) (JUDGE_XRUNS=0 reports
# without judging), if the daemon dies or a control request fails, or if the daemon's private
# memory (RssAnon) grew by more than 1024 kB between the end of its first minute (or of its first
# half, for runs shorter than two minutes) and the end. The daemon's own count of callbacks longer
# than the period (its overruns) is reported beside them.
set -euo pipefail
SORDINO=${1:?usage: soak.sh SORDINO MINUTES [PRESET]}
MINUTES=${2:?usage: soak.sh SORDINO MINUTES [PRESET]}
PRESET=${3:-speech-48k}
RELOAD_EVERY=${RELOAD_EVERY:-10}   # seconds between reloads; 0: none
XRUN_SLACK=${XRUN_SLACK:-2}
XRUN_SLACK_PERCENT=${XRUN_SLACK_PERCENT:-10}
JUDGE_XRUNS=${JUDGE_XRUNS:-1}   # 0: report the xrun counts, do not fail on them
DURATION=$(awk -v m="$MINUTES" 'BEGIN { printf "%d", m * 60 }')
(( DURATION >= 20 )) || { echo "soak: MINUTES must be at least 1/3 (20 s)"; exit 64; }
FIRST_MARK=$(( DURATION >= 120 ? 60 : DURATION / 2 ))
NAME=soak
# shellcheck source=Tests/Soak/server.sh
source "$(dirname "$0")/server.sh"
# xruns the server $1 attributes to its client $2: it was inside its callback, or finished late.
attributed() { grep -cE "XRun: client( = $2 was not finished, state = Running| $2 finished after current callback)" "$WORK/$1.log" || true; }
rss_anon() { awk '/^RssAnon:/ { print $2 }' "/proc/$1/status"; }

# The reference: jack_thru on its own server.
start_server reference
JACK_DEFAULT_SERVER=$SERVER jack_thru > /dev/null 2>&1 &
PIDS+=("$!")
sleep 1
JACK_DEFAULT_SERVER=$SERVER jack_connect jack_simple_client:output1 jack_thru:input_1

# Sordino on its twin, steered every second.
start_server sordino
CONTROL="$WORK/control.sock"
ctl() { "$SORDINO" ctl "$1" --control "$CONTROL" "${@:2}" > /dev/null 2>> "$WORK/ctl.log" || changes_failed=$(( changes_failed + 1 )); }
changes_failed=0
# shellcheck disable=SC2086 # RUN_ARGS is a list of options
"$SORDINO" run --server "$SERVER" --preset "$PRESET" --report-interval 10 --connect-in 'jack_simple_client:output1' \
    --control "$CONTROL" ${RUN_ARGS:-} > "$WORK/daemon.log" 2>&1 &
DAEMON=$!; PIDS+=("$DAEMON")
for _ in $(seq 1 50); do grep -q 'processing\|running' "$WORK/daemon.log" && break; sleep 0.2; done
reference_before=$(xruns reference); before=$(xruns sordino)
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
enhanced=$(( $(xruns sordino) - before )); reference=$(( $(xruns reference) - reference_before ))
own=$(attributed sordino sordino); reference_own=$(attributed reference jack_thru)
kill -USR1 "$DAEMON"; sleep 0.5
kill -TERM "$DAEMON"; wait "$DAEMON" || { echo "soak: sordino exited with $?"; tail -20 "$WORK/daemon.log"; exit 1; }
status=$(grep -E 'running: xruns' "$WORK/daemon.log" | tail -1 || true)
callback=$(sed -nE 's/.*(callback p50 [^,]* over [0-9]+ cycles).*/\1/p' <<< "$status")
swaps=$(sed -nE 's/.* ([0-9]+) engine swaps.*/\1/p' <<< "$status")
# Callbacks of the daemon that took longer than the period (its own count, since it started).
overruns=$(sed -nE 's/.* ([0-9]+) callbacks over the period.*/\1/p' <<< "$status")
growth=$(( last - first ))
# The longest callback of any status interval, in whole µs: reported, not judged (it is wall-clock
# time, and a thread without real-time priority is preempted mid-callback on a busy machine).
longest=$(grep -oE 'max [0-9.]+ µs over' "$WORK/daemon.log" | awk '{ if ($2 > m) m = $2 } END { printf "%d", m }')
echo "soak: pass-through (twin server, same $DURATION s): $reference xruns, $reference_own attributed to it"
echo "soak: sordino ($PRESET, 48 kHz, 64 frames): $enhanced xruns in $DURATION s, $own attributed to it, $changes parameter changes, $reloads reloads, ${swaps:-?} engine swaps, $changes_failed control requests failed"
echo "soak: last status: ${callback:-no status line}; longest callback of the run ${longest} µs (period 1333 µs); ${overruns:-?} callbacks longer than the period"
echo "soak: RssAnon ${first} kB after ${FIRST_MARK} s, ${last} kB at the end (${growth} kB growth); load $(cut -d' ' -f1-3 /proc/loadavg)"
fail=0
allowed=$(( reference + reference * XRUN_SLACK_PERCENT / 100 + XRUN_SLACK ))
verdict="$enhanced xruns with sordino against $reference with the pass-through (allowed $allowed); attributed $own against $reference_own"
if (( enhanced > allowed )); then
    if (( JUDGE_XRUNS )); then echo "soak: FAIL: $verdict"; fail=1; else echo "soak: (not judged: JUDGE_XRUNS=0) $verdict"; fi
else
    echo "soak: xruns: $verdict"
fi
(( changes_failed == 0 )) || { echo "soak: FAIL: $changes_failed control requests failed: $(tail -3 "$WORK/ctl.log")"; fail=1; }
(( growth <= 1024 )) || { echo "soak: FAIL: private memory grew by $growth kB"; fail=1; }
(( fail == 0 )) && echo "soak: passed"
exit $fail
