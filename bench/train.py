"""The one training loop for every model: seeded, checkpointed atomically, resumable to the same weights.

A checkpoint holds the model, every optimiser, the step, the config and all random states (torch's CPU and CUDA
generators and the NumPy generator that draws batches), so a run killed at any moment and started again
continues exactly where its last checkpoint left off and ends with the same weights as an uninterrupted run on
the same machine. It also holds a digest of all that, and the one before it is kept, so that a damaged
checkpoint is refused and the run falls back to the previous one (or, with none intact, starts again).
Beside the checkpoint, `losses.csv` records the loss terms every `log_every` steps; it is written just before
each checkpoint and cut back to the checkpoint's step on resume, so a resumed run neither repeats nor loses rows.
"""

import dataclasses
import hashlib
import io
import json
import os
import sys
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import torch
from tqdm import tqdm

from bench import models
from bench.atomic import atomic_write_bytes, atomic_write_text, remove_stale_temps
from bench.data.ground_truth import GroundTruthData
from bench.errors import UserError
from bench.seeding import seed_hash

CHECKPOINT = "checkpoint.pt"
PREVIOUS_CHECKPOINT = "checkpoint.previous.pt"  # the one before, for when the newest is found damaged
LOSSES = "losses.csv"
PROBES = "probes.csv"  # a model's probe values during training (`Model.probe`), for the models that have one
PROBE_POINTS = 1000  # the fixed training images a probe reads


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
    latent_dim: int | None = None  # None means the dataset's default: its number of factors, where it has factors

    def resolved(self, data: GroundTruthData) -> "TrainConfig":
        """With the paper's model config for the dataset `data` stands for, and the data's default latent size (a
        latent per factor), where unset."""
        config = self.model_config or models.paper_config(self.model, data.spec.stands_for())
        return dataclasses.replace(self, model_config=config, latent_dim=self.latent_dim or data.default_latent_dim)

    def to_dict(self) -> dict:
        d = dataclasses.asdict(self)
        d["model_config"] = dataclasses.asdict(self.model_config) if self.model_config is not None else None
        return d


class TrainingDiverged(UserError):
    """A loss term, a gradient or the state became non-finite; `step` and `term` say where, for failed-run records."""

    def __init__(self, message: str, step: int, term: str):
        super().__init__(message)
        self.step, self.term = step, term

    def __reduce__(self):  # worker processes pickle exceptions, and the default would drop step and term
        return type(self), (str(self), self.step, self.term)


class CheckpointDamaged(UserError):
    """A checkpoint file that cannot be read or does not match its digest."""


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
    def on(cls, config: TrainConfig, data: GroundTruthData, device) -> "Trainer":
        """A fresh trainer for `config` on `data`, with what the config leaves unset resolved for the data."""
        return cls.new(config.resolved(data), data.observation_shape, device)

    @classmethod
    def around(cls, config, model: models.Model) -> "Trainer":
        """A fresh trainer for an initialised model; `config` needs `seed`, `lr` and `to_dict()`."""
        optimizers = {name: torch.optim.Adam(params, **{"lr": config.lr, **settings})
                      for name, (params, settings) in model.param_groups().items()}
        torch.manual_seed(seed_hash("noise", config.seed))
        return cls(config, model, optimizers, np.random.default_rng(seed_hash("batches", config.seed)))

    def state(self) -> dict:
        state = {"step": self.step, "config": json.dumps(self.config.to_dict()),
                 "model": self.model.state_dict(),
                 "optimizers": {k: o.state_dict() for k, o in self.optimizers.items()},
                 "torch_rng": torch.get_rng_state(), "data_rng": json.dumps(self.data_rng.bit_generator.state)}
        if torch.cuda.is_available():  # randn_like on a GPU draws from the CUDA generators, not the CPU one
            state["cuda_rng"] = torch.cuda.get_rng_state_all()
        return state

    def load(self, state: dict):
        # The steps a run is trained *to* change nothing it computed up to its checkpoint, so a run continues
        # towards more steps (a milestone curve extended); `fit` refuses one past them.
        if _without_steps(json.loads(state["config"])) != _without_steps(self.config.to_dict()):
            raise UserError("the checkpoint belongs to another configuration; remove it or use a fresh run directory")
        try:
            self.model.load_state_dict(state["model"])
        except RuntimeError:  # missing or unexpected weights, or other shapes
            raise UserError("the checkpoint's weights do not fit this model (written by another version of bench?); "
                            "use a fresh run directory") from None
        for k, opt in self.optimizers.items():
            opt.load_state_dict(state["optimizers"][k])
        # Generator states must be CPU tensors, wherever the checkpoint was mapped to.
        torch.set_rng_state(state["torch_rng"].cpu())
        if "cuda_rng" in state and torch.cuda.is_available():  # absent when written on a machine without CUDA
            torch.cuda.set_rng_state_all([s.cpu() for s in state["cuda_rng"][:torch.cuda.device_count()]])
        self.data_rng.bit_generator.state = json.loads(state["data_rng"])
        self.step = self.last_checkpoint = state["step"]

    def save(self, path: Path):
        """Write the state with its digest, atomically, keeping the checkpoint it replaces as the previous one."""
        optimiser_state = [t for o in self.optimizers.values() for s in o.state.values() for t in s.values()]
        for kind, tensors in (("weights", self.model.state_dict().values()), ("optimiser state", optimiser_state)):
            if not _finite(tensors):
                raise _diverged(self, self.step, kind, f"the {kind} became non-finite by step {self.step}")
        state = self.state()
        state["digest"] = state_digest(state)
        buffer = io.BytesIO()
        torch.save(state, buffer)
        atomic_write_bytes(path, buffer.getvalue(), previous=path.with_name(PREVIOUS_CHECKPOINT))
        self.last_checkpoint = self.step


