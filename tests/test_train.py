import os
import pickle
import signal
import subprocess
import sys
import time
from dataclasses import replace

import pytest
import torch

from bench.data.ground_truth import GroundTruthData
from bench.train import (CHECKPOINT, PREVIOUS_CHECKPOINT, TrainConfig, Trainer, TrainingDiverged, fit,
                         resolve_device, train)
from bench.errors import UserError

TRAIN_SCRIPT = """
import sys
from bench.data import dsprites
from bench.data.sources import load_base
from bench.train import TrainConfig, train
spec = dsprites.make_spec("small_dsprites", size=32, num_positions=3, num_orientations=2)
data = load_base(spec, sys.argv[1])
config = TrainConfig(sys.argv[3], "dsprites", steps=int(sys.argv[4]), batch_size=16, seed=7)
train(config, data, sys.argv[2], checkpoint_every=5, progress=False)
"""


def _run(data_root, run_dir, model, steps):
    return subprocess.Popen([sys.executable, "-c", TRAIN_SCRIPT, str(data_root), str(run_dir), model, str(steps)])


def _weights(run_dir):
    return torch.load(run_dir / CHECKPOINT, weights_only=True)


@pytest.mark.parametrize("model", ["factor_vae", "pcl"])
def test_run_killed_and_resumed_equals_uninterrupted(tmp_path, model):
    steps = 60
    assert _run(tmp_path / "data", tmp_path / "whole", model, steps).wait() == 0
    victim = _run(tmp_path / "data", tmp_path / "resumed", model, steps)
    while not (tmp_path / "resumed" / CHECKPOINT).exists():
        assert victim.poll() is None, "the run finished before it could be killed"
        time.sleep(0.01)
    os.kill(victim.pid, signal.SIGKILL)
    victim.wait()
    assert _weights(tmp_path / "resumed")["step"] < steps
    assert _run(tmp_path / "data", tmp_path / "resumed", model, steps).wait() == 0
    whole, resumed = _weights(tmp_path / "whole"), _weights(tmp_path / "resumed")
    assert resumed["step"] == whole["step"] == steps
    for key, value in whole["model"].items():
        torch.testing.assert_close(resumed["model"][key], value, rtol=0, atol=0, msg=key)
    assert torch.equal(resumed["torch_rng"], whole["torch_rng"])


class Poisoned(GroundTruthData):
    """Returns NaN images from the `after`-th call on."""

    def __init__(self, base, after):
        super().__init__(base.spec, "poisoned")
        self.base, self.after, self.calls = base, after, 0

    def images(self, index):
        self.calls += 1
        x = self.base.images(index)
        return x * float("nan") if self.calls >= self.after else x


def test_nan_guard_names_step_and_term_and_keeps_last_good_checkpoint(tmp_path, small_dsprites):
    config = TrainConfig("beta_vae", "dsprites", steps=20, batch_size=8)
    with pytest.raises(TrainingDiverged, match=r"'recon' became nan at step 7.*checkpoint \(step 6\)") as err:
        train(config, Poisoned(small_dsprites, after=7), tmp_path, checkpoint_every=3, progress=False)
    assert torch.load(tmp_path / CHECKPOINT, weights_only=True)["step"] == 6
    assert (err.value.step, err.value.term) == (7, "recon")
    again = pickle.loads(pickle.dumps(err.value))  # as a worker process sends it
    assert (str(again), again.step, again.term) == (str(err.value), 7, "recon")


def test_divergence_before_the_first_checkpoint_names_none(tmp_path, small_dsprites):
    config = TrainConfig("beta_vae", "dsprites", steps=20, batch_size=8)
    with pytest.raises(TrainingDiverged, match="no checkpoint was written yet") as err:
        train(config, Poisoned(small_dsprites, after=2), tmp_path, checkpoint_every=3, progress=False)
    assert "step 0" not in str(err.value) and not (tmp_path / CHECKPOINT).exists()


def _fit_with_nan_gradient_at(step, run_dir, data, checkpoint_every=3):
    """A finite loss whose gradient turns NaN at `step` (as an overflow inside the backward pass would)."""
    config = TrainConfig("beta_vae", "dsprites", steps=20, batch_size=8).resolved(data)
    trainer = Trainer.new(config, data.observation_shape, "cpu")
    first = next(trainer.model.parameters())
    first.register_hook(lambda g: g * float("nan") if trainer.step + 1 == step else g)
    draw = lambda: data.images(trainer.data_rng.integers(0, len(data), size=8))  # noqa: E731
    fit(trainer, draw, run_dir, device="cpu", checkpoint_every=checkpoint_every, progress=False, desc="")


