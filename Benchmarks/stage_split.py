#!/usr/bin/env python3
# SPDX-License-Identifier: GPL-3.0-or-later
"""Where a hop's time goes: `sordino bench` under `perf record` (cpu-clock), CPU µs per hop per engine stage,
or under callgrind (`--callgrind`), instructions per hop per stage: counts that do not move with the
machine's load, for comparing two binaries on a shared machine.

Usage: python3 Benchmarks/stage_split.py [--sordino .build/release/sordino] [--seconds 30] [--callgrind] PRESET…

`sordino bench` times each preset twice (the full solve and its 0-iteration baseline), so every
stage but the solver's iterations runs in both; their samples are divided by the hops of both runs,
the iterations' by the hops of the first. Functions the compiler inlines count in their caller:
`mask` is the Wiener mask, noise bound, online noise atoms' statistics, speech presence and the
learned gain's interpolation to bins; `gain network` and `gain features` are the learned gain's GRU
and its features (band energies, the periodicity's inverse FFT through FFTW, flux). Needs `perf`
(`perf_event_paranoid` ≤ 2 is enough for a user's own process). Not a test: figures move with load.
"""
import argparse, json, os, re, subprocess, sys, tempfile

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
# Symbol substring → stage, first match wins.
STAGES = [
    ('ActivationSolverV7iterate', 'solver iterations'),
    ('accumulateProducts', 'solver iterations'),
    ('pass_', 'solver iterations'),                  # CEngineKernels's builds: pass_fused, pass_baseline
    ('ActivationSolverV8estimate', 'estimates Ŝ, N̂'),
    ('estimate_', 'estimates Ŝ, N̂'),
    ('ActivationSolverV7prepare', 'prepare'),
    ('ActivationSolverV10initialise', 'prepare'),
    ('NoiseAdaptation', 'online noise atoms'),
    ('GainNetwork', 'gain network (GRU)'),
    ('gain_step', 'gain network (GRU)'),
    ('GainFeatures', 'gain features'),
    ('GainRefinement', 'mask'),
    ('computeMask', 'mask'),
    ('wienerMask', 'mask'),
    ('HighBand', 'high band'),
    ('EngineV7analyse', 'analyse (window, FFT, |X|)'),
    ('sordino_square_root', 'analyse (window, FFT, |X|)'),
    ('EngineV10synthesise', 'synthesise (iFFT, overlap-add)'),
    ('fftw', 'FFTW'),
    ('EngineV', 'engine, other'),
    ('memmove', 'copies'),
    ('memset', 'copies'),
    ('memcpy', 'copies'),
]


# Callgrind: stages by inclusive instruction counts (symbol substring → stage); `mask` is computeMask
# without the stages listed after it, which it calls.
INCLUSIVE = [
    ('EngineV7analyse', 'analyse (window, FFT, |X|)'),
    ('EngineV7prepare', 'prepare'),
    ('ActivationSolverV7iterate', 'solver iterations'),
    ('EngineV11computeMask', 'mask'),
    ('ActivationSolverV8estimate', 'estimates Ŝ, N̂'),
    ('GainNetworkV4step', 'gain network (GRU)'),
    ('GainFeaturesV7compute', 'gain features (incl. its inverse FFT)'),
    ('NoiseAdaptationV5adapt', 'online noise atoms'),
    ('EngineV10synthesise', 'synthesise (iFFT, overlap-add)'),
]


def callgrind(args, preset):
    """Instructions per hop per stage, from callgrind's inclusive counts (valgrind cannot read the
    Swift binary's debug information: it runs a copy without it)."""
    with tempfile.TemporaryDirectory() as tmp:
        binary, out = os.path.join(tmp, 'sordino'), os.path.join(tmp, 'callgrind.out')
        subprocess.run(['strip', '--strip-debug', '-o', binary, args.sordino], check=True)
        bench = subprocess.run(['valgrind', '--tool=callgrind', f'--callgrind-out-file={out}', binary, 'bench', '--json',
                                '--seconds', str(args.seconds), preset], check=True, capture_output=True, text=True,
                               env=dict(os.environ, SORDINO_BENCH_RESTARTED='1'))
        record = json.loads(bench.stdout)['presets'][0]
        report = subprocess.run(['callgrind_annotate', '--inclusive=yes', '--threshold=100', out], check=True,
                                capture_output=True, text=True).stdout
    hops = (args.seconds + 1) * record['sampleRate'] / record['hopLength']
    counts = {}
    for line in report.splitlines():
        m = re.match(r'\s*([\d,]+)\s+\([^)]*\)\s+\S*?:(\S+)', line)
        if not m:
            continue
        for key, stage in INCLUSIVE:
            if key in m.group(2):
                # The batched iterate calls the single-stream one for one stream: count the larger.
                count = int(m.group(1).replace(',', ''))
                counts[stage] = max(counts.get(stage, 0), count) if stage == 'solver iterations' \
                    else counts.get(stage, 0) + count
    stages = {stage: count / (hops if stage == 'solver iterations' else 2 * hops) for stage, count in counts.items()}
    if 'mask' in stages:
        stages['mask'] -= sum(stages.get(name, 0) for _, name in INCLUSIVE[4:8])
    return record, stages


