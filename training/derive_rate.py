#!/usr/bin/env python3
# SPDX-License-Identifier: GPL-3.0-or-later
"""Derives a band-limited preset for a multiple of its sample rate with the same bins below the limit (speech-96k from speech-48k).

At `--factor` times the rate with `--factor` times the frame, hop and FFT, every bin keeps its
frequency (31.25 Hz apart for speech-48k and speech-96k), so:

- the basis keeps its rows below the band limit as they are (the solve sees the same numbers) and
  above it the flat high-band atom, now over the longer band, normalised to unit sum as
  `sordino train --band-limit-hz` leaves it;
- the learned gain keeps its bands (Zwicker edges fixed in Hz; the last band runs to the new
  Nyquist frequency) and every feature but one: the frame has `factor` times the samples of the
  same 32 ms, so |X| is `factor` times larger and each band's log10 energy 2·log10(factor) higher.
  That feature's normalising mean is raised by as much, so the network sees the inputs it saw;
  the other features are ratios of powers, masks, deltas or the periodicity (from the first 257
  bins at 512 points: the same band, the same lags in seconds).

So the derived preset computes, at the new rate, what the source preset computes at its own up to
the band above the old Nyquist frequency. Usage:

    python3 training/derive_rate.py presets/speech-48k.json --factor 2 --name speech-96k \
        --description '…' -o presets/speech-96k

Writes NAME.json, NAME.basis and NAME.gain next to the -o prefix. numpy only.
"""
import argparse, datetime, json, os, struct, sys, zlib

import numpy as np

BASIS_HEADER = struct.Struct('<8sIIIIIQQII')   # magic, version, bins, speech, noise, flags, seed, payload bytes, crc, reserved
GAIN_HEADER = struct.Struct('<8sIIIIII')        # magic, version, features, input units, hidden units, bands, crc
FEATURES_PER_BAND = 6                           # GainFeatures.perBand; the band's log10 energy first


def read_basis(path):
    data = open(path, 'rb').read()
    magic, version, bins, speech, noise, flags, seed, payload, crc, reserved = BASIS_HEADER.unpack_from(data)
    if magic != b'SRDNBAS\0' or version != 1 or flags != 0 or zlib.crc32(data[BASIS_HEADER.size:]) != crc:
        sys.exit(f'{path}: not a version-1 basis without penalties, or damaged')
    values = np.frombuffer(data, '<f4', bins * (speech + noise), BASIS_HEADER.size).reshape(bins, speech + noise)
    return values, speech, noise, seed


def write_basis(path, values, speech, noise, seed):
    body = values.astype('<f4').tobytes()
    crc = zlib.crc32(body)
    with open(path, 'wb') as f:
        f.write(BASIS_HEADER.pack(b'SRDNBAS\0', 1, values.shape[0], speech, noise, 0, seed, len(body), crc, 0) + body)
    return crc


def read_gain(path):
    data = open(path, 'rb').read()
    magic, version, features, inputs, hidden, bands, crc = GAIN_HEADER.unpack_from(data)
    if magic != b'SRDNGAN\0' or version != 1 or zlib.crc32(data[GAIN_HEADER.size:]) != crc:
        sys.exit(f'{path}: not a version-1 gain file, or damaged')
    return np.frombuffer(data, '<f4', offset=GAIN_HEADER.size).copy(), (features, inputs, hidden, bands)


def write_gain(path, values, sizes):
    body = values.astype('<f4').tobytes()
    crc = zlib.crc32(body)
    with open(path, 'wb') as f:
        f.write(GAIN_HEADER.pack(b'SRDNGAN\0', 1, *sizes, crc) + body)
    return crc


def main():
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument('preset', help='the source NAME.json (band-limited, with or without a learned gain)')
    ap.add_argument('--factor', type=int, default=2, help='the new rate over the source rate (default 2)')
    ap.add_argument('--name', required=True, help="the derived preset's name")
    ap.add_argument('--description', required=True, help="the derived preset's description")
    ap.add_argument('-o', '--output', required=True, help='output prefix: writes PREFIX.json, .basis, .gain')
    args = ap.parse_args()

    source = json.load(open(args.preset))
    folder = os.path.dirname(os.path.abspath(args.preset))
    limit = source['solver'].get('bandLimitHertz')
    if limit is None or args.factor < 2:
        sys.exit('the source preset needs a band limit (its bins above it are what changes) and --factor ≥ 2')
    stft = source['stft']
    rate = source['sampleRate'] * args.factor
    fft = stft['fftLength'] * args.factor
    bins = fft // 2 + 1

    values, speech, noise, seed = read_basis(os.path.join(folder, source['basis']['file']))
    solved = int(np.ceil(limit * stft['fftLength'] / source['sampleRate']))   # no solved weight at or above this bin
    above = values[solved:]
    flat = np.zeros(speech + noise, np.float32)
    flat[-1] = 1
    if np.count_nonzero(values[:solved, -1]) or not np.allclose(above / above[:, -1:], flat):
        sys.exit('the source basis is not band-limited as `sordino train --band-limit-hz` makes it '
                 '(only the last noise atom above the limit, flat)')
    derived = np.zeros((bins, speech + noise), np.float32)
    derived[:solved] = values[:solved]
    derived[solved:, -1] = 1 / (bins - solved)

    out_dir = os.path.dirname(os.path.abspath(args.output))
    os.makedirs(out_dir, exist_ok=True)
    base = os.path.basename(args.output)
    preset = json.loads(json.dumps(source))
    preset['name'] = args.name
    preset['sampleRate'] = rate
    preset['stft'] = dict(stft, fftLength=fft, frameLength=stft['frameLength'] * args.factor,
                          hopLength=stft['hopLength'] * args.factor)
    crc = write_basis(os.path.join(out_dir, base + '.basis'), derived, speech, noise, seed)
    preset['basis'] = dict(source['basis'], binCount=bins, file=base + '.basis', checksum=f'{crc:08x}')
    if 'gain' in source:
        weights, sizes = read_gain(os.path.join(folder, source['gain']['file']))
        features, bands = sizes[0], sizes[3]
        # GainModel.values begins with the F feature means: raise each band's log10 energy mean.
        weights[0:FEATURES_PER_BAND * bands:FEATURES_PER_BAND] += 2 * np.log10(args.factor)
        crc = write_gain(os.path.join(out_dir, base + '.gain'), weights, sizes)
        preset['gain'] = dict(source['gain'], file=base + '.gain', checksum=f'{crc:08x}')
    command = ' '.join(['python3', 'training/derive_rate.py'] + sys.argv[1:])
    provenance = dict(source.get('provenance', {}))
    provenance['command'] = provenance.get('command', '') + ' && ' + command
    provenance['date'] = datetime.datetime.now(datetime.timezone.utc).strftime('%Y-%m-%dT%H:%M:%SZ')
    provenance['method'] = (provenance.get('method', '') + f'; derived from {source["name"]} at ×{args.factor} '
                            'the rate (same bins below the band limit, the energy features\' means raised)')
    provenance.pop('devScores', None)
    preset['provenance'] = provenance
    preset['description'] = args.description
    with open(os.path.join(out_dir, base + '.json'), 'w') as f:
        json.dump(preset, f, indent=2, ensure_ascii=False, sort_keys=True, separators=(',', ' : '))
        f.write('\n')
    print(f'wrote {os.path.join(out_dir, base)}.json, .basis{", .gain" if "gain" in source else ""}: '
          f'{rate} Hz, {bins} bins, {solved} solved')


if __name__ == '__main__':
    main()
