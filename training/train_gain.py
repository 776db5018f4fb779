# SPDX-License-Identifier: GPL-3.0-or-later
# Trains Sordino's learned gain (a dense layer, one GRU, a sigmoid band-gain layer) on `sordino gain-features` data, in JAX on the CPU.
"""Train the gain refinement network.

    python training/train_gain.py --data training/data/train --out training/runs/r1 [--epochs 20] [--seed 1]

Reads DATA/features.npy (mixtures × hops × F) and DATA/targets.npy (mixtures × hops × B), holds out
the last 10 % of mixtures for validation, and writes OUT/gain.npy (every weight, flat, in the order
of `GainModel` in Sources/SordinoDSP/GainNetwork.swift) and OUT/gain.json (sizes, command, losses),
which `sordino gain-attach` puts into a preset. Both are rewritten after every epoch, so a run
stopped early leaves its last finished epoch (its "history" says which).

The network is the Swift one step for step: x̂ = (x − mean)·scale, u = tanh(W u + b), a GRU in
PyTorch's gate order (reset, update, candidate; r applied to W_hn·h + b_hn), g = σ(W h + b).
Loss per band (RNNoise's, Valin 2018, plus an asymmetry): e = √g − √t, (e² + 10e⁴)·(1 + κ·[e < 0]),
κ = --cut-weight (above −1): at κ > 0 cutting speech (g below the target) costs more than leaving
noise, which keeps clean speech at gain 1; at κ < 0 less (lowlatency-48k's network was fine-tuned
at κ = −0.5: docs/QUALITY.md, seventh step). Adam, full-sequence backpropagation through time. Deterministic per --seed.
--vad-weight W adds W times an auxiliary voice-activity cross-entropy on the GRU's state (a head used
in training only; the preset's network is unchanged; docs/QUALITY.md, "an auxiliary voice-activity loss").

    python training/train_gain.py --data DIR --init presets/speech-16k.gain --init-fft 512 --out OUT [--epochs 0]

starts from a network trained at another rate (`transplant`: the gain bands are fixed in Hz, so
its bands are this rate's first ones); with --epochs 0 it only rewrites it for this rate's features.

    python training/train_gain.py --fixture Tests/Fixtures/gain-gru/fixture.json

writes the small fixture that Tests/SordinoDSPTests/GainNetworkTests.swift checks the Swift
inference against (random weights of small sizes, random inputs, this file's outputs).
"""
import argparse
import json
import os
import sys
import time

import numpy as np

os.environ.setdefault("XLA_FLAGS", "--xla_cpu_multi_thread_eigen=false intra_op_parallelism_threads=1")
import jax  # noqa: E402
import jax.numpy as jnp  # noqa: E402

jax.config.update("jax_default_matmul_precision", "highest")


def init_params(key, f, d, h, b):
    ks = jax.random.split(key, 4)

    def glorot(k, rows, cols):
        limit = np.sqrt(6.0 / (rows + cols))
        return jax.random.uniform(k, (rows, cols), jnp.float32, -limit, limit)

    return {
        "mean": jnp.zeros(f), "scale": jnp.ones(f),
        "in_w": glorot(ks[0], d, f), "in_b": jnp.zeros(d),
        "gi_w": glorot(ks[1], 3 * h, d), "gi_b": jnp.zeros(3 * h),
        "gh_w": glorot(ks[2], 3 * h, h), "gh_b": jnp.zeros(3 * h),
        "out_w": glorot(ks[3], b, h), "out_b": jnp.zeros(b),
    }


ORDER = ["mean", "scale", "in_w", "in_b", "gi_w", "gi_b", "gh_w", "gh_b", "out_w", "out_b"]
TRAINED = ORDER[2:]


def flatten(params):
    return np.concatenate([np.asarray(params[k], np.float32).ravel() for k in ORDER])


def forward(params, x):
    """x: (batch, hops, F) → gains (batch, hops, B)."""
    return jax.nn.sigmoid(hidden_states(params, x) @ params["out_w"].T + params["out_b"])


