"""The optional TensorBoard log: the same losses as losses.csv, consistent across a resume, changing no result;
without the package, a one-line error."""

import sys

import pytest
import torch

from bench.errors import UserError
from bench.train import Trainer, TrainConfig, batches, fit, read_losses, train


def scalars(run_dir) -> dict[str, list[tuple[int, float]]]:
    from tensorboard.backend.event_processing.event_accumulator import EventAccumulator
    events = EventAccumulator(str(run_dir / "tensorboard"))
    events.Reload()
    return {tag: [(e.step, e.value) for e in events.Scalars(tag)] for tag in events.Tags()["scalars"]}


def test_tensorboard_holds_the_losses_csv_rows_and_changes_no_result(small_dsprites, tmp_path):
    pytest.importorskip("tensorboard")
    config = TrainConfig("factor_vae", small_dsprites.spec.name, seed=1, steps=20, batch_size=16)
    logged = train(config, small_dsprites, tmp_path / "a", checkpoint_every=10, progress=False, log_every=5,
                   tensorboard=True)
    plain = train(config, small_dsprites, tmp_path / "b", checkpoint_every=10, progress=False, log_every=5)
    assert all(torch.equal(a, b) for a, b in zip(logged.model.state_dict().values(), plain.model.state_dict().values()))
    steps, terms = read_losses(tmp_path / "a")
    board = scalars(tmp_path / "a")
    for name, values in terms.items():
        assert [s for s, _ in board[f"loss/{name}"]] == steps
        assert [v for _, v in board[f"loss/{name}"]] == pytest.approx(values, rel=1e-6)
    assert {"probe/tc_aggregate", "probe/tc_discriminator"} <= set(board)


def test_a_resumed_run_logs_each_step_once(small_dsprites, tmp_path):
    pytest.importorskip("tensorboard")
    config = TrainConfig("beta_vae", small_dsprites.spec.name, seed=2, steps=20, batch_size=16)
    half = Trainer.on(config, small_dsprites, "cpu")
    fit(half, batches(half, small_dsprites, "cpu"), tmp_path, checkpoint_every=10, until=15, log_every=5,
        tensorboard=True)
    # As if killed after logging step 15 but before its checkpoint: the run resumes from step 10's, and step 15's
    # events are purged and written again.
    (tmp_path / "checkpoint.pt").unlink()
    train(config, small_dsprites, tmp_path, checkpoint_every=10, progress=False, log_every=5, tensorboard=True)
    assert [s for s, _ in scalars(tmp_path)["loss/recon"]] == [5, 10, 15, 20]


def test_without_the_package_it_is_a_one_line_error(small_dsprites, tmp_path, monkeypatch):
    monkeypatch.setitem(sys.modules, "torch.utils.tensorboard", None)  # importing it now raises ImportError
    with pytest.raises(UserError, match="needs the tensorboard package: pip install tensorboard"):
        train(TrainConfig("beta_vae", small_dsprites.spec.name, steps=2, batch_size=8), small_dsprites, tmp_path,
              progress=False, tensorboard=True)
