# SPDX-License-Identifier: GPL-3.0-or-later
# Undoes `sordino gain-attach --sharpness A` on a preset's NAME.gain, so a shipped network can start a training run (`train_gain.py --init`).
"""Write the network a sharpened NAME.gain was made from.

    python3 training/unsharpen_gain.py presets/speech-16k.gain --sharpness 1.3 -o training/data/speech-16k-unsharpened.gain

`gain-attach --sharpness A --pivot P` folds logit g ← A·(logit g − logit P) + logit P into the
output layer (GainModel.sharpened in Sources/SordinoDSP/GainNetwork.swift): its weights times A,
its biases A·b + (1 − A)·logit P. This divides them back. The header is copied as it is; the
file's checksum is not rewritten, since `train_gain.py --init` reads the weights only (a preset
cannot load the result: attach the trained network with `sordino gain-attach`).
"""
import argparse

import numpy as np


def main():
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("gain", help="a preset's sharpened NAME.gain")
    p.add_argument("--sharpness", type=float, required=True, help="the A it was attached with (1…4)")
    p.add_argument("--pivot", type=float, default=0.5, help="the P it was attached with (default 0.5)")
    p.add_argument("-o", "--out", required=True, help="where to write the unsharpened weights")
    a = p.parse_args()
    if not 1 <= a.sharpness <= 4 or not 0.01 <= a.pivot <= 0.99:
        p.error("--sharpness must be 1…4 and --pivot 0.01…0.99, as gain-attach takes them")
    raw = bytearray(open(a.gain, "rb").read())
    if raw[:8] != b"SRDNGAN\0":
        p.error(f"{a.gain} is not a gain file")
    f, d, h, b = (int(x) for x in np.frombuffer(bytes(raw[12:28]), "<u4"))
    values = np.frombuffer(bytes(raw[32:]), "<f4").copy()   # float32 arithmetic, as the file holds
    sharpness, offset = np.float32(a.sharpness), np.float32((1 - a.sharpness) * np.log(a.pivot / (1 - a.pivot)))
    weights = slice(len(values) - b * h - b, len(values) - b)
    biases = slice(len(values) - b, len(values))
    values[weights] /= sharpness
    values[biases] = (values[biases] - offset) / sharpness
    raw[32:] = values.astype("<f4").tobytes()
    open(a.out, "wb").write(raw)
    print(f"wrote {a.out}: {f} features, {d} input units, {h} hidden, {b} bands; output layer divided by {a.sharpness}")


if __name__ == "__main__":
    main()