def _without_steps(config: dict) -> dict:
    return {k: v for k, v in config.items() if k != "steps"}


def _diverged(trainer: Trainer, step: int, term: str, what: str) -> TrainingDiverged:
    # No checkpoint is ever written at step 0, so a run that diverges before its first one has none to keep.
    kept = (f"the last good checkpoint (step {trainer.last_checkpoint}) is kept" if trainer.last_checkpoint
            else "no checkpoint was written yet")
    return TrainingDiverged(f"{what}; training stopped and {kept}; try a lower learning rate or another seed",
                            step, term)


def state_digest(state: dict) -> str:
    """A digest of every value in a checkpoint's state (tensors by their bytes), which a damaged file fails."""
    digest = hashlib.blake2b(digest_size=16)

    def feed(value):
        if isinstance(value, dict):
            for k, v in value.items():
                digest.update(f"{k!r}:".encode())
                feed(v)
        elif isinstance(value, (list, tuple)):
            digest.update(f"[{len(value)}]".encode())
            for v in value:
                feed(v)
        elif isinstance(value, torch.Tensor):
            t = value.detach().cpu().contiguous()
            digest.update(f"{t.dtype}{tuple(t.shape)}".encode())
            digest.update(t.reshape(-1).view(torch.uint8).numpy())
        else:
            digest.update(f"{value!r};".encode())

    feed(state)
    return digest.hexdigest()


def read_checkpoint(path: Path, device) -> dict:
    """The state in a checkpoint file, or CheckpointDamaged if it cannot be read or fails its digest."""
    try:
        state = torch.load(path, map_location=device, weights_only=True)
    except Exception as e:  # a truncated or overwritten file fails anywhere in the zip reader or unpickler
        raise CheckpointDamaged(f"{path} cannot be read ({type(e).__name__})") from e
    # Checkpoints written before digests existed have none; they are used unchecked rather than retrained.
    if "digest" in state and state.pop("digest") != state_digest(state):
        raise CheckpointDamaged(f"{path} does not match its digest")
    return state


def resume(trainer: Trainer, run_dir: Path, device):
    """Load the newest intact checkpoint in `run_dir`. A damaged one is set aside (`<name>.damaged`) and named in
    a one-line warning that says whether the run resumes from the previous checkpoint or starts again."""
    damaged, outcome = [], "no intact checkpoint is left, so the run starts again from step 0"
    for path in (run_dir / CHECKPOINT, run_dir / PREVIOUS_CHECKPOINT):
        if not path.exists():
            continue
        try:
            state = read_checkpoint(path, device)
        except CheckpointDamaged as e:
            damaged.append(str(e))
            # Out of the way, so that the next save does not keep it as the previous checkpoint.
            os.replace(path, path.with_name(f"{path.name}.damaged"))
            continue
        trainer.load(state)
        outcome = f"resuming from {path.name} at step {trainer.step}"
        break
    if damaged:
        print(f"warning: {'; '.join(damaged)}; {outcome}", file=sys.stderr)


