#!/usr/bin/env python3
# SPDX-License-Identifier: GPL-3.0-or-later
"""Where a hop's time goes: `sordino process` on a long file under `perf record` (cpu-clock), CPU µs
per hop per engine stage, or under callgrind (`--callgrind`), instructions per hop per stage: counts
that do not move with the machine's load, for comparing two binaries on a shared machine.

Usage: python3 Benchmarks/stage_split.py [--sordino .build/release/sordino] [--seconds 300] [--callgrind] PRESET…

The input is the bundled noisy speech sample at the preset's rate, repeated to `--seconds` (sox);
only the engine runs per hop, so a stage's samples (or instructions) over the file's hops are its
cost per hop. Functions the compiler inlines count in their caller: `mask` is the Wiener mask, noise
bound, online noise atoms' statistics, speech presence and the learned gain's interpolation to bins;
`gain network` and `gain features` are the learned gain's GRU and its features (band energies, the
periodicity's inverse FFT through FFTW, flux). Reading and writing the files is left out. Valgrind
runs no AVX-512: under callgrind the kernels are the AVX2 builds. Needs `perf`
(`perf_event_paranoid` ≤ 2 is enough for a user's own process) and `sox`. Not a test: figures move
with load.
"""
import argparse, json, os, re, subprocess, sys, tempfile

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
# Symbol substring → stage, first match wins (perf: self time of each function).
STAGES = [
    ('ActivationSolverV7iterate', 'solver iterations'),
    ('pass_', 'solver iterations'),                  # CEngineKernels: pass_rows_wide, pass16_wide, pass_fused, …
    ('estimate_', 'estimates Ŝ, N̂'),
    ('ActivationSolverV8estimate', 'estimates Ŝ, N̂'),
    ('ActivationSolverV7prepare', 'prepare'),
    ('ActivationSolverV10initialise', 'prepare'),
    ('adapt_atoms', 'online noise atoms'),
    ('NoiseAdaptation', 'online noise atoms'),
    ('gain_step', 'gain network (GRU)'),
    ('GainNetwork', 'gain network (GRU)'),
    ('GainFeatures', 'gain features'),
    ('GainRefinement', 'mask'),
    ('computeMask', 'mask'),
    ('wienerMask', 'mask'),
    ('HighBand', 'high band'),
    ('EngineV7analyse', 'analyse (window, FFT, |X|)'),
    ('square_root', 'analyse (window, FFT, |X|)'),
    ('EngineV10synthesise', 'synthesise (iFFT, overlap-add)'),
    ('mixWetAndDry', 'synthesise (iFFT, overlap-add)'),
    ('fftw', 'FFTW'),
    ('SordinoDSP', 'engine, other'),
]

# Callgrind: stages by inclusive instruction counts (symbol substring → stage); `mask` is computeMask
# without the stages listed after it, which it calls.
INCLUSIVE = [
    ('EngineV7analyse', 'analyse (window, FFT, |X|)'),
    ('ActivationSolverV7iterate7streams', 'solver iterations'),
    ('EngineV11computeMask', 'mask'),
    ('GainFeaturesV7compute', 'gain features (incl. its inverse FFT)'),
    ('NoiseAdaptationV5adapt', 'online noise atoms'),
    ('GainRefinementV4step', 'gain network (GRU)'),
    ('EngineV10synthesise', 'synthesise (iFFT, overlap-add)'),
]


def preset_rate_and_hop(preset):
    """The preset's sample rate and hop, from its JSON (a name in presets/ or a path)."""
    path = preset if preset.endswith('.json') else os.path.join(ROOT, 'presets', preset + '.json')
    with open(path) as f:
        p = json.load(f)
    return path, p['sampleRate'], p['stft']['hopLength']


def make_input(tmp, rate, seconds):
    """The bundled noisy sample at `rate`, repeated to at least `seconds`."""
    sample = os.path.join(ROOT, 'presets/samples/noisy-speech-16k.wav')
    length = float(subprocess.run(['soxi', '-D', sample], check=True, capture_output=True, text=True).stdout)
    path = os.path.join(tmp, 'input.wav')
    repeats = max(0, int(seconds / length + 0.999) - 1)
    subprocess.run(['sox', sample, '-r', str(rate), path, 'repeat', str(repeats)], check=True)
    return path, (repeats + 1) * length


