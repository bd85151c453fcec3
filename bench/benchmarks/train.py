"""`bench benchmark train`: training images/s per model, against the ceiling and a DataLoader loop.

- ceiling: the same model's forward + backward + Adam step on one preloaded batch (no data path at all);
- ours: the training loop's step with batches drawn from the dataset as `bench.train` draws them;
- dataloader: a straightforward torch DataLoader loop (shuffled, image by image) feeding the same step.
CPU settings (threads, glibc allocator, channels_last, bf16 autocast, torch.compile) and one process with two
threads against two single-threaded processes are measured in fresh subprocesses, because allocator and
thread settings must be in place before the process starts.
"""

import json
import os
import subprocess
import sys
import time

import numpy as np
import torch
from torch.utils.data import DataLoader, Dataset

from bench.benchmarks.report import header, row
from bench.errors import lookup
from bench.models import MODELS
from bench.runtime import ALLOCATOR_ENV, configure_threads
from bench.train import Trainer, TrainConfig, batches, fit
from bench.variants import get

WARMUP, ROUNDS, SECONDS = 3, 3, 1.5


class _Items(Dataset):
    """One image, or one temporal pair, per item: what a plain PyTorch pipeline would do."""

    def __init__(self, data, observations):
        self.data, self.observations = data, observations

    def __len__(self):
        return len(self.data)

    def __getitem__(self, i):
        if self.observations == 2:
            x_t, x_t1, _, _ = self.data.sample_pairs(1, np.random.default_rng(i))
            return torch.cat([x_t, x_t1])
        return self.data.images([i])[0]


def _timed(step, seconds) -> float:
    n, start = 0, time.perf_counter()
    while time.perf_counter() - start < seconds:
        step()
        n += 1
    return n / (time.perf_counter() - start)


def _steps(trainer, data, fmt) -> dict:
    """One step of the training loop per mode, all on the same trainer, each drawing its batch its own way."""
    ours = batches(trainer, data, "cpu")
    draw = lambda: ours().contiguous(memory_format=fmt)  # noqa: E731
    fixed = draw()
    loader = DataLoader(_Items(data, trainer.model.observations),
                        batch_size=trainer.config.batch_size // trainer.model.observations, shuffle=True,
                        generator=torch.Generator().manual_seed(0))
    items = iter(loader)
    draws = {"ours": draw, "ceiling": lambda: fixed, "dataloader": lambda: next(items)}
    return {mode: (lambda d=d: fit(trainer, d, until=trainer.step + 1)) for mode, d in draws.items()}


def measure(model: str, dataset: str, modes=("ours", "ceiling", "dataloader"), data_root=None, channels_last=False,
            bf16=False, compile_model=False) -> dict:
    """Images/s of each mode in this process: modes interleaved over several rounds, best round kept, so that
    drifts of a shared machine hit every mode alike."""
    configure_threads()
    data = get(dataset, "original", data_root)
    trainer = Trainer.on(TrainConfig(model, dataset), data, "cpu")
    if channels_last:
        trainer.model.to(memory_format=torch.channels_last)
    if compile_model:
        trainer.model.losses = torch.compile(trainer.model.losses)
    fmt = torch.channels_last if channels_last and trainer.model.observations == 1 else torch.contiguous_format
    steps = _steps(trainer, data, fmt)
    best = dict.fromkeys(modes, 0.0)
    with torch.autocast("cpu", dtype=torch.bfloat16, enabled=bf16):
        for _ in range(WARMUP):
            steps[modes[0]]()
        for _ in range(ROUNDS):
            for mode in modes:
                best[mode] = max(best[mode], _timed(steps[mode], SECONDS) * trainer.config.batch_size)
    return best


def _spawn(args: dict, threads: int, allocator: bool) -> subprocess.Popen:
    env = {k: v for k, v in os.environ.items() if k not in ALLOCATOR_ENV}
    env.update(ALLOCATOR_ENV if allocator else {})
    env.update(OMP_NUM_THREADS=str(threads), BENCH_THREADS=str(threads))
    code = f"import json; from bench.benchmarks.train import measure; print(json.dumps(measure(**{args!r})))"
    return subprocess.Popen([sys.executable, "-c", code], env=env, stdout=subprocess.PIPE, text=True)


def _in_subprocess(args: dict, threads=2, allocator=False) -> dict:
    proc = _spawn(args, threads, allocator)
    out, _ = proc.communicate()
    if proc.returncode:
        raise RuntimeError(f"benchmark worker failed for {args}")
    return json.loads(out.strip().splitlines()[-1])


def run(models=(), dataset: str = "dsprites", data_root=None, settings=True):
    """Images/s of the training loop for `models` (default: all) on `dataset`; then, with `settings`, the CPU
    settings compared on the first model."""
    for name in models:
        lookup(MODELS, name, "model")
    models = list(models) or list(MODELS)
    get(dataset, "original", data_root)  # build the cache outside the timings
    header(f"train on {dataset}: images/s, default settings (2 threads, glibc's allocator)")
    for model in models:
        rates = _in_subprocess({"model": model, "dataset": dataset, "data_root": data_root})
        row(f"{model}: loop vs ceiling", rates["ours"], rates["ceiling"], "img/s")
        row(f"{model}: loop vs DataLoader loop", rates["ours"], rates["dataloader"], "img/s")
    if settings:
        _settings(models[0], dataset, data_root)


def _settings(model, dataset, data_root):
    base = {"model": model, "dataset": dataset, "data_root": data_root, "modes": ("ours",)}
    header(f"CPU settings for {model} on {dataset}: images/s against plain 1-thread defaults")
    plain = _in_subprocess(base, threads=1, allocator=False)["ours"]
    variants = {"tuned allocator (MALLOC_*_THRESHOLD_)": ({}, 1, True),
                "2 threads (default)": ({}, 2, False),
                "2 threads + tuned allocator": ({}, 2, True),
                "channels_last (2 threads)": ({"channels_last": True}, 2, False),
                "bf16 autocast (2 threads)": ({"bf16": True}, 2, False),
                "torch.compile (2 threads)": ({"compile_model": True}, 2, False)}
    for name, (extra, threads, allocator) in variants.items():
        row(name, _in_subprocess({**base, **extra}, threads, allocator)["ours"], plain, "img/s")
    pair = [_spawn(base, 1, False) for _ in range(2)]
    total = sum(json.loads(p.communicate()[0].strip().splitlines()[-1])["ours"] for p in pair)
    two_threads = _in_subprocess(base, 2)["ours"]
    row("2 processes x 1 thread vs 1 process x 2", total, two_threads, "img/s, whole machine")