def main():
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument('--sordino', default=os.path.join(ROOT, '.build/release/sordino'))
    ap.add_argument('--seconds', type=float, default=30)
    ap.add_argument('--frequency', type=int, default=5000, help='perf samples per second')
    ap.add_argument('--json', action='store_true')
    ap.add_argument('--callgrind', action='store_true', help='instructions per hop under callgrind instead of perf')
    ap.add_argument('presets', nargs='+')
    args = ap.parse_args()
    results = {}
    for preset in args.presets:
        if args.callgrind:
            record, stages = callgrind(args, preset)
            results[record['preset']] = dict(instructionsPerHop=dict(sorted(stages.items(), key=lambda s: -s[1])))
            continue
        with tempfile.TemporaryDirectory() as tmp:
            data = os.path.join(tmp, 'perf.data')
            bench = subprocess.run(['perf', 'record', '-q', '-e', 'cpu-clock', '-F', str(args.frequency), '-o', data,
                                    args.sordino, 'bench', '--json', '--seconds', str(args.seconds), preset],
                                   check=True, capture_output=True, text=True, env=dict(os.environ, SORDINO_BENCH_RESTARTED='1'))
            record = json.loads(bench.stdout)['presets'][0]
            report = subprocess.run(['perf', 'report', '-i', data, '--no-children', '--sort', 'dso,symbol',
                                     '--stdio', '-F', 'sample,dso,symbol'], check=True, capture_output=True, text=True).stdout
        # Hops per timed run, its 1 s of warm-up included.
        hops = (args.seconds + 1) * record['sampleRate'] / record['hopLength']
        stages = {}
        for line in report.splitlines():
            m = re.match(r'\s*(\d+)\s+(\S+)\s+\[.\]\s+(.*)$', line)
            if not m:
                continue
            samples, dso, symbol = int(m.group(1)), m.group(2), m.group(3)
            name = next((stage for key, stage in STAGES if key in symbol or (key == 'fftw' and 'fftw' in dso)), None)
            if name is None:
                continue
            runs = 1 if name == 'solver iterations' else 2
            stages[name] = stages.get(name, 0) + samples / args.frequency / (runs * hops) * 1e6
        results[record['preset']] = dict(microsecondsPerHop=record['microsecondsPerHop'],
                                         baselineMicrosecondsPerHop=record['baselineMicrosecondsPerHop'],
                                         stages=dict(sorted(stages.items(), key=lambda s: -s[1])))
    if args.json:
        print(json.dumps(results, indent=2, ensure_ascii=False))
        return
    for preset, r in results.items():
        if args.callgrind:
            total = sum(r['instructionsPerHop'].values())
            print(f'{preset}: callgrind, instructions per hop:')
            for name, n in r['instructionsPerHop'].items():
                print(f'  {name:40s} {n:9.0f}  {100 * n / total:5.1f} %')
            print(f"  {'sum':40s} {total:9.0f}")
            continue
        print(f"{preset}: bench {r['microsecondsPerHop']:.1f} µs/hop (base {r['baselineMicrosecondsPerHop']:.1f}); "
              f"perf, µs per hop:")
        total = sum(r['stages'].values())
        for name, us in r['stages'].items():
            print(f'  {name:32s} {us:7.2f}  {100 * us / total:5.1f} %')
        print(f"  {'sum':32s} {total:7.2f}")


if __name__ == '__main__':
    sys.exit(main())