class LossLog:
    """The rows of `losses.csv` (step, then one column per loss term, the values of that step's batch). It starts
    from the file's rows up to `step`, the step training resumes from: rows a killed run wrote past its last
    checkpoint are dropped, and training writes them again, the same, since it repeats the same steps."""

    def __init__(self, path: Path, step: int):
        self.path, self.header, self.rows = Path(path), None, []
        lines = self.path.read_text().splitlines() if self.path.exists() else []
        if lines:
            self.header = lines[0]
            self.rows = [line for line in lines[1:] if int(line.partition(",")[0]) <= step]

    def add(self, step: int, terms: dict[str, float]):
        self.header = self.header or ",".join(["step", *terms])
        self.rows.append(",".join([str(step), *(repr(v) for v in terms.values())]))

    def write(self):
        if self.header:
            atomic_write_text(self.path, "\n".join([self.header, *self.rows]) + "\n")


class TensorBoardLog:
    """The rows of losses.csv and probes.csv also as TensorBoard scalars, in `run_dir/tensorboard`, for those who
    follow runs there. Optional: it needs the tensorboard package, which bench does not require. Events a killed
    run wrote past the step it resumes from are purged, as losses.csv drops its rows."""

    def __init__(self, directory: Path, step: int):
        # Events at the resume step itself were written before its checkpoint and stay.
        self.writer = tensorboard_writer()(str(directory), purge_step=step + 1 if step else None)

    def add(self, step: int, terms: dict[str, float], group: str):
        for name, value in terms.items():
            self.writer.add_scalar(f"{group}/{name}", value, step)

    def write(self):
        self.writer.flush()

    def close(self):
        self.writer.close()


def tensorboard_writer():
    """TensorBoard's SummaryWriter, or a one-line error when the optional package is missing; called before any
    long work by those who will need it."""
    try:
        from torch.utils.tensorboard import SummaryWriter  # imports tensorboard, an optional package
    except ImportError:
        raise UserError("--tensorboard needs the tensorboard package: pip install tensorboard (or "
                        "pip install -e '.[tensorboard]'); losses.csv is written either way") from None
    return SummaryWriter


def read_losses(run_dir: Path, name: str = LOSSES) -> tuple[list[int], dict[str, list[float]]]:
    """The steps and each loss term's values in a run directory's `losses.csv` (or another log of the loop,
    `probes.csv`); UserError if it has none."""
    path = Path(run_dir) / name
    if not path.exists():
        raise UserError(f"{run_dir} has no {name}; train the run first (runs trained before it existed have none)")
    header, *rows = [line.split(",") for line in path.read_text().splitlines()]
    columns = list(zip(*rows)) or [()] * len(header)
    return [int(s) for s in columns[0]], {name: [float(v) for v in col] for name, col in zip(header[1:], columns[1:])}


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
    _check_finite_gradients(trainer)
    # Only the groups given an objective this step: a model may leave one out (InfoWGAN-GP's generator waits for
    # n_critic critic steps), and its gradients are then an earlier step's.
    for name in losses.objectives:
        trainer.optimizers[name].step()
    trainer.step += 1
    return {k: float(v.detach()) for k, v in losses.terms.items()}


def _check_finite(trainer: Trainer, losses):
    for name, value in {**losses.terms, **losses.objectives}.items():
        if not torch.isfinite(value).all():
            step = trainer.step + 1
            raise _diverged(trainer, step, name, f"loss term {name!r} became {float(value.detach())} at step {step}")


def _check_finite_gradients(trainer: Trainer):
    """A finite loss can still have a non-finite gradient (an overflow inside), which Adam would turn into NaN
    weights; each objective's gradient lands only in its own group, so the group names the objective."""
    for name, optimizer in trainer.optimizers.items():
        if not _finite(p.grad for group in optimizer.param_groups for p in group["params"] if p.grad is not None):
            step, term = trainer.step + 1, f"gradient of {name}"
            raise _diverged(trainer, step, term, f"the {term} became non-finite at step {step} (the loss was finite)")


def _finite(tensors) -> bool:
    """Whether the floating-point tensors are all finite, with one device sync. A sum per tensor costs a tenth of
    isfinite and is non-finite iff an element is, or iff the values pass about 1e31, where Adam's squared
    gradients overflow anyway: a run there has diverged either way."""
    sums = [t.sum() for t in tensors if t.is_floating_point()]
    return not sums or bool(torch.stack(sums).isfinite().all())


def resolve_device(name: str) -> torch.device:
    if name == "auto":
        return torch.device("cuda" if torch.cuda.is_available() else "cpu")
    if name == "cuda" and not torch.cuda.is_available():
        raise UserError("--device cuda was asked for but no CUDA GPU is visible; use --device cpu or auto")
    if name not in ("cpu", "cuda"):
        raise UserError(f"unknown device {name!r}; choose one of: auto, cpu, cuda")
    return torch.device(name)


def batches(trainer: Trainer, data: GroundTruthData, device):
    """The loop's draw: a batch of `trainer.config.batch_size` images (or pairs) of `data`, from the trainer's own
    generator, on `device`."""
    return lambda: batch(data, trainer.model, trainer.config.batch_size, trainer.data_rng).to(device)


