# SPDX-License-Identifier: GPL-3.0-or-later
# Where an enhancer attenuates: its level change in noise-dominated and speech-dominated time-frequency units of dev mixtures.
"""How deep does an enhancer cut where there is only noise, and how much speech does it keep?

    ~/.cache/sordino-eval/venv/bin/python ../shared/eval/run_eval.py --mode full --enh noisy,rnnoise \\
        --types street,machinery,water,synth_pink,keyboard --snrs=-5,0 --save-audio AUDIO --cmd 'NAME=…'
    ~/.cache/sordino-eval/venv/bin/python training/tf_attenuation.py AUDIO [--enh rnnoise,NAME]

AUDIO is run_eval.py's --save-audio folder (one sub-folder per enhancer, `noisy` among them, files
named TYPE_SNRdB_I_SPEAKER_UTTERANCE.wav at 16 kHz). Each mixture's clean speech is the dev
utterance after the harness's 1 s lead-in, scaled to the mixture by least squares; the noise is the
mixture minus it. In an STFT of 512/128 points, a unit is noise-dominated where the speech is 20 dB
below the noise, speech-dominated where it is 10 dB above. Printed per noise type and enhancer, mean
over mixtures: the output's level over the mixture's (dB) in noise-dominated units (all; in frames
where the utterance is active, within 30 dB of its loudest frame; in its pauses) and in
speech-dominated units. The lead-in is left out.
"""
import argparse, glob, os, re
import numpy as np
import soundfile as sf
from scipy.signal import stft

SPEECH = os.path.join(os.path.dirname(os.path.abspath(__file__)), '..', '..', 'shared', 'corpus', 'dev', 'speech')
RATE, LEAD_IN_HOPS = 16000, 125


def power(x):
    return np.abs(stft(x, nperseg=512, noverlap=384)[2]) ** 2


def change(output, mixture, units):
    return 10 * np.log10(max(output[units].sum(), 1e-20) / max(mixture[units].sum(), 1e-20))


def main():
    p = argparse.ArgumentParser()
    p.add_argument('audio')
    p.add_argument('--enh', default=None, help='enhancers (comma separated; default: every folder but noisy)')
    a = p.parse_args()
    names = a.enh.split(',') if a.enh else sorted(d for d in os.listdir(a.audio) if d != 'noisy')
    rows = {}
    for path in sorted(glob.glob(os.path.join(a.audio, 'noisy', '*.wav'))):
        name = os.path.basename(path)
        m = re.match(r'^(.+?)_([mp]?\d+)dB_(\d+)_(.+)_(\w+)\.wav$', name)
        if not m:
            continue
        kind, speaker, utterance = m.group(1), m.group(4), m.group(5)
        mixture = sf.read(path)[0]
        clean = np.zeros_like(mixture)
        speech = sf.read(os.path.join(SPEECH, speaker, utterance + '.wav'))[0]
        n = min(len(speech), len(mixture) - RATE)
        clean[RATE:RATE + n] = speech[:n]
        clean *= np.dot(mixture, clean) / np.dot(clean, clean)
        s, v, x = power(clean), power(mixture - clean), power(mixture)
        noisy, voiced = (s < 0.01 * v) & (v > 1e-10), s > 10 * v
        noisy[:, :LEAD_IN_HOPS] = voiced[:, :LEAD_IN_HOPS] = False
        frames = s.sum(0)
        active = (frames > 1e-3 * frames.max())[None, :]
        for e in names:
            y = sf.read(os.path.join(a.audio, e, name))[0]
            y = y[:len(mixture)] if len(y) >= len(mixture) else np.pad(y, (0, len(mixture) - len(y)))
            out = power(y)
            rows.setdefault((kind, e), []).append((change(out, x, noisy), change(out, x, noisy & active),
                                                   change(out, x, noisy & ~active), change(out, x, voiced)))
    print('| noise type | enhancer | noise-dominated, all (dB) | in speech frames | in pauses | speech-dominated (dB) | mixtures |')
    print('|---|---|---|---|---|---|---|')
    for (kind, e), values in sorted(rows.items()):
        v = np.array(values).mean(0)
        print(f'| {kind} | {e} | {v[0]:.1f} | {v[1]:.1f} | {v[2]:.1f} | {v[3]:.2f} | {len(values)} |')


if __name__ == '__main__':
    main()
