# SPDX-License-Identifier: GPL-3.0-or-later
# Averages the weights of gain networks trained from the same start (train_gain.py runs that differ in their epochs) into one.
"""Average the weights of gain networks of the same shape, element by element.

    python3 training/average_gain.py --out training/data/run-avg training/data/run-a training/data/run-b

Each RUN folder holds gain.npy and gain.json as `training/train_gain.py` writes them. The runs must
have the same sizes and the same input normalisation (the same training data); they should share
their start (the same --seed and data, e.g. 12 and 24 epochs), where the mean of the weights lies
between two solutions of one basin (docs/QUALITY.md, "averaged weights"). Writes OUT/gain.npy and
OUT/gain.json (the first run's sizes; its command says how it was made), which `sordino gain-attach`
takes like any run's. Needs numpy only.
"""
import argparse
import json
import os
import shlex
import sys

import numpy as np

SIZES = ["featureCount", "inputUnits", "hiddenUnits", "bandCount", "parameters"]


def main():
    p = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    p.add_argument("--out", required=True)
    p.add_argument("runs", nargs="+", help="train_gain.py output folders (at least two)")
    a = p.parse_args()
    if len(a.runs) < 2:
        sys.exit("average_gain.py: give at least two runs to average")
    descriptions = [json.load(open(os.path.join(r, "gain.json"))) for r in a.runs]
    weights = [np.load(os.path.join(r, "gain.npy")) for r in a.runs]
    for run, d, w in zip(a.runs, descriptions, weights):
        if any(d[k] != descriptions[0][k] for k in SIZES) or w.shape != weights[0].shape:
            sys.exit(f"average_gain.py: {run} has other sizes than {a.runs[0]}: "
                     + ", ".join(f"{k} {d[k]}" for k in SIZES))
    # The first entries are the input normalisation (mean, scale per feature), computed from the
    # training data: runs on other data would average two different inputs.
    f = descriptions[0]["featureCount"]
    if any(not np.array_equal(w[:2 * f], weights[0][:2 * f]) for w in weights):
        sys.exit("average_gain.py: the runs normalise their inputs differently (trained on other data)")
    os.makedirs(a.out, exist_ok=True)
    mean = np.mean(np.stack(weights), axis=0).astype(np.float32)
    np.save(os.path.join(a.out, "gain.npy"), mean)
    description = {k: descriptions[0][k] for k in SIZES}
    description["command"] = "python3 training/average_gain.py " + " ".join(shlex.quote(x) for x in sys.argv[1:]) \
        + " (" + "; ".join(d["command"] for d in descriptions) + ")"
    description["history"] = []
    json.dump(description, open(os.path.join(a.out, "gain.json"), "w"))
    print(f"wrote {a.out}/gain.npy, gain.json: the mean of {len(weights)} networks of {mean.size} weights")


if __name__ == "__main__":
    main()
