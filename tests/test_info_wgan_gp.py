"""InfoWGAN-GP: its gradient penalty, its critic/generator schedule through the one training loop (and across a
resume), its codes, and the commands on a trained run (evaluation, traversal)."""

import math

import pytest
import torch

from bench.__main__ import main
from bench.metrics import MetricSettings, evaluate
from bench.models import MODELS, build, paper_config
from bench.models.info_wgan_gp import Config, gradient_penalty, information_bound
from bench.report.plots import traversal
from bench.train import CHECKPOINT, LOSSES, TrainConfig, Trainer, batches, fit, train, train_step
from bench.trained import evaluate_run
from conftest import trained_run


def _model(latent_dim=3, **settings):
    return build("info_wgan_gp", Config(**settings), (1, 32, 32), latent_dim)


def _trainer(data, steps, **settings):
    config = TrainConfig("info_wgan_gp", "dsprites", steps=steps, batch_size=8, seed=3, model_config=Config(**settings))
    return Trainer.on(config, data, "cpu")


def test_it_is_registered_with_its_settings():
    model = _model()
    assert MODELS["info_wgan_gp"].regulariser == "info_weight"
    assert paper_config("info_wgan_gp", "dsprites") == Config(info_weight=1.0, noise_dim=10, gp_weight=10.0, n_critic=5)
    assert model.has_decoder and not model.has_posterior and model.observations == 1
    groups = model.param_groups()
    assert {name: settings for name, (_, settings) in groups.items()} == {"critic": {"betas": (0.5, 0.9)},
                                                                       "generator": {"betas": (0.5, 0.9)}}
    assert not any(isinstance(m, (torch.nn.BatchNorm1d, torch.nn.BatchNorm2d)) for m in model.critic.modules())
    owned = [id(p) for params, _ in groups.values() for p in params]
    assert sorted(owned) == sorted(id(p) for p in model.parameters())  # each parameter in exactly one group


def test_gradient_penalty_of_a_linear_critic_is_its_weights_norm_less_one_squared():
    critic = torch.nn.Linear(12, 1)
    with torch.no_grad():
        critic.weight.copy_(torch.arange(12.0).reshape(1, 12) / 10)  # a gradient of norm sqrt(506) / 10 everywhere
    score = lambda x: critic(x.flatten(1))[:, 0]  # noqa: E731
    real, fake = torch.rand(5, 3, 2, 2), torch.rand(5, 3, 2, 2)
    norm = math.sqrt(506) / 10
    penalty = gradient_penalty(score, real, fake)
    assert float(penalty.detach()) == pytest.approx((norm - 1) ** 2, rel=1e-6)
    (grad,) = torch.autograd.grad(penalty, critic.weight)  # trained through the input gradient
    torch.testing.assert_close(grad, 2 * (norm - 1) * critic.weight.detach() / norm)
    with torch.no_grad():  # as a loss read without gradients
        assert float(gradient_penalty(score, real, fake)) == pytest.approx((norm - 1) ** 2, rel=1e-6)


def test_gradient_penalty_is_taken_between_the_real_and_the_fake_image():
    # score = |x|^2 / 2 has gradient x, so the penalty reads the interpolation point itself.
    real, fake = torch.rand(4, 1, 3, 3), torch.rand(4, 1, 3, 3)
    torch.manual_seed(0)
    penalty = gradient_penalty(lambda x: 0.5 * x.pow(2).flatten(1).sum(1), real, fake)
    torch.manual_seed(0)
    alpha = torch.rand(4, 1, 1, 1)
    point = alpha * real + (1 - alpha) * fake
    assert float(penalty.detach()) == pytest.approx(float((point.flatten(1).norm(dim=1) - 1).pow(2).mean()), rel=1e-6)


def test_information_bound_is_the_entropy_of_the_code_when_q_is_exact():
    # With unit variance, H(c) + E log Q(c) = sum_j (1/2 - (c_j - q_j)^2 / 2): 1/2 nat per dimension at most.
    code = torch.randn(6, 4)
    assert float(information_bound(code, code)) == pytest.approx(2.0, rel=1e-6)
    assert float(information_bound(code, code + 1)) == pytest.approx(0.0, abs=1e-5)


def _moved(before, module):
    return any(not torch.equal(a, b) for a, b in zip(before, module.parameters()))


