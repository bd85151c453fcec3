import dataclasses

import numpy as np
import pytest
import torch

from bench.data import DATASETS
from bench.errors import UserError
from bench.models import MODELS, Model, build, paper_config, registry
from bench.models.beta_vae import Config as BetaConfig
from bench.models.factor_vae import shuffle_dims
from bench.models.nets import Decoder, Encoder
from bench.train import Trainer, TrainConfig, batch, train_step


def test_architecture_is_disentanglement_libs():
    enc, dec = Encoder(1, 64, 5), Decoder(3, 64, 6)
    convs = [(m.out_channels, m.kernel_size[0], m.stride[0]) for m in enc.modules() if isinstance(m, torch.nn.Conv2d)]
    assert convs == [(32, 4, 2), (32, 4, 2), (64, 2, 2), (64, 2, 2)]
    dense = [(m.in_features, m.out_features) for m in enc.modules() if isinstance(m, torch.nn.Linear)]
    assert dense == [(1024, 256), (256, 5), (256, 5)]
    deconvs = [m.out_channels for m in dec.modules() if isinstance(m, torch.nn.ConvTranspose2d)]
    assert deconvs == [64, 32, 32, 3]
    assert dec(torch.zeros(2, 6)).shape == (2, 3, 64, 64)
    # "same" padding: 64 -> 32 -> 16 -> 8 -> 4
    assert enc.body[:-3](torch.zeros(1, 1, 64, 64)).shape == (1, 64, 4, 4)


def test_paper_values_are_the_defaults():
    assert paper_config("beta_vae", "dsprites").beta == 8 and paper_config("beta_vae", "shapes3d").beta == 32
    assert paper_config("beta_tcvae", "dsprites").beta == 6 and paper_config("beta_tcvae", "shapes3d").beta == 32
    assert paper_config("factor_vae", "dsprites").gamma == 35 and paper_config("factor_vae", "shapes3d").gamma == 7
    slow = paper_config("slow_vae", "dsprites")
    assert (slow.beta, slow.gamma, slow.rate) == (1, 10, 6)
    for name, cls in MODELS.items():
        assert dataclasses.is_dataclass(cls.Config) and cls.Config.__dataclass_params__.frozen
    factor = build("factor_vae", paper_config("factor_vae", "dsprites"), (1, 64, 64), 5)
    assert factor.param_groups()["discriminator"][1] == {"betas": (0.5, 0.9)}
    hidden = [m for m in factor.discriminator if isinstance(m, torch.nn.Linear)]
    assert [m.out_features for m in hidden] == [1000] * 6 + [2]


def test_a_model_missing_part_of_its_contract_fails_at_registration():
    class Incomplete(Model):
        Config = BetaConfig
        PAPER_VALUES = {"dsprites": BetaConfig()}

    with pytest.raises(TypeError, match="regulariser"):
        registry({"incomplete": Incomplete})
    Incomplete.regulariser = "gamma"  # not a field of its Config
    with pytest.raises(TypeError, match="gamma"):
        registry({"incomplete": Incomplete})


def test_a_miniature_reads_the_paper_values_of_the_dataset_it_stands_for():
    from bench.suites import model_config
    assert model_config("beta_vae", "dsprites_halfy") == paper_config("beta_vae", "dsprites")
    assert model_config("factor_vae", "shapes3d") == paper_config("factor_vae", "shapes3d")
    orphan = dataclasses.replace(DATASETS["dsprites_halfy"], name="orphan", paper_dataset="")
    with pytest.raises(UserError, match="orphan stands for none of the paper's datasets"):
        orphan.stands_for()
    with pytest.raises(UserError, match="mnist"):
        paper_config("beta_vae", "mnist")


@pytest.mark.parametrize("name", sorted(MODELS))
def test_a_few_steps_reduce_the_loss(name, small_dsprites):
    config = TrainConfig(name, "dsprites", steps=40, batch_size=32, lr=1e-3).resolved(small_dsprites)
    trainer = Trainer.new(config, small_dsprites.observation_shape, "cpu")
    main = "logistic" if name == "pcl" else "recon"
    eval_rng = np.random.default_rng(1)
    fixed = batch(small_dsprites, trainer.model, 64, eval_rng)
    with torch.no_grad():
        before = float(trainer.model.losses(fixed).terms[main])
    for _ in range(config.steps):
        train_step(trainer, batch(small_dsprites, trainer.model, config.batch_size, trainer.data_rng))
    with torch.no_grad():
        after = float(trainer.model.losses(fixed).terms[main])
    assert after < 0.9 * before


def test_pair_models_receive_real_pairs(small_dsprites):
    model = build("slow_vae", paper_config("slow_vae", "dsprites"), small_dsprites.observation_shape, 5)
    x = batch(small_dsprites, model, 16, np.random.default_rng(3))
    x_t, x_t1, f_t, f_t1 = small_dsprites.sample_pairs(8, np.random.default_rng(3))
    assert x.shape == (8, 2, 1, 32, 32)
    torch.testing.assert_close(x[:, 0], x_t)
    torch.testing.assert_close(x[:, 1], x_t1)
    assert not (f_t == f_t1).all(axis=1).any()


def test_shuffle_dims_permutes_each_dimension_separately():
    torch.manual_seed(0)
    z = torch.arange(200.0).reshape(100, 2)
    s = shuffle_dims(z)
    assert sorted(s[:, 0].tolist()) == z[:, 0].tolist() and sorted(s[:, 1].tolist()) == z[:, 1].tolist()
    assert not torch.equal((s[:, 1] - s[:, 0]), torch.ones(100))  # rows no longer stay together


def test_pcl_has_no_reconstruction():
    model = build("pcl", paper_config("pcl", "dsprites"), (1, 32, 32), 5)
    with pytest.raises(NotImplementedError, match="no decoder"):
        model.reconstruct(torch.zeros(1, 1, 32, 32))
