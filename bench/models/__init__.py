"""Models: one module per objective, each a registered name with a frozen config of the paper's values."""

import dataclasses

from bench.errors import lookup, unused_name
from bench.models.ae import AE
from bench.models.base import Model, StepLosses
from bench.models.beta_tcvae import BetaTCVAE
from bench.models.beta_vae import BetaVAE
from bench.models.factor_vae import FactorVAE
from bench.models.info_wgan_gp import InfoWGANGP
from bench.models.pcl import PCL
from bench.models.slow_vae import SlowVAE


def registry(models: dict[str, type[Model]]) -> dict[str, type[Model]]:
    """`models`, once each class meets the contract of `Model` (its Config, paper values and regulariser); a
    class that does not fails here, at import, rather than deep inside a suite."""
    for name, cls in models.items():
        missing = [part for part in Model.CONTRACT if not hasattr(cls, part)]
        if missing:
            raise TypeError(f"model {name!r} ({cls.__name__}) does not declare {', '.join(missing)} (see Model)")
        if not (dataclasses.is_dataclass(cls.Config) and cls.Config.__dataclass_params__.frozen):
            raise TypeError(f"model {name!r}: Config must be a frozen dataclass")
        if not cls.PAPER_VALUES or not all(isinstance(c, cls.Config) for c in cls.PAPER_VALUES.values()):
            raise TypeError(f"model {name!r}: PAPER_VALUES must give a Config for at least one paper dataset")
        if cls.regulariser is not None and cls.regulariser not in {f.name for f in dataclasses.fields(cls.Config)}:
            raise TypeError(f"model {name!r}: its regulariser {cls.regulariser!r} is no field of its Config")
    return models


MODELS = registry({
    "ae": AE, "beta_vae": BetaVAE, "factor_vae": FactorVAE, "beta_tcvae": BetaTCVAE, "slow_vae": SlowVAE,
    "pcl": PCL,
    "info_wgan_gp": InfoWGANGP,
})


def register(name: str, cls: type[Model]) -> type[Model]:
    """Add a user's model (a plugin, docs/extending.md) once it meets the contract; a name already taken by
    another class is refused, so a plugin never silently replaces a model of the study."""
    unused_name(MODELS, name, cls, "model")
    MODELS.update(registry({name: cls}))
    return cls


def paper_config(name: str, paper_dataset: str):
    """The paper's setting of model `name` on `paper_dataset`, one of the paper's datasets (a miniature reads the
    values of the dataset it stands for, `DatasetSpec.stands_for`)."""
    return lookup(lookup(MODELS, name, "model").PAPER_VALUES, paper_dataset, f"paper dataset for {name}")


def build(name: str, config, observation_shape, latent_dim: int) -> Model:
    return lookup(MODELS, name, "model")(config, observation_shape, latent_dim)


__all__ = ["MODELS", "Model", "StepLosses", "build", "paper_config", "register", "registry"]
