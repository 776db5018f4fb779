# SPDX-License-Identifier: GPL-3.0-or-later
# Makes the scikit-learn reference for DecompositionTests: V, W0, H0 (.npy) and objectives (JSON). Run once by hand:
#   pip install scikit-learn && python3 Tests/Fixtures/sklearn-nmf/make_reference.py
import json
import os

import numpy as np
import sklearn
from sklearn.decomposition import non_negative_factorization

here = os.path.dirname(os.path.abspath(__file__))
rng = np.random.default_rng(20240607)
bins, frames, rank = 64, 120, 5
# A spectrogram-like V: 8 non-negative sources with gamma-distributed fluctuations, strictly positive
# (IS and KL need v > 0 for a fair comparison of the epsilon handling).
w_true = rng.gamma(0.5, 1.0, (bins, 8))
h_true = rng.gamma(0.5, 1.0, (8, frames))
v = (w_true @ h_true) * rng.gamma(4.0, 0.25, (bins, frames)) + 1e-3
w0 = rng.uniform(0.5, 1.5, (bins, rank)) * np.sqrt(v.mean() / rank)
h0 = rng.uniform(0.5, 1.5, (rank, frames)) * np.sqrt(v.mean() / rank)
v, w0, h0 = (a.astype(np.float32) for a in (v, w0, h0))
np.save(os.path.join(here, "V.npy"), v)
np.save(os.path.join(here, "W0.npy"), w0)
np.save(os.path.join(here, "H0.npy"), h0)


def beta_divergence(x, y, beta):
    if beta == 2:
        return 0.5 * np.sum((x - y) ** 2)
    if beta == 1:
        return np.sum(x * np.log(x / y) - x + y)
    if beta == 0:
        return np.sum(x / y - np.log(x / y) - 1)
    raise ValueError(beta)


reference = {"sklearn_version": sklearn.__version__, "rank": rank, "objectives": {}}
for beta in (2, 1, 0):
    values = {}
    for n in (10, 50, 200):
        # float64 copies of the float32 fixtures; tol=0 disables sklearn's early stop.
        w, h, _ = non_negative_factorization(
            v.astype(np.float64), W=w0.astype(np.float64).copy(), H=h0.astype(np.float64).copy(),
            n_components=rank, init="custom", solver="mu", beta_loss=beta, tol=0, max_iter=n,
            alpha_W=0.0, alpha_H=0.0)
        values[str(n)] = float(beta_divergence(v.astype(np.float64), w @ h, beta))
    values["0"] = float(beta_divergence(v.astype(np.float64), w0.astype(np.float64) @ h0.astype(np.float64), beta))
    reference["objectives"][str(beta)] = values
with open(os.path.join(here, "objectives.json"), "w") as f:
    json.dump(reference, f, indent=2, sort_keys=True)
print(json.dumps(reference, indent=2))
