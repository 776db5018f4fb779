# SPDX-License-Identifier: GPL-3.0-or-later
# Offline estimate of what an RNNoise-style pitch (comb) filter before Sordino's gains would add on dev mixtures.
"""Does a pitch filter (Valin 2018; the logic of rnnoise's rnn_pitch_filter) help Sordino's output?

    ~/.cache/sordino-eval/venv/bin/python ../shared/eval/run_eval.py --mode full --jobs 1 --enh noisy \
        --types street,machinery,water,synth_pink,keyboard,synth_white,babble --snrs=-5,0,5 --per-cell 3 \
        --out sub --save-audio AUDIO --cmd "sordino=.build/release/sordino process --quiet --compensate-delay --preset presets/speech-16k.json {in} {out}"
    OPENBLAS_NUM_THREADS=1 ~/.cache/sordino-eval/venv/bin/python training/pitch_filter_offline.py AUDIO sub.json --out results

AUDIO/{noisy,sordino}/ID.wav come from run_eval.py --save-audio; sub.json is that run's result file
(its config rebuilds the same mixtures, so the clean reference is exactly the one the harness scores
against, and the metrics are the harness's own). Paths scored per mixture:
  sordino : Sordino's saved output as is
  ctrl    : istft(G * X), G = clip(|Y|/|X|, 0, 1) in a 512/128 sqrt-Hann STFT (resynthesis control)
  pf      : istft(G * PF(X)), PF the pitch filter, lag T from the noisy input, band gains
            g_b = sqrt(sum G^2|X|^2 / sum |X|^2) over Sordino's 22 bands
  pf_ylag : the lag from Sordino's output; pf_strong: r = 1 where Exp > 0 and the band is cut.
docs/QUALITY.md ("a pitch filter, measured offline") has the result.
"""
import argparse, json, os, sys
import numpy as np
import soundfile as sf

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), '..', '..', 'shared', 'eval'))
import evalcore as C  # noqa: E402

N, H = 512, 128
TMIN, TMAX = 32, 320  # 2 .. 20 ms at 16 kHz
WIN = np.sqrt(np.hanning(N + 1)[:N])  # periodic Hann, sqrt: analysis and synthesis
PAD = N + TMAX
EDGES_HZ = [0, 100, 200, 300, 400, 510, 630, 770, 920, 1080, 1270, 1480, 1720, 2000, 2320, 2700, 3150, 3700,
            4400, 5300, 6400, 7700, 9500, 12000]


def band_edges(sr=16000, n=N):
    nb = n // 2 + 1
    e = [0]
    for hz in EDGES_HZ[1:]:
        b = int(round(hz * n / sr))
        if e[-1] < b < nb:
            e.append(b)
    e.append(nb)
    return np.array(e)


EDGES = band_edges()
NBANDS = len(EDGES) - 1
assert NBANDS == 22, NBANDS
BAND_OF = np.concatenate([np.full(EDGES[b + 1] - EDGES[b], b) for b in range(NBANDS)])


