"""Models: one module per objective, each a registered name with a frozen config of the paper's values."""

from bench.errors import lookup
from bench.models.ae import AE
from bench.models.base import Model, StepLosses
from bench.models.beta_tcvae import BetaTCVAE
from bench.models.beta_vae import BetaVAE
from bench.models.factor_vae import FactorVAE
from bench.models.pcl import PCL
from bench.models.slow_vae import SlowVAE

MODELS: dict[str, type[Model]] = {
    "ae": AE, "beta_vae": BetaVAE, "factor_vae": FactorVAE, "beta_tcvae": BetaTCVAE, "slow_vae": SlowVAE,
    "pcl": PCL,
}


def paper_config(name: str, dataset: str):
    """The paper's setting of model `name` on `dataset`; the config's defaults are the dSprites values."""
    cls = lookup(MODELS, name, "model")
    return cls.PAPER_VALUES.get(dataset, cls.Config())


def build(name: str, config, observation_shape, latent_dim: int) -> Model:
    return lookup(MODELS, name, "model")(config, observation_shape, latent_dim)


__all__ = ["MODELS", "Model", "StepLosses", "build", "paper_config"]