def run_process(args, preset, tmp, wrapper, binary=None):
    """`sordino process` of the repeated sample at the preset's rate under `wrapper` (a command
    prefix); returns the hops it processed."""
    path, rate, hop = preset_rate_and_hop(preset)
    audio, seconds = make_input(tmp, rate, args.seconds)
    subprocess.run(wrapper + [binary or args.sordino, 'process', '--quiet', '--preset', path, audio,
                              os.path.join(tmp, 'out.wav')], check=True, capture_output=True)
    return seconds * rate / hop


def callgrind(args, preset, tmp):
    """Instructions per hop per stage, from callgrind's inclusive counts (valgrind cannot read the
    Swift binary's debug information: it runs a copy without it)."""
    binary, out = os.path.join(tmp, 'sordino'), os.path.join(tmp, 'callgrind.out')
    subprocess.run(['strip', '--strip-debug', '-o', binary, args.sordino], check=True)
    hops = run_process(args, preset, tmp, ['valgrind', '--tool=callgrind', f'--callgrind-out-file={out}'], binary)
    report = subprocess.run(['callgrind_annotate', '--inclusive=yes', '--threshold=100', out], check=True,
                            capture_output=True, text=True).stdout
    counts = {}
    for line in report.splitlines():
        m = re.match(r'\s*([\d,]+)\s+\([^)]*\)\s+\S*?:(\S+)', line)
        if not m:
            continue
        for key, stage in INCLUSIVE:
            if key in m.group(2):
                counts[stage] = max(counts.get(stage, 0), int(m.group(1).replace(',', '')))
    stages = {stage: count / hops for stage, count in counts.items()}
    if 'mask' in stages:
        stages['mask'] -= stages.get('gain features (incl. its inverse FFT)', 0)
    return stages


def perf(args, preset, tmp):
    """CPU µs per hop per stage, from perf's samples of each function's own time."""
    data = os.path.join(tmp, 'perf.data')
    hops = run_process(args, preset, tmp, ['perf', 'record', '-q', '-e', 'cpu-clock', '-F', str(args.frequency), '-o', data])
    report = subprocess.run(['perf', 'report', '-i', data, '--no-children', '--sort', 'dso,symbol', '--stdio',
                             '-F', 'sample,dso,symbol'], check=True, capture_output=True, text=True).stdout
    stages = {}
    for line in report.splitlines():
        m = re.match(r'\s*(\d+)\s+(\S+)\s+\[.\]\s+(.*)$', line)
        if not m:
            continue
        samples, dso, symbol = int(m.group(1)), m.group(2), m.group(3)
        name = next((stage for key, stage in STAGES if key in symbol or (key == 'fftw' and 'fftw' in dso)), None)
        if name is not None:
            stages[name] = stages.get(name, 0) + samples / args.frequency / hops * 1e6
    return stages


def main():
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument('--sordino', default=os.path.join(ROOT, '.build/release/sordino'))
    ap.add_argument('--seconds', type=float, default=300, help='seconds of audio processed (callgrind: use ~5)')
    ap.add_argument('--frequency', type=int, default=10000, help='perf samples per second')
    ap.add_argument('--json', action='store_true')
    ap.add_argument('--callgrind', action='store_true', help='instructions per hop under callgrind instead of perf')
    ap.add_argument('presets', nargs='+')
    args = ap.parse_args()
    results = {}
    for preset in args.presets:
        with tempfile.TemporaryDirectory() as tmp:
            stages = callgrind(args, preset, tmp) if args.callgrind else perf(args, preset, tmp)
        results[preset] = dict(sorted(stages.items(), key=lambda s: -s[1]))
    if args.json:
        print(json.dumps(results, indent=2, ensure_ascii=False))
        return
    unit = 'instructions' if args.callgrind else 'CPU µs'
    for preset, stages in results.items():
        total = sum(stages.values())
        print(f'{preset}: {unit} per hop ({"callgrind" if args.callgrind else "perf"}, `sordino process`):')
        for name, value in stages.items():
            print(f'  {name:40s} {value:10.2f}  {100 * value / total:5.1f} %')
        print(f"  {'sum':40s} {total:10.2f}")


if __name__ == '__main__':
    sys.exit(main())
