import os
import signal
import subprocess
import sys
import time

import pytest
import torch

from bench.data.ground_truth import GroundTruthData
from bench.train import CHECKPOINT, TrainConfig, TrainingDiverged, resolve_device, train
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
    with pytest.raises(TrainingDiverged, match=r"'recon' became nan at step 7.*checkpoint \(step 6\)"):
        train(config, Poisoned(small_dsprites, after=7), tmp_path, checkpoint_every=3, progress=False)
    assert torch.load(tmp_path / CHECKPOINT, weights_only=True)["step"] == 6


def test_checkpoint_of_another_config_is_refused(tmp_path, small_dsprites):
    train(TrainConfig("ae", "dsprites", steps=2, batch_size=8), small_dsprites, tmp_path, progress=False)
    with pytest.raises(UserError, match="another configuration"):
        train(TrainConfig("ae", "dsprites", steps=2, batch_size=8, seed=1), small_dsprites, tmp_path, progress=False)


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
