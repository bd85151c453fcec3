"""Every metric the study can compute, each declared once: how it is computed from an evaluation's shared points
and codes, which of its outputs are numbers the report reads, tables and `bench check` holds to its baseline, and
the fixed settings it records. Records, tables and the CI check read these declarations, never lists of their own.
"""

from collections.abc import Callable
from dataclasses import dataclass, field

import numpy as np
import torch

from bench.errors import UserError, unused_name
from bench.metrics.beta_vae_score import beta_vae_score
from bench.metrics.dci import dci
from bench.metrics.diagnostics import ACTIVE_VARIANCE, active_units, distance_to_orthogonality, polarisation
from bench.metrics.factor_vae_score import factor_vae_score
from bench.metrics.mig import mig
from bench.metrics.modularity import modularity_explicitness
from bench.metrics.sap import sap
from bench.models.terms import bernoulli_reconstruction


@dataclass(frozen=True)
class Metric:
    compute: Callable[..., dict]  # (evaluation, **fixed) -> outputs
    numbers: tuple[str, ...] = ()  # outputs the report reads as numbers, one column each
    tabled: tuple[str, ...] = ()  # of those, the ones with a table of their own in the report
    checked: tuple[str, ...] = ()  # of those, the ones `bench check` holds to its baseline
    relative: bool = False  # `bench check` compares it relatively (a loss in nats), not absolutely (a score)
    # Whether it reads ground-truth factors; a dataset without them (CelebA, 3D Chairs, 3D Faces) is evaluated
    # only with the metrics that do not.
    needs_factors: bool = True
    # Settings fixed in code rather than in MetricSettings, recorded with each value. Changing one changes what the
    # same MetricSettings compute, so it bumps MetricSettings.version as any such fix does.
    fixed: dict = field(default_factory=dict)


def _mig(ev):
    return mig(ev.train, ev.factors_train, num_bins=ev.settings.num_bins)


def _sap(ev):
    return sap(ev.train, ev.factors_train, ev.test, ev.factors_test, C=ev.settings.sap_c,
               continuous_factors=ev.settings.sap_continuous_factors)


def _dci(ev):
    return dci(ev.train, ev.factors_train, ev.test, ev.factors_test, seed=ev.settings.dci_seed)


def _modularity(ev):
    return modularity_explicitness(ev.train, ev.factors_train, ev.test, ev.factors_test,
                                   num_bins=ev.settings.num_bins)


def _sampled(score):
    """A score that draws its own batches: as many votes or points as the settings' train and test sizes."""
    return lambda ev: score(ev.codes, ev.data.sample_factors, ev.data.num_factors, ev.rng,
                            num_train=ev.settings.num_train, num_eval=ev.settings.num_test)


def _active_units(ev, active_unit_threshold: float):
    if not ev.model.has_posterior:
        return {"active_units_note": f"{type(ev.model).__name__} has no posterior variance, so active units "
                                     "and polarisation do not apply"}
    mean, logvar = (a.astype(np.float64) for a in ev.posterior_train)  # an inactive unit's KL terms nearly cancel
    return {**active_units(logvar, ev.data.num_factors, active_unit_threshold),
            **polarisation(mean, logvar, active_unit_threshold)}


def _reconstruction(ev, reconstruction_points: int):
    if not ev.model.has_decoder:
        return {"reconstruction_note": f"{type(ev.model).__name__} has no decoder, so it has no reconstruction"}
    total = 0.0
    with torch.no_grad():
        x = ev.data.images(ev.data.factors_to_index(ev.factors_test[:reconstruction_points])).to(ev.device)
        for i in range(0, len(x), ev.batch_size):
            part = x[i:i + ev.batch_size]
            total += float(bernoulli_reconstruction(ev.model.reconstruct(part), part)) * len(part)  # a batch mean
    return {"reconstruction": total / len(x)}


def _dto(ev):
    if not ev.model.has_decoder:
        return {"dto_note": f"{type(ev.model).__name__} has no decoder, so its Jacobian is undefined"}
    return distance_to_orthogonality(ev.model.decoder, ev.train[:ev.settings.dto_points])


DCI = ("dci_disentanglement", "dci_completeness", "dci_informativeness_test")
# In the order of the report's tables.
METRICS = {
    "mig": Metric(_mig, numbers=("mig",), tabled=("mig",), checked=("mig",)),
    "sap": Metric(_sap, numbers=("sap",), tabled=("sap",), checked=("sap",)),
    "dci": Metric(_dci, numbers=DCI, tabled=DCI[:2], checked=DCI),
    "reconstruction": Metric(_reconstruction, numbers=("reconstruction",), tabled=("reconstruction",),
                             checked=("reconstruction",), relative=True, fixed={"reconstruction_points": 1000},
                             needs_factors=False),
    "active_units": Metric(_active_units, numbers=("active_units", "polarisation_dkl"), tabled=("active_units",),
                           checked=("active_units",), fixed={"active_unit_threshold": ACTIVE_VARIANCE}),
    "modularity": Metric(_modularity, numbers=("modularity", "explicitness_test")),
    "factor_vae_score": Metric(_sampled(factor_vae_score), numbers=("factor_vae_eval",)),
    "beta_vae_score": Metric(_sampled(beta_vae_score), numbers=("beta_vae_eval",)),
    "dto": Metric(_dto, numbers=("dto_mean",), needs_factors=False),
}
# The default selection, in the order records store it in their metric settings (so it must not be reordered).
DEFAULT_METRICS = ("mig", "sap", "dci", "active_units", "reconstruction")


def register(name: str, metric: Metric) -> Metric:
    """Add a user's metric (a plugin, docs/extending.md). A profile computes it when its `MetricSettings.metrics`
    names it; its numbers, tables and checks then appear wherever the built-in ones do."""
    unused_name(METRICS, name, metric, "metric")
    if not isinstance(metric, Metric):
        raise UserError(f"metric {name!r} must be a bench.metrics.Metric, not {type(metric).__name__}")
    METRICS[name] = metric
    return metric


# Derived from the declarations each time, so that a metric a plugin registers later is among them.
def numeric() -> tuple[str, ...]:
    return tuple(n for m in METRICS.values() for n in m.numbers)


def tabled() -> tuple[str, ...]:
    return tuple(n for m in METRICS.values() for n in m.tabled)


def checked() -> tuple[str, ...]:
    return tuple(n for m in METRICS.values() for n in m.checked)


def relative() -> tuple[str, ...]:
    return tuple(n for m in METRICS.values() if m.relative for n in m.checked)
