"""`bench benchmark metrics`: each metric at disentanglement_lib's sizes against a straightforward reference in
the same run (per-pair `mutual_info_score` loops for MIG; serial per-factor classifiers for SAP and DCI), with a
check that they agree; then the default evaluation of one model, encoding included, and the opt-in scores' cost.
"""

import time

import numpy as np
import sklearn.metrics

from bench.errors import UserError
from bench.metrics import MetricSettings, evaluate
from bench.metrics.dci import dci
from bench.metrics.evaluate import Evaluation
from bench.metrics.mig import mig
from bench.metrics.sap import sap
from bench.train import TrainConfig, train
from bench.variants import get

FACTOR_SIZES = {"dsprites": (3, 6, 40, 32, 32), "shapes3d": (10, 10, 10, 8, 4, 15)}
NUM_TRAIN, NUM_TEST = 10_000, 5_000


def reference_mig(codes, factors, num_bins=20) -> float:
    """disentanglement_lib's MIG transcribed directly: a discretisation loop and one sklearn call per pair."""
    bins = np.zeros_like(codes)
    for d in range(codes.shape[1]):
        bins[:, d] = np.digitize(codes[:, d], np.histogram(codes[:, d], num_bins)[1][:-1])
    mi = np.array([[sklearn.metrics.mutual_info_score(factors[:, k], bins[:, d]) for k in range(factors.shape[1])]
                   for d in range(codes.shape[1])])
    entropy = np.array([sklearn.metrics.mutual_info_score(factors[:, k], factors[:, k])
                        for k in range(factors.shape[1])])
    top = np.sort(mi, axis=0)[::-1]
    return float(np.mean((top[0] - top[1]) / entropy))


def synthetic_codes(sizes, latents, rng, n):
    """A partly disentangled code: standardised factors, slightly rotated, noisy, padded with noise dims."""
    factors = np.stack([rng.integers(0, s, n) for s in sizes], axis=1)
    z = (factors - factors.mean(0)) / factors.std(0)
    width = max(latents, len(sizes))
    z = np.concatenate([z, rng.standard_normal((n, width - len(sizes)))], axis=1)
    q, _ = np.linalg.qr(np.eye(width) + 0.3 * rng.standard_normal((width, width)))
    return (z @ q)[:, :latents] + 0.1 * rng.standard_normal((n, latents)), factors


def _time(fn, repeats: int = 1):
    """(value, seconds); with repeats, the best of them, as timeit does for fast functions."""
    best = float("inf")
    for _ in range(repeats):
        start = time.perf_counter()
        value = fn()
        best = min(best, time.perf_counter() - start)
    return value, best


def _row(what, ours_s, ref_s, agree):
    print(f"{what:<40} {ours_s:>9.3f} s {ref_s:>9.3f} s {ref_s / ours_s:>7.2f}x  {agree}")


COMPARED = ("mig", "sap", "dci")


def compare(dataset, latents, rng, metrics=COMPARED):
    codes, factors = synthetic_codes(FACTOR_SIZES[dataset], latents, rng, NUM_TRAIN + NUM_TEST)
    tr, te = (codes[:NUM_TRAIN], factors[:NUM_TRAIN]), (codes[NUM_TRAIN:], factors[NUM_TRAIN:])
    if "mig" in metrics:
        ours, t_ours = _time(lambda: mig(*tr)["mig"], repeats=7)
        ref, t_ref = _time(lambda: reference_mig(*tr), repeats=7)
        _row(f"MIG {dataset} {latents} latents", t_ours, t_ref, f"|diff| {abs(ours - ref):.1e}")
    for name, fn in (("SAP", sap), ("DCI", dci)):
        if name.lower() not in metrics:
            continue
        repeats = 3 if fn is sap else 1  # DCI takes minutes; one timing of each is enough
        ours, t_ours = _time(lambda: fn(*tr, *te), repeats)
        ref, t_ref = _time(lambda: fn(*tr, *te, n_jobs=1), repeats)
        _row(f"{name} {dataset} {latents} latents", t_ours, t_ref, "identical" if ours == ref else "DIFFERENT")


def default_evaluation(data_root=None, steps=200):
    """The suite's default metric set for one (briefly trained) model on dSprites, encoding included."""
    data = get("dsprites", "original", data_root)
    trainer = train(TrainConfig("beta_vae", "dsprites", steps=steps), data, None, progress=False)
    record, seconds = _time(lambda: evaluate(trainer.model, data))
    print(f"default set (MIG, SAP, DCI, active units, reconstruction) of beta_vae on dsprites, encoding "
          f"included: {seconds:.0f} s (target 120 s); MIG {record['metrics']['mig']:.3f} after {steps} steps")
    return trainer.model, data


def opt_in_costs(model, data, batches: int = 100):
    """The opt-in scores' cost at their defaults. It is encoding (their classifiers are tiny), so it is the
    number of images they encode over the encoding rate measured here in batches of 64."""
    ev = Evaluation(model, data, MetricSettings())
    rng = np.random.default_rng(0)
    _, seconds = _time(lambda: [ev.codes(data.sample_factors(64, rng)) for _ in range(batches)])
    rate = batches * 64 / seconds
    for name, images in (("FactorVAE score", (10_000 + 5_000) * 64 + 10_000),
                         ("BetaVAE score", (10_000 + 5_000) * 2 * 64)):
        print(f"{name}: encodes {images:,} images at the defaults; at the measured {rate:,.0f} img/s in batches "
              f"of 64, about {images / rate / 60:.1f} min")
    _, seconds = _time(lambda: evaluate(model, data, MetricSettings(metrics=("modularity",))))
    print(f"modularity and explicitness at the defaults (15,000 points): {seconds:.0f} s")


PARTS = ("compare", "evaluation")


def run(data_root=None, datasets=("dsprites", "shapes3d"), latents=(5, 10), parts=PARTS, metrics=COMPARED):
    for name, valid in [(p, PARTS) for p in parts] + [(m, COMPARED) for m in metrics]:
        if name not in valid:
            raise UserError(f"unknown {name!r}; choose from: {', '.join(valid)}")
    if "compare" in parts:
        print(f"# metrics at {NUM_TRAIN} train / {NUM_TEST} test points: ours (parallel, vectorised) vs reference")
        print(f"{'what':<40} {'ours':>11} {'reference':>11} {'speedup':>8}  agreement")
        rng = np.random.default_rng(0)
        for dataset in datasets:
            for n in latents:
                compare(dataset, n, rng, metrics)
    if "evaluation" in parts:
        model, data = default_evaluation(data_root)
        opt_in_costs(model, data)