def train(config: TrainConfig, data: GroundTruthData, run_dir: Path | None, *, device="cpu", checkpoint_every=1000,
          progress=True, log_every: int = 100, tensorboard: bool = False) -> Trainer:
    """Train to `config.steps`, resuming from `run_dir/checkpoint.pt` when it exists (no run_dir: no checkpoints)."""
    device = resolve_device(str(device))
    trainer = Trainer.on(config, data, device)
    return fit(trainer, batches(trainer, data, device), run_dir, device=device, checkpoint_every=checkpoint_every,
               progress=progress, desc=f"{config.model} on {config.dataset}/{config.variant}", log_every=log_every,
               probe_images=probe_images(trainer, data, device), tensorboard=tensorboard)


def probe_images(trainer: Trainer, data: GroundTruthData, device) -> torch.Tensor | None:
    """The fixed training images a model's probe reads, drawn by a generator of their own (the batches' one is
    untouched, so a probe changes no result); None for a model without a probe."""
    if trainer.model.probe is None:
        return None
    rng = np.random.default_rng(seed_hash("probe", trainer.config.seed))
    return data.images(np.sort(rng.choice(len(data), size=min(PROBE_POINTS, len(data)), replace=False))).to(device)


def _probe(trainer: Trainer, images: torch.Tensor) -> dict[str, float]:
    # Seeded by the step, so that a resumed run logs what an uninterrupted one does; the training noise's
    # generator is not touched.
    generator = torch.Generator(images.device).manual_seed(seed_hash("probe", trainer.config.seed, trainer.step))
    with torch.no_grad():
        return {k: float(v) for k, v in trainer.model.probe(images, generator).items()}


def fit(trainer: Trainer, draw, run_dir: Path | None = None, *, device="cpu", checkpoint_every: int = 1000,
        progress: bool = False, desc: str = "training", until: int | None = None, log_every: int = 100,
        probe_images: torch.Tensor | None = None, tensorboard: bool = False) -> Trainer:
    """Step `trainer` on batches from `draw()` to step `until` (default: `trainer.config.steps`). With a `run_dir`,
    it resumes from the checkpoint there, writes one every `checkpoint_every` steps and at the end, and records
    the loss terms every `log_every` steps in `losses.csv`, and the model's probe of `probe_images` beside them
    in `probes.csv` (and both as TensorBoard scalars with `tensorboard`); without, it trains in memory, as a
    measurement or a milestone curve does."""
    steps = trainer.config.steps if until is None else until
    log = probes = board = None
    if run_dir is not None:
        run_dir = Path(run_dir)
        run_dir.mkdir(parents=True, exist_ok=True)
        remove_stale_temps(run_dir)
        resume(trainer, run_dir, device)
        if trainer.step > steps:  # the model would be labelled with fewer steps than it has
            raise UserError(f"the checkpoint in {run_dir} is at step {trainer.step}, past the {steps} steps asked "
                            f"for; ask for at least {trainer.step}, or use a fresh run directory")
        log = LossLog(run_dir / LOSSES, trainer.step)
        probes = LossLog(run_dir / PROBES, trainer.step) if probe_images is not None else None
        board = TensorBoardLog(run_dir / "tensorboard", trainer.step) if tensorboard else None
    trainer.model.train()
    try:
        with tqdm(total=steps, initial=trainer.step, desc=desc, unit="step", disable=not progress,
                  dynamic_ncols=True) as bar:
            while trainer.step < steps:
                terms = train_step(trainer, draw())
                if log is not None and (trainer.step % log_every == 0 or trainer.step == steps):
                    log.add(trainer.step, terms)
                    probed = _probe(trainer, probe_images) if probes is not None else {}
                    if probed:
                        probes.add(trainer.step, probed)
                    if board is not None:
                        board.add(trainer.step, terms, "loss")
                        board.add(trainer.step, probed, "probe")
                if run_dir is not None and (trainer.step % checkpoint_every == 0 or trainer.step == steps):
                    log.write()  # before the checkpoint: rows past it are cut on resume, never lost before it
                    for written in (probes, board):
                        if written is not None:
                            written.write()
                    trainer.save(run_dir / CHECKPOINT)
                bar.update(1)
                if trainer.step % 10 == 0:
                    bar.set_postfix({k: f"{v:.3g}" for k, v in terms.items()}, refresh=False)
    finally:
        if board is not None:  # its file and its writer thread, also when training stops on a divergence
            board.close()
    trainer.model.eval()
    return trainer
