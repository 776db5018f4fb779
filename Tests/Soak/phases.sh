#!/usr/bin/env bash
# SPDX-License-Identifier: GPL-3.0-or-later
# The JACK callback at 48 kHz / 64 frames: jack_thru, `sordino run` per --hop-work mode, jack_thru again, one after the other on one dummy server.
#
# Usage: Tests/Soak/phases.sh SORDINO [SECONDS] [PRESET]
# Prints each phase's xruns (jackd's "XRun" lines) and the daemon's status line for the phase:
# callback p50 / p99 / max over the phase's cycles and its callbacks longer than the period.
# Reports only; docs/PERFORMANCE.md ("The JACK callback at a 64-frame period") holds a run.
set -euo pipefail
SORDINO=${1:?usage: phases.sh SORDINO [SECONDS] [PRESET]}
SECONDS_PER_PHASE=${2:-60}
PRESET=${3:-speech-48k}
NAME=phases
# shellcheck source=Tests/Soak/server.sh
source "$(dirname "$0")/server.sh"
start_server graph
export JACK_DEFAULT_SERVER=$SERVER
for phase in thru whole spread thru; do
    before=$(xruns graph)
    if [[ $phase == thru ]]; then
        jack_thru > /dev/null 2>&1 &
        client=$!
        sleep 1
        jack_connect jack_simple_client:output1 jack_thru:input_1
    else
        "$SORDINO" run --server "$SERVER" --preset "$PRESET" --hop-work "$phase" --report-interval "$SECONDS_PER_PHASE" \
            --no-control --connect-in 'jack_simple_client:output1' > "$WORK/$phase.log" 2>&1 &
        client=$!
    fi
    sleep "$SECONDS_PER_PHASE"; sleep 1
    kill -TERM "$client"; wait "$client" || true
    echo "phases: $phase: $(( $(xruns graph) - before )) xruns; load $(cut -d' ' -f1 /proc/loadavg)"
    if [[ $phase != thru ]]; then
        grep 'running: xruns' "$WORK/$phase.log" | grep -v final | tail -1 | sed -E 's/.*(callback p50 .* callbacks over the period).*/phases:   \1/' || true
    fi
done
