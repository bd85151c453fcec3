"""The one training loop for every model: seeded, checkpointed atomically, resumable to the same weights.

A checkpoint holds the model, every optimiser, the step, the config and all random states (torch and the
NumPy generator that draws batches), so a run killed at any moment and started again continues exactly where
its last checkpoint left off and ends with the same weights as an uninterrupted run on the same machine.
"""

import dataclasses
import io
import json
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import torch
from tqdm import tqdm

from bench import models
from bench.atomic import atomic_write_bytes
from bench.data.ground_truth import GroundTruthData
from bench.errors import UserError
from bench.seeding import seed_hash

CHECKPOINT = "checkpoint.pt"


@dataclass(frozen=True)
class TrainConfig:
    """Everything that changes a run's result (and nothing that does not, like device or paths)."""

    model: str
    dataset: str
    variant: str = "original"
    model_config: object = None  # the model's frozen Config; None means the paper's value for the dataset
    seed: int = 0
    steps: int = 1000
    batch_size: int = 64  # images per step: pair models get batch_size // 2 pairs
    lr: float = 1e-4
    latent_dim: int | None = None  # None means the dataset's number of factors

    def resolved(self, num_factors: int) -> "TrainConfig":
        config = self.model_config or models.paper_config(self.model, self.dataset)
        return dataclasses.replace(self, model_config=config, latent_dim=self.latent_dim or num_factors)

    def to_dict(self) -> dict:
        d = dataclasses.asdict(self)
        d["model_config"] = dataclasses.asdict(self.model_config) if self.model_config is not None else None
        return d


class TrainingDiverged(UserError):
    pass


@dataclass
class Trainer:
    """The state of one run: model, optimisers, step and random states."""

    config: TrainConfig
    model: models.Model
    optimizers: dict[str, torch.optim.Optimizer]
    data_rng: np.random.Generator
    step: int = 0
    last_checkpoint: int = 0

    @classmethod
    def new(cls, config: TrainConfig, observation_shape, device) -> "Trainer":
        torch.manual_seed(seed_hash("init", config.seed))
        model = models.build(config.model, config.model_config, observation_shape, config.latent_dim).to(device)
        return cls.around(config, model)

    @classmethod
    def around(cls, config, model: models.Model) -> "Trainer":
        """A fresh trainer for an initialised model; `config` needs `seed`, `lr` and `to_dict()`."""
        optimizers = {name: torch.optim.Adam(params, **{"lr": config.lr, **settings})
                      for name, (params, settings) in model.param_groups().items()}
        torch.manual_seed(seed_hash("noise", config.seed))
        return cls(config, model, optimizers, np.random.default_rng(seed_hash("batches", config.seed)))

    def state(self) -> dict:
        return {"step": self.step, "config": json.dumps(self.config.to_dict()),
                "model": self.model.state_dict(),
                "optimizers": {k: o.state_dict() for k, o in self.optimizers.items()},
                "torch_rng": torch.get_rng_state(), "data_rng": json.dumps(self.data_rng.bit_generator.state)}

    def load(self, state: dict):
        if json.loads(state["config"]) != self.config.to_dict():
            raise UserError("the checkpoint belongs to another configuration; remove it or use a fresh run directory")
        self.model.load_state_dict(state["model"])
        for k, opt in self.optimizers.items():
            opt.load_state_dict(state["optimizers"][k])
        torch.set_rng_state(state["torch_rng"])
        self.data_rng.bit_generator.state = json.loads(state["data_rng"])
        self.step = self.last_checkpoint = state["step"]

    def save(self, path: Path):
        buffer = io.BytesIO()
        torch.save(self.state(), buffer)
        atomic_write_bytes(path, buffer.getvalue())
        self.last_checkpoint = self.step


def batch(data: GroundTruthData, model: models.Model, size: int, rng: np.random.Generator) -> torch.Tensor:
    """(B, C, H, W) images, or (B/2, 2, C, H, W) temporal pairs for models that need two observations."""
    if model.observations == 2:
        x_t, x_t1, _, _ = data.sample_pairs(size // 2, rng)
        return torch.stack([x_t, x_t1], dim=1)
    return data.images(rng.integers(0, len(data), size=size))


def train_step(trainer: Trainer, x: torch.Tensor) -> dict[str, float]:
    losses = trainer.model.losses(x)
    _check_finite(trainer, losses)
    for name, objective in losses.objectives.items():
        optimizer = trainer.optimizers[name]
        optimizer.zero_grad(set_to_none=True)
        # Each objective updates only its own group (FactorVAE's TC term must not train the discriminator).
        objective.backward(inputs=optimizer.param_groups[0]["params"], retain_graph=len(losses.objectives) > 1)
    for opt in trainer.optimizers.values():
        opt.step()
    trainer.step += 1
    return {k: float(v.detach()) for k, v in losses.terms.items()}


def _check_finite(trainer: Trainer, losses):
    for name, value in {**losses.terms, **losses.objectives}.items():
        if not torch.isfinite(value).all():
            raise TrainingDiverged(
                f"loss term {name!r} became {float(value.detach())} at step {trainer.step + 1}; training stopped and the last "
                f"good checkpoint (step {trainer.last_checkpoint}) is kept; try a lower learning rate or another seed")


def resolve_device(name: str) -> torch.device:
    if name == "auto":
        return torch.device("cuda" if torch.cuda.is_available() else "cpu")
    if name == "cuda" and not torch.cuda.is_available():
        raise UserError("--device cuda was asked for but no CUDA GPU is visible; use --device cpu or auto")
    if name not in ("cpu", "cuda"):
        raise UserError(f"unknown device {name!r}; choose one of: auto, cpu, cuda")
    return torch.device(name)


def train(config: TrainConfig, data: GroundTruthData, run_dir: Path, *, device="cpu", checkpoint_every=1000,
          progress=True) -> Trainer:
    """Train to `config.steps`, resuming from `run_dir/checkpoint.pt` when it exists."""
    device = resolve_device(str(device))
    config = config.resolved(data.num_factors)
    trainer = Trainer.new(config, data.observation_shape, device)
    draw = lambda: batch(data, trainer.model, config.batch_size, trainer.data_rng).to(device)  # noqa: E731
    return fit(trainer, draw, run_dir, device=device, checkpoint_every=checkpoint_every, progress=progress,
               desc=f"{config.model} on {config.dataset}/{config.variant}")


def fit(trainer: Trainer, draw, run_dir: Path, *, device, checkpoint_every: int, progress: bool, desc: str) -> Trainer:
    """Step `trainer` on batches from `draw()` to `trainer.config.steps`, resuming from `run_dir`'s checkpoint."""
    run_dir = Path(run_dir)
    run_dir.mkdir(parents=True, exist_ok=True)
    if (run_dir / CHECKPOINT).exists():
        trainer.load(torch.load(run_dir / CHECKPOINT, map_location=device, weights_only=True))
    steps = trainer.config.steps
    trainer.model.train()
    with tqdm(total=steps, initial=trainer.step, desc=desc, unit="step", disable=not progress,
              dynamic_ncols=True) as bar:
        while trainer.step < steps:
            terms = train_step(trainer, draw())
            if trainer.step % checkpoint_every == 0 or trainer.step == steps:
                trainer.save(run_dir / CHECKPOINT)
            bar.update(1)
            if trainer.step % 10 == 0:
                bar.set_postfix({k: f"{v:.3g}" for k, v in terms.items()}, refresh=False)
    trainer.model.eval()
    return trainer
