# SPDX-License-Identifier: GPL-3.0-or-later
# Noise-alone check: level change per band of an enhancer fed white noise only (issue 13's 48 kHz check of the band above 9 kHz).
"""Does the band above the dictionaries' limit get attenuated like the rest when there is no speech?

    ~/.cache/sordino-eval/venv/bin/python training/white_noise.py --rate 48000 \\
        --cmd 'NAME=.build/release/sordino process --quiet --preset speech-48k {in} {out}' [--cmd …]

Writes --seconds (20) of Gaussian white noise at --rate and --level-db (−30 dBFS RMS, seed 7),
runs each command on it and prints the level change (dB) per octave band (and 9–20 kHz at 44.1
and 48 kHz) over the output after --settle (2) seconds, against the input over the same span.
"""
import argparse, os, shlex, subprocess, tempfile
import numpy as np
import soundfile as sf
from scipy.signal import stft

BANDS = [(125, 250), (250, 500), (500, 1000), (1000, 2000), (2000, 4000), (4000, 8000)]


def main():
    p = argparse.ArgumentParser()
    p.add_argument('--cmd', action='append', required=True)
    p.add_argument('--rate', type=int, default=48000)
    p.add_argument('--seconds', type=float, default=20.0)
    p.add_argument('--settle', type=float, default=2.0)
    p.add_argument('--level-db', type=float, default=-30.0)
    a = p.parse_args()
    x = np.random.default_rng(7).standard_normal(int(a.seconds * a.rate)) * 10 ** (a.level_db / 20)
    bands = BANDS + ([(9000, 20000)] if a.rate >= 44100 else [])
    print(f'White noise, {a.seconds:.0f} s at {a.rate} Hz, {a.level_db:.0f} dBFS: level change (dB) after {a.settle:.0f} s')
    print('| enhancer | ' + ' | '.join(f'{lo}-{hi} Hz' for lo, hi in bands) + ' |')
    print('|---|' + '---|' * len(bands))
    with tempfile.TemporaryDirectory() as tmp:
        inp = os.path.join(tmp, 'white.wav')
        sf.write(inp, x, a.rate, subtype='FLOAT')
        for spec in a.cmd:
            name, template = spec.split('=', 1)
            out = os.path.join(tmp, f'{name}.wav')
            subprocess.run(shlex.split(template.replace('{in}', inp).replace('{out}', out)), check=True)
            y, ry = sf.read(out)
            y = y if y.ndim == 1 else y[:, 0]
            assert ry == a.rate, f'{name} wrote {ry} Hz, expected {a.rate}'
            start, n = int(a.settle * a.rate), min(len(x), len(y))
            f, _, X = stft(x[start:n], a.rate, nperseg=1024)
            _, _, Y = stft(y[start:n], a.rate, nperseg=1024)
            changes = []
            for lo, hi in bands:
                b = (f >= lo) & (f < hi)
                changes.append(10 * np.log10(np.sum(np.abs(Y[b]) ** 2) / np.sum(np.abs(X[b]) ** 2)))
            print(f'| {name} | ' + ' | '.join(f'{c:+.1f}' for c in changes) + ' |')


if __name__ == '__main__':
    main()
