"""losses.csv: the loss terms every `log_every` steps, unchanged results, and no repeated or lost rows on resume."""

import torch

from bench.__main__ import main
from bench.train import CHECKPOINT, LOSSES, TrainConfig, Trainer, batches, fit, read_losses, train

CONFIG = TrainConfig("beta_vae", "dsprites", steps=24, batch_size=8, seed=3)


def test_losses_are_logged_every_n_steps_and_at_the_end(tmp_path, small_dsprites):
    train(CONFIG, small_dsprites, tmp_path, checkpoint_every=10, log_every=5, progress=False)
    steps, terms = read_losses(tmp_path)
    assert steps == [5, 10, 15, 20, 24]
    assert set(terms) == {"recon", "kl"} and all(len(v) == len(steps) for v in terms.values())


def test_logging_does_not_change_the_weights(tmp_path, small_dsprites):
    logged = train(CONFIG, small_dsprites, tmp_path, checkpoint_every=10, log_every=5, progress=False)
    trainer = Trainer.on(CONFIG, small_dsprites, "cpu")
    in_memory = fit(trainer, batches(trainer, small_dsprites, "cpu"))
    for key, value in in_memory.model.state_dict().items():
        torch.testing.assert_close(logged.model.state_dict()[key], value, rtol=0, atol=0, msg=key)


def test_resumed_run_neither_repeats_nor_loses_rows(tmp_path, small_dsprites):
    train(CONFIG, small_dsprites, tmp_path / "whole", checkpoint_every=10, log_every=5, progress=False)
    trainer = Trainer.on(CONFIG, small_dsprites, "cpu")
    fit(trainer, batches(trainer, small_dsprites, "cpu"), tmp_path / "resumed", checkpoint_every=10, log_every=5,
        until=10)
    log = tmp_path / "resumed" / LOSSES
    log.write_text(log.read_text() + "15,1.0,2.0\n")  # a killed run's row past its last checkpoint
    train(CONFIG, small_dsprites, tmp_path / "resumed", checkpoint_every=10, log_every=5, progress=False)
    assert log.read_text() == (tmp_path / "whole" / LOSSES).read_text()
    assert torch.load(tmp_path / "resumed" / CHECKPOINT, weights_only=True)["step"] == CONFIG.steps


def test_curves_command_draws_one_panel_per_term(tmp_path, small_dsprites):
    train(CONFIG, small_dsprites, tmp_path / "run", checkpoint_every=10, log_every=5, progress=False)
    assert main(["curves", str(tmp_path / "run"), "--out", str(tmp_path / "curves.png")]) == 0
    assert (tmp_path / "curves.png").stat().st_size > 0


def test_curves_of_a_run_without_a_log_is_a_one_line_error(tmp_path, capsys):
    assert main(["curves", str(tmp_path), "--out", str(tmp_path / "c.png")]) == 2
    assert "has no losses.csv" in capsys.readouterr().err