@pytest.mark.parametrize("step", [3, 5])
def test_non_finite_gradient_stops_training_before_a_checkpoint_is_written(tmp_path, small_dsprites, step):
    with pytest.raises(TrainingDiverged, match=f"gradient of model became non-finite at step {step}") as err:
        _fit_with_nan_gradient_at(step, tmp_path, small_dsprites)
    assert (err.value.step, err.value.term) == (step, "gradient of model")
    if step == 3:  # the step of the first checkpoint: none may be written
        assert not (tmp_path / CHECKPOINT).exists() and "no checkpoint was written yet" in str(err.value)
    else:
        state = torch.load(tmp_path / CHECKPOINT, weights_only=True)
        assert state["step"] == 3 and all(torch.isfinite(v).all() for v in state["model"].values())


@pytest.mark.parametrize("kind", ["weights", "optimiser state"])
def test_a_non_finite_state_is_never_written(tmp_path, small_dsprites, kind):
    config = TrainConfig("ae", "dsprites", steps=2, batch_size=8)
    trainer = train(config, small_dsprites, tmp_path / "run", progress=False)
    before = (tmp_path / "run" / CHECKPOINT).read_bytes()
    state = next(iter(trainer.optimizers["model"].state.values()))
    tensor = next(trainer.model.parameters()) if kind == "weights" else state["exp_avg_sq"]
    with torch.no_grad():
        tensor.view(-1)[0] = float("inf")
    with pytest.raises(TrainingDiverged, match=f"the {kind} became non-finite by step 2") as err:
        trainer.save(tmp_path / "run" / CHECKPOINT)
    assert err.value.term == kind and (tmp_path / "run" / CHECKPOINT).read_bytes() == before


def _flip_low_bits(path, tensor, count=100):
    """Flip the lowest mantissa bit of `count` floats of `tensor` where the file stores it (the zip's CRC would
    notice; torch.load does not check it)."""
    data = bytearray(path.read_bytes())
    start = bytes(data).find(tensor.numpy().tobytes()[:256])
    assert start >= 0
    for i in range(count):
        data[start + 4 * i] ^= 1  # little-endian float32: the first byte holds the lowest bits
    path.write_bytes(bytes(data))


def _model_weights(run_dir):
    return torch.load(run_dir / CHECKPOINT, weights_only=True)["model"]


def _assert_same_weights(a, b):
    for key, value in a.items():
        torch.testing.assert_close(b[key], value, rtol=0, atol=0, msg=key)


def test_damaged_checkpoint_is_refused_and_the_previous_one_resumed(tmp_path, small_dsprites, capsys):
    config = TrainConfig("beta_vae", "dsprites", steps=6, batch_size=8)
    train(config, small_dsprites, tmp_path, checkpoint_every=3, progress=False)
    whole = _model_weights(tmp_path)
    assert torch.load(tmp_path / PREVIOUS_CHECKPOINT, weights_only=True)["step"] == 3
    _flip_low_bits(tmp_path / CHECKPOINT, whole["encoder.body.0.weight"])
    stale = tmp_path / f"{CHECKPOINT}.tmp-999999999"  # a killed writer's leftover
    stale.write_bytes(b"half a checkpoint")
    capsys.readouterr()
    train(config, small_dsprites, tmp_path, checkpoint_every=3, progress=False)
    warning = capsys.readouterr().err.strip()
    assert "\n" not in warning and "checkpoint.pt does not match its digest" in warning
    assert "resuming from checkpoint.previous.pt at step 3" in warning
    _assert_same_weights(whole, _model_weights(tmp_path))
    assert (tmp_path / f"{CHECKPOINT}.damaged").exists() and not stale.exists()


