# SPDX-License-Identifier: GPL-3.0-or-later
# Clean-speech check: PESQ-WB of an enhancer's output against its clean input (six dev utterances, 1 s of digital silence before each).
"""Does the enhancer leave clean speech alone? docs/QUALITY.md ("Quality II, first step") uses it.

    ~/.cache/sordino-eval/venv/bin/python training/clean_pesq.py \\
        --cmd 'NAME=.build/release/sordino process --quiet --compensate-delay --preset speech-16k {in} {out}' [--cmd …]

Prints the mean PESQ-WB per command (4.64 is the metric's ceiling for an unchanged signal).
--floor-db D adds white noise at D dBFS RMS (seeded) to the whole input, lead included, as a quiet
room and a microphone do; PESQ is still taken against the clean speech.
"""
import argparse, glob, os, shlex, subprocess, tempfile
import numpy as np
import soundfile as sf
from pesq import pesq

CORPUS = os.path.join(os.path.dirname(os.path.abspath(__file__)), '..', '..', 'shared', 'corpus', 'dev', 'speech')


def main():
    p = argparse.ArgumentParser()
    p.add_argument('--cmd', action='append', required=True)
    p.add_argument('--corpus', default=CORPUS)
    p.add_argument('--count', type=int, default=6)
    p.add_argument('--floor-db', type=float, help='white-noise floor under the speech and its lead, dBFS RMS (default: none)')
    a = p.parse_args()
    files = sorted(glob.glob(os.path.join(a.corpus, '*', '*.wav')))
    step = max(1, len(files) // a.count)
    chosen = files[::step][:a.count]
    with tempfile.TemporaryDirectory() as tmp:
        for spec in a.cmd:
            name, template = spec.split('=', 1)
            scores = []
            generator = np.random.default_rng(1)
            for i, path in enumerate(chosen):
                x, rate = sf.read(path, dtype='float32')
                x = np.concatenate([np.zeros(rate, np.float32), x])
                floor = 0 if a.floor_db is None else generator.standard_normal(len(x)).astype(np.float32) * 10 ** (a.floor_db / 20)
                src, dst = os.path.join(tmp, f'in{i}.wav'), os.path.join(tmp, f'out{i}.wav')
                sf.write(src, x + floor, rate, subtype='FLOAT')
                subprocess.run(shlex.split(template.replace('{in}', src).replace('{out}', dst)), check=True)
                y, _ = sf.read(dst, dtype='float32')
                n = min(len(x), len(y))
                scores.append(pesq(rate, x[rate:n], y[rate:n], 'wb'))
            print(f'{name}{"" if a.floor_db is None else f" (floor {a.floor_db:g} dBFS)"}: PESQ-WB {np.mean(scores):.2f} (' + ' '.join(f'{s:.2f}' for s in scores) + ')', flush=True)


if __name__ == '__main__':
    main()