def interp_matrix():
    """(bins x bands): linear interpolation between band centres, flat beyond the end ones (Sordino's)."""
    c = (EDGES[:-1] + EDGES[1:] - 1) / 2
    M = np.zeros((N // 2 + 1, NBANDS))
    for f in range(N // 2 + 1):
        if f <= c[0]:
            M[f, 0] = 1
        elif f >= c[-1]:
            M[f, -1] = 1
        else:
            b = np.searchsorted(c, f, side='right') - 1
            w = (f - c[b]) / (c[b + 1] - c[b])
            M[f, b], M[f, b + 1] = 1 - w, w
    return M


INTERP = interp_matrix()


def bandsum(v):  # (frames, bins) -> (frames, bands)
    return np.add.reduceat(v, EDGES[:-1], axis=1)


def frames_of(x):
    """Padded signal and frame start indices (in the padded signal) covering x fully."""
    L = len(x)
    xp = np.concatenate([np.zeros(PAD), x, np.zeros(N)])
    starts = PAD - N + H * np.arange((L + N) // H + 1)
    starts = starts[starts + N <= len(xp)]
    return xp, starts


def seg(xp, starts, lag=0):
    idx = (starts - lag)[:, None] + np.arange(N)[None, :]
    return xp[idx]


def stft_seg(s):
    return np.fft.rfft(s * WIN, axis=1)


def istft(S, starts, L):
    fr = np.fft.irfft(S, n=N, axis=1) * WIN
    out = np.zeros(PAD + L + N)
    wsum = np.zeros_like(out)
    for k, s0 in enumerate(starts):
        out[s0:s0 + N] += fr[k]
        wsum[s0:s0 + N] += WIN ** 2
    return out[PAD:PAD + L] / np.maximum(wsum[PAD:PAD + L], 1e-9)


def pitch_lags(xp, starts):
    """Per frame: lag T in [TMIN, TMAX] maximising the normalised correlation of the frame's window with
    the signal T samples earlier; the smallest local maximum within 0.85 of the best (against octave
    errors). Returns lags and their normalised correlation."""
    cur = seg(xp, starts)  # (F, N)
    ext_idx = (starts - TMAX)[:, None] + np.arange(N + TMAX)[None, :]
    ext = xp[ext_idx]  # (F, N+TMAX); ext[:, TMAX-T : TMAX-T+N] = delayed by T
    nfft = 2048
    A = np.fft.rfft(ext, nfft, axis=1)
    B = np.fft.rfft(cur, nfft, axis=1)
    cc = np.fft.irfft(A * np.conj(B), nfft, axis=1)  # cc[:, m] = sum_n ext[n+m] cur[n]
    lags = np.arange(TMIN, TMAX + 1)
    num = cc[:, TMAX - lags]  # (F, nlags)
    cs = np.concatenate([np.zeros((len(starts), 1)), np.cumsum(ext ** 2, axis=1)], axis=1)
    e_del = cs[:, TMAX - lags + N] - cs[:, TMAX - lags]
    e_cur = np.sum(cur ** 2, axis=1, keepdims=True)
    c = num / np.sqrt(e_cur * e_del + 1e-12)
    best = c.max(1)
    T = np.empty(len(starts), int)
    for k in range(len(starts)):
        ck = c[k]
        loc = np.where((ck[1:-1] >= ck[:-2]) & (ck[1:-1] >= ck[2:]) & (ck[1:-1] >= 0.85 * best[k]))[0] + 1
        i = loc[0] if len(loc) else int(np.argmax(ck))
        T[k] = lags[i]
    return T, c[np.arange(len(starts)), T - TMIN]


def pitch_filter(X, P, g, strength='rnnoise'):
    """RNNoise's rnn_pitch_filter on (frames x bins) spectra X, P with band gains g (frames x bands)."""
    Ex = bandsum(np.abs(X) ** 2)
    Ep = bandsum(np.abs(P) ** 2)
    Exp = bandsum(np.real(X * np.conj(P))) / np.sqrt(0.001 + Ex * Ep)
    if strength == 'rnnoise':
        r = np.where(Exp > g, 1.0, Exp ** 2 * (1 - g ** 2) / (0.001 + g ** 2 * (1 - Exp ** 2)))
    elif strength == 'strong':  # full comb wherever the pitch correlation is positive and the band is cut
        r = np.where(Exp > 0, 1.0, 0.0) * (g < 0.999)
    else:
        raise ValueError(strength)
    r = np.sqrt(np.clip(r, 0, 1)) * np.sqrt(Ex / (1e-8 + Ep))
    Xf = X + (r @ INTERP.T) * P
    newE = bandsum(np.abs(Xf) ** 2)
    norm = np.sqrt(Ex / (1e-8 + newE))
    return Xf * (norm @ INTERP.T), dict(Exp=Exp, r=r)


def process(x, y, variant, g_override=None):
    """x: noisy input, y: Sordino output (aligned). Returns the output signal of the variant."""
    L = len(x)
    xp, starts = frames_of(x)
    X = stft_seg(seg(xp, starts))
    if y is None:
        G = np.ones(X.shape)
    else:
        yp, _ = frames_of(y)
        Y = stft_seg(seg(yp, starts))
        G = np.clip(np.abs(Y) / (np.abs(X) + 1e-12), 0, 1)
    if variant == 'ctrl':
        return istft(G * X, starts, L), {}
    g = np.clip(np.sqrt(bandsum(G ** 2 * np.abs(X) ** 2) / (bandsum(np.abs(X) ** 2) + 1e-12)), 0, 1)
    if g_override is not None:
        g = g_override
    if variant in ('pf', 'pf_strong'):
        T, cT = pitch_lags(xp, starts)
    elif variant == 'pf_ylag':  # lag from Sordino's output, P still from the noisy input
        T, cT = pitch_lags(yp, starts)
    else:
        raise ValueError(variant)
    P = np.stack([np.fft.rfft(xp[s - t:s - t + N] * WIN) for s, t in zip(starts, T)])
    Xf, info = pitch_filter(X, P, g, 'strong' if variant == 'pf_strong' else 'rnnoise')
    info.update(T=T, cT=cT, g=g)
    return istft(G * Xf, starts, L), info


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument('audio')
    ap.add_argument('result_json')
    ap.add_argument('--variants', default='ctrl,pf,pf_ylag,pf_strong')
    ap.add_argument('--limit', type=int, default=0)
    ap.add_argument('--out', default='results')
    a = ap.parse_args()
    cfg = json.load(open(a.result_json))['config']
    mixes = C.make_mixtures(C.load_set('dev'), cfg['types'], cfg['snrs'], cfg['per_cell'], seed=cfg['seed'],
                            lead_in=cfg['lead_in_s'])
    L0 = int(round(cfg['lead_in_s'] * C.SR))
    variants = a.variants.split(',')
    rows = []
    if a.limit:
        mixes = mixes[:a.limit]
    for i, m in enumerate(mixes):
        x = m['mix'].astype(np.float64)
        y = sf.read(os.path.join(a.audio, 'sordino', m['id'] + '.wav'))[0]
        y = np.pad(y, (0, max(0, len(x) - len(y))))[:len(x)]
        ref = m['clean'][L0:]
        row = dict(id=m['id'], type=m['type'], snr=m['snr'], mixture=C.all_metrics(ref, m['mix'][L0:]),
                   sordino=C.all_metrics(ref, y[L0:]))
        for v in variants:
            z, info = process(x, y, v)
            row[v] = C.all_metrics(ref, z[L0:].astype(np.float32))
            if 'T' in info:
                row[v]['mean_r'] = float(np.mean(np.minimum(info['r'], 1)))
                row[v]['frac_r_gt_0.1'] = float(np.mean(info['r'] > 0.1))
        rows.append(row)
        print(i, m['id'], ' '.join(f"{k}:{row[k]['pesq']:.3f}/{row[k]['stoi']:.3f}/{row[k]['estoi']:.3f}"
                                   for k in ['mixture', 'sordino'] + variants), flush=True)
    json.dump(rows, open(a.out + '.json', 'w'), indent=1)


if __name__ == '__main__':
    main()