def test_truncated_checkpoint_without_a_previous_one_restarts_the_run(tmp_path, small_dsprites, capsys):
    config = TrainConfig("beta_vae", "dsprites", steps=3, batch_size=8)
    train(config, small_dsprites, tmp_path, checkpoint_every=3, progress=False)
    whole = _model_weights(tmp_path)
    data = (tmp_path / CHECKPOINT).read_bytes()
    (tmp_path / CHECKPOINT).write_bytes(data[: len(data) // 2])
    capsys.readouterr()
    train(config, small_dsprites, tmp_path, checkpoint_every=3, progress=False)
    warning = capsys.readouterr().err.strip()
    assert "\n" not in warning and "checkpoint.pt cannot be read" in warning
    assert "no intact checkpoint is left, so the run starts again from step 0" in warning
    _assert_same_weights(whole, _model_weights(tmp_path))


def test_checkpoint_without_a_digest_from_before_digests_is_resumed(tmp_path, small_dsprites, capsys):
    config = TrainConfig("ae", "dsprites", steps=2, batch_size=8)
    train(config, small_dsprites, tmp_path, progress=False)
    state = torch.load(tmp_path / CHECKPOINT, weights_only=True)
    del state["digest"]
    torch.save(state, tmp_path / CHECKPOINT)
    assert train(config, small_dsprites, tmp_path, progress=False).step == 2
    assert capsys.readouterr().err == ""


def test_cuda_generator_states_are_saved_and_restored(small_dsprites, monkeypatch):
    config = TrainConfig("ae", "dsprites", steps=2, batch_size=8).resolved(small_dsprites)
    trainer = Trainer.new(config, small_dsprites.observation_shape, "cpu")
    assert "cuda_rng" not in trainer.state() or torch.cuda.is_available()
    restored = []
    monkeypatch.setattr(torch.cuda, "is_available", lambda: True)
    monkeypatch.setattr(torch.cuda, "device_count", lambda: 1)
    monkeypatch.setattr(torch.cuda, "get_rng_state_all", lambda: [torch.full((16,), 7, dtype=torch.uint8)] * 2)
    monkeypatch.setattr(torch.cuda, "set_rng_state_all", restored.extend)
    state = trainer.state()
    assert len(state["cuda_rng"]) == 2
    trainer.load(state)
    assert len(restored) == 1 and torch.equal(restored[0], state["cuda_rng"][0])  # only the devices present
    del state["cuda_rng"]  # written on a machine without CUDA
    trainer.load(state)
    assert len(restored) == 1


def test_checkpoint_of_another_config_is_refused(tmp_path, small_dsprites):
    train(TrainConfig("ae", "dsprites", steps=2, batch_size=8), small_dsprites, tmp_path, progress=False)
    with pytest.raises(UserError, match="another configuration"):
        train(TrainConfig("ae", "dsprites", steps=2, batch_size=8, seed=1), small_dsprites, tmp_path, progress=False)


def test_a_run_continues_to_more_steps_as_if_trained_straight(tmp_path, small_dsprites):
    config = TrainConfig("beta_vae", "dsprites", steps=6, batch_size=8)
    straight = train(config, small_dsprites, tmp_path / "straight", progress=False).model.state_dict()
    train(replace(config, steps=3), small_dsprites, tmp_path / "extended", progress=False)
    extended = train(config, small_dsprites, tmp_path / "extended", progress=False).model.state_dict()
    for k in straight:
        assert torch.equal(straight[k], extended[k]), k
    with pytest.raises(UserError, match="at step 6, past the 3 steps asked for"):
        train(replace(config, steps=3), small_dsprites, tmp_path / "extended", progress=False)


def test_same_seed_same_weights(tmp_path, small_dsprites):
    config = TrainConfig("beta_tcvae", "dsprites", steps=5, batch_size=8)
    a = train(config, small_dsprites, tmp_path / "a", progress=False).model.state_dict()
    b = train(config, small_dsprites, tmp_path / "b", progress=False).model.state_dict()
    for k in a:
        assert torch.equal(a[k], b[k])


def test_device_resolution():
    assert resolve_device("cpu").type == "cpu"
    assert resolve_device("auto").type in ("cpu", "cuda")
    if not torch.cuda.is_available():
        with pytest.raises(UserError, match="no CUDA GPU"):
            resolve_device("cuda")
    with pytest.raises(UserError, match="auto, cpu, cuda"):
        resolve_device("tpu")


def test_a_checkpoint_whose_weights_do_not_fit_the_model_is_refused_in_one_line(tmp_path, small_dsprites):
    config = TrainConfig("ae", "dsprites", steps=2, batch_size=8)
    train(config, small_dsprites, tmp_path, progress=False)
    state = torch.load(tmp_path / CHECKPOINT, weights_only=True)
    trainer = Trainer.on(config, small_dsprites, "cpu")
    del state["model"][next(iter(state["model"]))]
    with pytest.raises(UserError, match="weights do not fit this model"):
        trainer.load(state)
