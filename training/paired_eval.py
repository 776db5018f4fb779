# SPDX-License-Identifier: GPL-3.0-or-later
# Paired analysis of a ../shared/eval run_eval.py JSON: each variant minus a base, per mixture, mean ± 1.96 standard errors, by noise type and SNR.
"""Paired analysis of a run_eval.py JSON: means (3 decimals), per-type dPESQ, variant - base per mixture (mean +- 1.96 SE).
usage: python3 training/paired_eval.py RESULT.json BASE VARIANT [VARIANT ...]"""
import json, sys, math
from collections import defaultdict
j = json.load(open(sys.argv[1])); base = sys.argv[2]; variants = sys.argv[3:]
pf = j['per_file']; M = ['pesq', 'stoi', 'estoi', 'sisdr']
names = [n for n in j['summary'] if n != 'noisy']
def d(f, n, m): return f[n][m] - f['mixture'][m]
def ms(xs):
    n = len(xs); mu = sum(xs) / n
    sd = math.sqrt(sum((x - mu) ** 2 for x in xs) / (n - 1)) if n > 1 else 0
    return mu, 1.96 * sd / math.sqrt(n)
print(f"n = {len(pf)} mixtures\n\n### Mean gains over the mixture (3 decimals)\n")
print("| enhancer | dPESQ | dSTOI | dESTOI | dSI-SDR |\n|---|---|---|---|---|")
for n in names:
    print(f"| {n} | " + " | ".join(f"{ms([d(f,n,m) for f in pf])[0]:+.3f}" for m in M) + " |")
print(f"\n### Paired difference variant - {base} per mixture (mean +- 1.96 SE; wins/losses/ties on PESQ at 0.005)\n")
print("| variant | PESQ | STOI | ESTOI | SI-SDR (dB) | PESQ W/L/T |\n|---|---|---|---|---|---|")
for v in variants:
    cells = []
    for m in M:
        mu, ci = ms([f[v][m] - f[base][m] for f in pf]); cells.append(f"{mu:+.4f} ± {ci:.4f}")
    dp = [f[v]['pesq'] - f[base]['pesq'] for f in pf]
    wlt = f"{sum(x > .005 for x in dp)}/{sum(x < -.005 for x in dp)}/{sum(abs(x) <= .005 for x in dp)}"
    print(f"| {v} | " + " | ".join(cells) + f" | {wlt} |")
types = list(dict.fromkeys(f['type'] for f in pf)); snrs = sorted(set(f['snr'] for f in pf))
for key, vals, label in [('type', types, 'noise type'), ('snr', snrs, 'SNR (dB)')]:
    print(f"\n### dPESQ by {label} (mean gain over the mixture; paired variant - {base} ± 1.96 SE)\n")
    print(f"| {label} | " + " | ".join(names) + " | " + " | ".join(f"{v}-{base}" for v in variants) + " |")
    print("|---" * (1 + len(names) + len(variants)) + "|")
    for t in vals:
        sub = [f for f in pf if f[key] == t]
        row = [f"{ms([d(f,n,'pesq') for f in sub])[0]:+.3f}" for n in names]
        row += ["{:+.3f} ± {:.3f}".format(*ms([f[v]['pesq'] - f[base]['pesq'] for f in sub])) for v in variants]
        print(f"| {t} | " + " | ".join(row) + " |")
    if key == 'type' and 'rnnoise' in names:
        print("\nTypes where dPESQ beats RNNoise: " + ", ".join(
            f"{n} {sum(ms([d(f,n,'pesq') for f in pf if f['type']==t])[0] > ms([d(f,'rnnoise','pesq') for f in pf if f['type']==t])[0] for t in types)}/{len(types)}"
            for n in names if n != 'rnnoise'))
    print(f"\n### dSTOI by {label}\n")
    print(f"| {label} | " + " | ".join(names) + " |\n" + "|---" * (1 + len(names)) + "|")
    for t in vals:
        sub = [f for f in pf if f[key] == t]
        print(f"| {t} | " + " | ".join(f"{ms([d(f,n,'stoi') for f in sub])[0]:+.4f}" for n in names) + " |")