def test_the_critic_steps_every_step_and_the_generator_every_n_critic_th(small_dsprites):
    trainer = _trainer(small_dsprites, steps=12, n_critic=3)
    model, draw = trainer.model, batches(trainer, small_dsprites, "cpu")
    generator_steps = []
    for step in range(1, 13):
        critic, generator = ([p.detach().clone() for p in m.parameters()] for m in (model.critic, model.generator))
        train_step(trainer, draw())
        assert _moved(critic, model.critic)
        if _moved(generator, model.generator):
            generator_steps.append(step)
    assert generator_steps == [3, 6, 9, 12]
    assert int(model.generator_turn.count) == trainer.step == 12
    adam = trainer.optimizers["generator"].state[model.generator.net.net[0].weight]
    assert int(adam["step"]) == 4  # Adam's own count: never stepped on a stale gradient
    with torch.no_grad():  # a loss read outside training neither counts nor asks for a generator step
        assert set(model.losses(draw()).objectives) == {"critic"}
    model.eval()
    assert set(model.losses(draw()).objectives) == {"critic"}
    assert int(model.generator_turn.count) == 12


def test_a_run_resumed_mid_schedule_equals_an_uninterrupted_one(tmp_path, small_dsprites):
    config = TrainConfig("info_wgan_gp", "dsprites", steps=12, batch_size=8, seed=5, model_config=Config(n_critic=5))
    whole = train(config, small_dsprites, tmp_path / "whole", progress=False)
    first = Trainer.on(config, small_dsprites, "cpu")
    fit(first, batches(first, small_dsprites, "cpu"), tmp_path / "resumed", until=7)  # 2 critic steps into a cycle
    assert int(torch.load(tmp_path / "resumed" / CHECKPOINT, weights_only=True)["model"]["generator_turn.count"]) == 7
    resumed = train(config, small_dsprites, tmp_path / "resumed", progress=False)
    assert resumed.step == whole.step == 12
    for key, value in whole.model.state_dict().items():
        torch.testing.assert_close(resumed.model.state_dict()[key], value, rtol=0, atol=0, msg=key)
    header = (tmp_path / "whole" / LOSSES).read_text().splitlines()[0]
    assert header == "step,wasserstein,gradient_penalty,information,recon"


def test_represent_decode_and_reconstruct_shapes():
    model = _model(latent_dim=5, noise_dim=7)
    x = torch.rand(4, 1, 32, 32)
    assert model.represent(x).shape == (4, 5)
    assert model.decoder(torch.zeros(4, 5)).shape == (4, 1, 32, 32)
    torch.testing.assert_close(model.decoder(torch.ones(2, 5)), model.generator(torch.ones(2, 5), torch.zeros(2, 7)))
    assert model.reconstruct(x).shape == (4, 1, 32, 32)
    assert model.generator(torch.zeros(2, 5), torch.randn(2, 7)).shape == (2, 1, 32, 32)


def test_evaluation_and_traversal_of_a_model_in_memory(small_dsprites, tmp_path):
    trainer = _trainer(small_dsprites, steps=10)
    fit(trainer, batches(trainer, small_dsprites, "cpu"))
    settings = MetricSettings(metrics=("mig", "reconstruction", "active_units"), num_train=300, num_test=150)
    metrics = evaluate(trainer.model, small_dsprites, settings)["metrics"]
    assert 0 <= metrics["mig"] <= 1 and math.isfinite(metrics["reconstruction"])
    assert "no posterior variance" in metrics["active_units_note"]
    assert traversal(trainer.model, small_dsprites, tmp_path / "t", "t").endswith(".png")


@pytest.fixture(scope="module")
def trained(tmp_path_factory):
    """A finished 10-step InfoWGAN-GP run on dsprites_small and its data root."""
    return trained_run(tmp_path_factory, "info_wgan_gp")


def test_bench_evaluate_and_traverse_on_a_trained_run(trained, tmp_path):
    run, data_root = trained
    evaluation, _ = evaluate_run(run, metrics=("mig",), data_root=data_root)
    assert 0 <= evaluation["metrics"]["mig"] <= 1
    assert main(["traverse", str(run), "--out", str(tmp_path / "t.png"), "--data-root", str(data_root)]) == 0
    assert (tmp_path / "t.png").stat().st_size > 0


def test_the_line_search_scales_the_information_weight():
    from bench.suites import line_search_values
    assert line_search_values("info_wgan_gp", "dsprites", (0.5, 1.0, 2.0)) == [0.5, 1.0, 2.0]