def hidden_states(params, x):
    """x: (batch, hops, F) → the GRU's states (batch, hops, H)."""
    h_units = params["gh_w"].shape[1]
    u = jnp.tanh(((x - params["mean"]) * params["scale"]) @ params["in_w"].T + params["in_b"])
    gi = u @ params["gi_w"].T + params["gi_b"]                     # (batch, hops, 3H)

    def step(hidden, gi_t):
        gh = hidden @ params["gh_w"].T + params["gh_b"]
        r = jax.nn.sigmoid(gi_t[:, :h_units] + gh[:, :h_units])
        z = jax.nn.sigmoid(gi_t[:, h_units:2 * h_units] + gh[:, h_units:2 * h_units])
        n = jnp.tanh(gi_t[:, 2 * h_units:] + r * gh[:, 2 * h_units:])
        hidden = (1 - z) * n + z * hidden
        return hidden, hidden

    hidden0 = jnp.zeros((x.shape[0], h_units), jnp.float32)
    _, hs = jax.lax.scan(step, hidden0, jnp.swapaxes(gi, 0, 1))
    return jnp.swapaxes(hs, 0, 1)


def loss_fn(trained, fixed, x, t, cut_weight, vad_weight):
    """The band-gain loss; with vad_weight > 0 plus that times the cross-entropy of an auxiliary
    voice-activity output (`vad_w`, `vad_b`: training only, not in ORDER, so not in the preset)
    against "some band's target ≥ 0.1" (speech within 20 dB of the mixture there)."""
    params = dict(fixed, **trained)
    hs = hidden_states(params, x)
    g = jax.nn.sigmoid(hs @ params["out_w"].T + params["out_b"])
    e = jnp.sqrt(g + 1e-8) - jnp.sqrt(t + 1e-8)
    w = 1 + cut_weight * (e < 0)
    loss = jnp.mean((e * e + 10 * e ** 4) * w)
    if vad_weight > 0:
        logit = (hs @ params["vad_w"].T + params["vad_b"])[..., 0]
        label = (jnp.max(t, axis=-1) >= 0.1).astype(jnp.float32)
        loss = loss + vad_weight * jnp.mean(jnp.logaddexp(0.0, logit) - label * logit)
    return loss


def read_gain(path):
    """A preset's NAME.gain (Sources/SordinoPresets/GainFile.swift) → dict of weights by ORDER."""
    raw = open(path, "rb").read()
    if raw[:8] != b"SRDNGAN\0":
        sys.exit(f"{path} is not a gain file")
    f, d, h, b = np.frombuffer(raw[12:28], "<u4").astype(int)
    values, out, at = np.frombuffer(raw[32:], "<f4"), {}, 0
    shapes = {"mean": (f,), "scale": (f,), "in_w": (d, f), "in_b": (d,), "gi_w": (3 * h, d), "gi_b": (3 * h,),
              "gh_w": (3 * h, h), "gh_b": (3 * h,), "out_w": (b, h), "out_b": (b,)}
    for k in ORDER:
        n = int(np.prod(shapes[k]))
        out[k] = values[at:at + n].reshape(shapes[k]).astype(np.float32)
        at += n
    return out


def transplant(source, source_fft, fft, bands, params):
    """The network `source` (trained at another rate, `source_fft` points per 32 ms frame) rewritten
    for this rate's features, normalised as `params` (this data's mean and scale).

    The gain bands' edges are fixed in Hz (GainBands.swift), so the source's bands are this rate's
    first ones, its last band the one holding its Nyquist frequency. Per band the features mean the
    same except the log energy, which a longer FFT of the same frame duration raises by
    log₁₀((fft/source_fft)²); the flux is a mean over bands, scaled by their count. Features of the
    bands above the source's get zero weights (training can start from there); their gains start
    as the source's last band's."""
    sb = source["out_w"].shape[0]
    f, sf = params["mean"].shape[0], source["mean"].shape[0]
    index = np.full(f, -1)
    a, c = np.ones(f, np.float32), np.zeros(f, np.float32)    # x_source ≈ a·x + c
    for band in range(sb):
        index[6 * band:6 * band + 6] = np.arange(6 * band, 6 * band + 6)
        c[6 * band] = -2 * np.log10(fft / source_fft)
    index[6 * bands:] = np.arange(6 * sb, sf)
    a[6 * bands + 1] = bands / sb
    used = index >= 0
    s_eff = np.zeros(f, np.float32)
    m_eff = np.zeros(f, np.float32)
    s_eff[used] = source["scale"][index[used]] * a[used]
    m_eff[used] = (source["mean"][index[used]] - c[used]) / a[used]
    w = np.zeros((source["in_w"].shape[0], f), np.float32)
    w[:, used] = source["in_w"][:, index[used]]
    mean, scale = np.asarray(params["mean"]), np.asarray(params["scale"])
    out = dict(params)
    out["in_w"] = jnp.asarray(w * (s_eff / scale))
    out["in_b"] = jnp.asarray(source["in_b"] + (w * s_eff) @ (m_eff - mean))
    for k in ["gi_w", "gi_b", "gh_w", "gh_b"]:
        out[k] = jnp.asarray(source[k])
    rows = [min(j, sb - 1) for j in range(bands)]
    out["out_w"] = jnp.asarray(source["out_w"][rows])
    out["out_b"] = jnp.asarray(source["out_b"][rows])
    return out


