#!/usr/bin/env python3
# SPDX-License-Identifier: GPL-3.0-or-later
"""Start-up of `sordino run` to connected-and-processing: launch to the log line naming the ports (printed after jack_activate).

Usage: python3 Benchmarks/startup_time.py [--runs 5] [--sordino .build/release/sordino] SERVER PRESET

SERVER is a running JACK server (a private one: `jackd -n NAME -d dummy -r 48000 -p 256 &`).
Each run starts `sordino run --server SERVER --no-control --preset PRESET`, waits for the ports
line on stderr and stops it with SIGTERM; the same with OPENBLAS_NUM_THREADS=1, a bare libjack
client (`jack_lsp -s SERVER`) and the process start alone (`sordino --version`) alternate with
it, so the four medians come from the same minutes. Wall-clock: the figures move with the load.
"""
import argparse, os, signal, statistics, subprocess, time

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))


def until_ports(command, env):
    """Milliseconds from launch to the ports line; the process is then stopped."""
    start = time.monotonic()
    process = subprocess.Popen(command, stderr=subprocess.PIPE, stdout=subprocess.DEVNULL, env=env, text=True)
    elapsed = None
    for line in process.stderr:
        if 'ports ' in line:
            elapsed = (time.monotonic() - start) * 1000
            break
    process.send_signal(signal.SIGTERM)
    process.wait()
    if elapsed is None:
        raise SystemExit(f'no ports line from {" ".join(command)} (exit {process.returncode})')
    return elapsed


def timed(command):
    start = time.monotonic()
    subprocess.run(command, stdout=subprocess.DEVNULL, check=True)
    return (time.monotonic() - start) * 1000


def main():
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument('--sordino', default=os.path.join(ROOT, '.build/release/sordino'))
    ap.add_argument('--runs', type=int, default=5)
    ap.add_argument('server')
    ap.add_argument('preset')
    args = ap.parse_args()
    run = [args.sordino, 'run', '--server', args.server, '--no-control', '--preset', args.preset]
    results = {'sordino run to the ports line': [], 'the same, OPENBLAS_NUM_THREADS=1': [],
               'jack_lsp (a bare libjack client)': [], 'sordino --version (process start)': []}
    for _ in range(args.runs):
        results['sordino run to the ports line'].append(until_ports(run, dict(os.environ)))
        results['the same, OPENBLAS_NUM_THREADS=1'].append(until_ports(run, dict(os.environ, OPENBLAS_NUM_THREADS='1')))
        results['jack_lsp (a bare libjack client)'].append(timed(['jack_lsp', '-s', args.server]))
        results['sordino --version (process start)'].append(timed([args.sordino, '--version']))
    print('load average', ' '.join(open('/proc/loadavg').read().split()[:3]))
    for name, values in results.items():
        print(f'{name:36s} median {statistics.median(values):5.0f} ms  ({min(values):.0f}–{max(values):.0f}, n={len(values)})')


if __name__ == '__main__':
    main()
