"""Evaluating a trained model: draw points with an explicit generator, encode them (batched, no grad), and
compute the chosen metrics. Every record carries its settings and the library versions, because a different
scikit-learn can change these numbers (disentanglement_lib issue 33)."""

import dataclasses
import json
import platform
from dataclasses import dataclass
from functools import cached_property

import numpy as np
import scipy
import sklearn
import torch

from bench.errors import lookup
from bench.metrics.checks import MetricInputError
from bench.metrics.registry import DEFAULT_METRICS, METRICS


@dataclass(frozen=True)
class MetricSettings:
    """disentanglement_lib's defaults. Any change here makes records incomparable, so it is recorded."""

    # Bump when a fix changes what the same settings compute (a metric's fixed settings, `Metric.fixed`, included),
    # so old records are neither reused nor mixed with new ones. 2: the FactorVAE score prunes on the standard
    # deviation; codes are binned in float32.
    version: int = 2
    metrics: tuple[str, ...] = DEFAULT_METRICS
    num_train: int = 10_000
    num_test: int = 5_000
    num_bins: int = 20
    sap_c: float = 0.01
    sap_continuous_factors: bool = False  # the study's SAP treats factors as discrete
    dci_seed: int = 0
    dto_points: int = 100
    seed: int = 0  # of the generator that draws evaluation points (disentanglement_lib evaluates with seed 0)

    def to_dict(self) -> dict:
        """JSON-normal (lists, not tuples), so it compares equal to what a record stored."""
        return json.loads(json.dumps(dataclasses.asdict(self)))


def library_versions() -> dict:
    return {"python": platform.python_version(), "numpy": np.__version__, "scipy": scipy.__version__,
            "scikit-learn": sklearn.__version__, "torch": torch.__version__}


class Evaluation:
    """The points, codes and model outputs that metrics share, computed once and only when asked for."""

    def __init__(self, model, data, settings: MetricSettings, device="cpu", batch_size: int = 500):
        self.model, self.data, self.settings = model.eval(), data, settings
        self.device, self.batch_size = torch.device(device), batch_size
        rng = np.random.default_rng(settings.seed)
        # Without factors, the points are image indices (`UnlabelledData.sample_points`), which the data's
        # factors_to_index reads back, so that the metrics without factors read images as everywhere else.
        draw = data.sample_factors if data.has_factors else data.sample_points
        self.factors_train = draw(settings.num_train, rng)
        self.factors_test = draw(settings.num_test, rng)
        self.rng = rng

    @torch.no_grad()
    def _encode(self, factors, fn):
        index = self.data.factors_to_index(factors)
        parts = [fn(self.data.images(index[i:i + self.batch_size]).to(self.device)).cpu().numpy()
                 for i in range(0, len(index), self.batch_size)]
        return np.concatenate(parts)  # float32, as the encoder emits it and as disentanglement_lib bins it

    def codes(self, factors) -> np.ndarray:
        return self._encode(factors, self.model.represent)

    @cached_property
    def train(self):
        if self.model.has_posterior:  # the code is the posterior mean: encode the training points once
            return self.posterior_train[0]
        return self.codes(self.factors_train)

    @cached_property
    def test(self):
        return self.codes(self.factors_test)

    @cached_property
    def posterior_train(self):
        """(mean, logvar) of the encoder on the training points, for VAEs."""
        stacked = self._encode(self.factors_train, lambda x: torch.cat(self.model.encode(x), dim=1))
        return np.split(stacked, 2, axis=1)


def evaluate(model, data, settings: MetricSettings = MetricSettings(), device="cpu") -> dict:
    """All metrics in `settings.metrics` for one model on one dataset, with settings and versions; each metric's
    fixed settings are recorded beside its values."""
    metrics = [lookup(METRICS, name, "metric") for name in settings.metrics]
    require_factors(data, settings.metrics)
    ev = Evaluation(model, data, settings, device)
    values = {}
    for metric in metrics:
        values.update(metric.compute(ev, **metric.fixed), **metric.fixed)
    return {"metrics": values, "metric_settings": settings.to_dict(), "versions": library_versions()}


def require_factors(data, metrics) -> None:
    """Refuse, in one line, the metrics that need ground-truth factors on a dataset that has none."""
    needing = [name for name in metrics if lookup(METRICS, name, "metric").needs_factors]
    if needing and not data.has_factors:
        without = [name for name, metric in METRICS.items() if not metric.needs_factors]
        raise MetricInputError(
            f"{data.name} has no ground-truth factors, and the metrics {', '.join(needing)} need them; judge the run "
            f"by its latent traversals (bench traverse RUN_DIR --out FILE.png), or evaluate only metrics that need "
            f"no factors: {', '.join(without)} (bench evaluate --metrics, or --set metrics= on a grid)")