def write_fixture(path, seed):
    rng = np.random.default_rng(seed)
    f, d, h, b, hops = 11, 6, 5, 3, 20
    params = init_params(jax.random.PRNGKey(seed), f, d, h, b)
    params = {k: jnp.asarray(rng.normal(0, 0.5, np.shape(v)), jnp.float32) for k, v in params.items()}
    params["scale"] = jnp.abs(params["scale"]) + 0.5
    x = rng.normal(0, 1.5, (1, hops, f)).astype(np.float32)
    g = np.asarray(forward(params, jnp.asarray(x)))[0]
    fixture = {"featureCount": f, "inputUnits": d, "hiddenUnits": h, "bandCount": b,
               "values": flatten(params).tolist(), "inputs": x[0].tolist(), "outputs": g.tolist(),
               "command": " ".join(["python", "training/train_gain.py"] + sys.argv[1:])}
    os.makedirs(os.path.dirname(path), exist_ok=True)
    with open(path, "w") as out:
        json.dump(fixture, out)
    print(f"wrote {path}")


def main():
    p = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    p.add_argument("--data", action="append", help="folder(s) from `sordino gain-features`")
    p.add_argument("--out")
    p.add_argument("--input-units", type=int, default=48)
    p.add_argument("--hidden-units", type=int, default=64)
    p.add_argument("--epochs", type=int, default=20)
    p.add_argument("--batch", type=int, default=32)
    p.add_argument("--chunk", type=int, default=250, help="hops per training sequence (mixtures are cut into chunks)")
    p.add_argument("--learning-rate", type=float, default=3e-3)
    p.add_argument("--cut-weight", type=float, default=1.0,
                   help="κ > −1: weight 1 + κ on errors that cut speech (g below the target)")
    p.add_argument("--seed", type=int, default=1)
    p.add_argument("--vad-weight", type=float, default=0.0,
                   help="weight of an auxiliary voice-activity loss on the GRU's state (training only; 0: none)")
    p.add_argument("--init", help="start from a preset's NAME.gain trained at another rate (see `transplant`)")
    p.add_argument("--init-fft", type=int, default=512, help="FFT length of --init's preset")
    p.add_argument("--fixture")
    a = p.parse_args()
    if a.fixture:
        write_fixture(a.fixture, a.seed)
        return
    if not a.data or not a.out:
        p.error("--data and --out are required (or --fixture)")
    if not a.cut_weight > -1:
        p.error(f"--cut-weight must be above -1 (got {a.cut_weight}): at -1 or below, cutting speech costs nothing or pays")
    if not a.vad_weight >= 0:
        p.error(f"--vad-weight must be 0 (none) or more (got {a.vad_weight})")

    xs, ts = [], []
    for folder in a.data:
        xs.append(np.load(os.path.join(folder, "features.npy")))
        ts.append(np.load(os.path.join(folder, "targets.npy")))
    x, t = np.concatenate(xs), np.concatenate(ts)
    del xs, ts   # the parts' memory: 48 kHz low-latency features run to gigabytes per part
    sane = np.array([np.all(np.abs(x[i]) < 1e3) and np.all(np.isfinite(t[i])) for i in range(len(x))])
    if not sane.all():   # log energies and ratios are tens at most; garbage would wreck mean and scale
        print(f"dropped mixture(s) {np.flatnonzero(~sane).tolist()}: features not finite or above 1e3", flush=True)
        x, t = x[sane], t[sane]
    m, hops, f = x.shape
    b = t.shape[2]
    held = max(1, m // 10)
    x_train, t_train, x_val, t_val = x[:-held], t[:-held], x[-held:], t[-held:]
    chunks = hops // a.chunk
    x_train = x_train[:, :chunks * a.chunk].reshape(-1, a.chunk, f)
    t_train = t_train[:, :chunks * a.chunk].reshape(-1, a.chunk, b)

    params = init_params(jax.random.PRNGKey(a.seed), f, a.input_units, a.hidden_units, b)
    flat = x_train.reshape(-1, f)
    params["mean"] = jnp.asarray(flat.mean(0))
    params["scale"] = jnp.asarray(1 / np.maximum(flat.std(0), 1e-3))
    if a.init:
        edges = json.load(open(os.path.join(a.data[0], "bands.json")))["edges"]
        params = transplant(read_gain(a.init), a.init_fft, 2 * (edges[-1] - 1), b, params)
        if (params["in_w"].shape[0], params["gh_w"].shape[1]) != (a.input_units, a.hidden_units):
            p.error("--input-units/--hidden-units must match --init's network")
    fixed = {k: params[k] for k in ["mean", "scale"]}
    trained = {k: params[k] for k in TRAINED}
    if a.vad_weight > 0:
        limit = np.sqrt(6.0 / (a.hidden_units + 1))
        trained["vad_w"] = jax.random.uniform(jax.random.PRNGKey(a.seed + 1), (1, a.hidden_units), jnp.float32, -limit, limit)
        trained["vad_b"] = jnp.zeros(1)
    count = sum(int(np.size(v)) for v in params.values())
    print(f"{m} mixtures × {hops} hops, {f} features, {b} bands; {count} parameters", flush=True)

    grad = jax.jit(jax.value_and_grad(loss_fn), static_argnums=(5,))
    val_loss = jax.jit(loss_fn, static_argnums=(5,))
    moments = {k: (jnp.zeros_like(v), jnp.zeros_like(v)) for k, v in trained.items()}

    @jax.jit
    def adam(trained, moments, grads, step, lr):
        new, new_m = {}, {}
        for k in trained:
            m1, m2 = moments[k]
            m1 = 0.9 * m1 + 0.1 * grads[k]
            m2 = 0.999 * m2 + 0.001 * grads[k] ** 2
            hat1, hat2 = m1 / (1 - 0.9 ** step), m2 / (1 - 0.999 ** step)
            new[k] = trained[k] - lr * hat1 / (jnp.sqrt(hat2) + 1e-8)
            new_m[k] = (m1, m2)
        return new, new_m

    rng = np.random.default_rng(a.seed)
    step, history, started = 0, [], time.time()
    for epoch in range(a.epochs):
        order = rng.permutation(len(x_train))
        total = 0.0
        lr = a.learning_rate * (0.5 ** (epoch / max(1, a.epochs / 3)))
        batches = len(order) // a.batch
        for i in range(batches):
            idx = order[i * a.batch:(i + 1) * a.batch]
            value, grads = grad(trained, fixed, jnp.asarray(x_train[idx]), jnp.asarray(t_train[idx]), a.cut_weight, a.vad_weight)
            step += 1
            trained, moments = adam(trained, moments, grads, step, lr)
            total += float(value)
        v = float(val_loss(trained, fixed, jnp.asarray(x_val), jnp.asarray(t_val), a.cut_weight, 0.0))   # the gain loss alone
        history.append({"epoch": epoch + 1, "train": total / max(batches, 1), "validation": v})
        print(f"epoch {epoch + 1}: train {total / max(batches, 1):.5f}, validation {v:.5f} "
              f"({time.time() - started:.0f} s)", flush=True)
        if epoch + 1 < a.epochs:
            write(a, dict(fixed, **trained), count, history)   # a run stopped early keeps its last epoch

    write(a, dict(fixed, **trained), count, history)
    print(f"wrote {a.out}/gain.npy, gain.json")


def write(a, params, count, history):
    """OUT/gain.npy and OUT/gain.json for `params` after the epochs in `history`."""
    f, b = params["mean"].shape[0], params["out_w"].shape[0]
    os.makedirs(a.out, exist_ok=True)
    np.save(os.path.join(a.out, "gain.npy"), flatten(params))
    command = " ".join(["python", "training/train_gain.py"] + sys.argv[1:])
    with open(os.path.join(a.out, "gain.json"), "w") as out:
        json.dump({"featureCount": f, "inputUnits": a.input_units, "hiddenUnits": a.hidden_units, "bandCount": b,
                   "parameters": count, "command": command, "history": history}, out, indent=1)


if __name__ == "__main__":
    main()
