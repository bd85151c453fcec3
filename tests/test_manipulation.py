"""The modified variant: its guarantees on a small grid, a deterministic build, cache reuse and resume."""

from dataclasses import replace

import numpy as np
import pytest
import torch

from bench.data import dsprites
from bench.data.sources import load_base
from bench.errors import UserError
from bench.manipulation import build as build_module
from bench.manipulation.build import arm_config, guarantee_report, learned_store, load_modified, train_manipulation
from bench.manipulation.diagnose import diagnose, format_diagnosis, gram_summary, off_diagonal_share
from bench.manipulation.game import ManipulationConfig, ManipulationGame, perturb, standardise
from bench.manipulation.guarantees import GuaranteeCheck
from bench.manipulation.rotations import MAX_MIXING, closest_pair, entangling_rotation, haar_mixing

CONFIG = ManipulationConfig(steps=12, batch_size=16, lr=1e-2, hidden=16)


@pytest.fixture(scope="module")
def root(tmp_path_factory):
    return tmp_path_factory.mktemp("data")


@pytest.fixture(scope="module")
def base(root):
    return load_base(dsprites.make_spec("manip_dsprites", size=32, num_positions=3, num_orientations=2), root)


@pytest.fixture(scope="module")
def modified(base, root):
    return load_modified(base, root, CONFIG, progress=False)


def test_every_image_moves_at_most_eps_and_keeps_its_grid(base, modified):
    x, x_mod = base.images(np.arange(len(base))), modified.images(np.arange(len(base)))
    assert (x_mod - x).abs().max() <= base.spec.eps
    assert (x_mod != x).any(), "a trained manipulation changes some pixels"
    assert modified.grid == base.grid and modified.variant == "modified"


def test_guarantee_report_holds_the_guarantees(base, root, modified):
    report = guarantee_report(base, root, CONFIG)
    assert report["violations"] == []
    assert report["images"] == len(base)
    assert report["distinct_modified"] >= report["distinct_original"]
    assert set(report["variance"]["modified"]["per_factor"]) == set(base.factor_names)


def test_build_is_deterministic_from_its_seed(base, tmp_path, modified):
    again = load_modified(base, tmp_path, CONFIG, progress=False)
    assert np.array_equal(np.asarray(again.array), np.asarray(modified.array))
    other = load_modified(base, tmp_path, ManipulationConfig(**{**CONFIG.to_dict(), "seed": 1}), progress=False)
    assert not np.array_equal(np.asarray(other.array), np.asarray(modified.array))


def test_second_load_reuses_the_cache(base, root, modified, monkeypatch):
    def fail(*args, **kwargs):
        raise AssertionError("the manipulation was trained again")
    monkeypatch.setattr(build_module, "train_manipulation", fail)
    assert np.array_equal(np.asarray(load_modified(base, root, CONFIG).array), np.asarray(modified.array))


def test_interrupted_training_resumes_to_the_same_weights(base, tmp_path, monkeypatch):
    whole = train_manipulation(base, CONFIG, tmp_path / "whole", progress=False)

    class Killed(Exception):
        pass

    real_fit, kill_at, drawn_at = build_module.fit, 7, []

    def fit_checkpointing_every_5_steps(trainer, draw, *args, checkpoint_every, **kwargs):
        def draw_unless_killed():
            if trainer.step == kill_at:
                raise Killed
            drawn_at.append(trainer.step)
            return draw()
        return real_fit(trainer, draw_unless_killed, *args, checkpoint_every=5, **kwargs)

    monkeypatch.setattr(build_module, "fit", fit_checkpointing_every_5_steps)
    with pytest.raises(Killed):
        train_manipulation(base, CONFIG, tmp_path / "split", progress=False)
    kill_at = None
    resumed = train_manipulation(base, CONFIG, tmp_path / "split", progress=False)
    assert drawn_at == [*range(7), *range(5, CONFIG.steps)]  # the second run started at the checkpoint of step 5
    for name, value in whole.state_dict().items():
        assert torch.equal(value, resumed.state_dict()[name]), name
    # A checkpoint of another config must not be resumed silently, nor one past the steps asked for.
    with pytest.raises(UserError, match="another configuration"):
        train_manipulation(base, ManipulationConfig(**{**CONFIG.to_dict(), "beta": 4.0}), tmp_path / "split",
                           progress=False)
    with pytest.raises(UserError, match="past the 5 steps asked for"):
        train_manipulation(base, ManipulationConfig(**{**CONFIG.to_dict(), "steps": 5}), tmp_path / "split",
                           progress=False)


def test_guarantee_check_catches_a_too_large_change_and_a_collapse(base):
    index = np.arange(len(base))
    original = np.asarray(base.array[index])
    too_far = original.astype(np.int16) + 30  # 30/255 > eps = 0.1
    check = GuaranteeCheck(base.spec)
    check.update(index, original, np.clip(too_far, 0, 255).astype(np.uint8))
    assert any("eps" in v for v in check.report()["violations"])
    check = GuaranteeCheck(base.spec)
    check.update(index, original, np.zeros_like(original))  # every image collapses onto one
    assert any("collapsed" in v for v in check.report()["violations"])


def test_violated_guarantees_raise_and_cache_nothing(base, tmp_path, monkeypatch):
    monkeypatch.setattr(build_module, "perturbation_u8", lambda game, grid, classes, eps: np.full(
        (len(classes), *base.observation_shape), 200, dtype=np.int16))
    with pytest.raises(UserError, match="broke its guarantees"):
        load_modified(base, tmp_path, CONFIG, progress=False)
    assert not learned_store(base.spec, tmp_path, CONFIG).is_valid()


def is_rotation(r: np.ndarray) -> bool:
    return np.allclose(r @ r.T, np.eye(len(r)), atol=1e-5) and np.isclose(np.linalg.det(r), 1.0, atol=1e-5)


def test_haar_mixing_is_a_seeded_rotation_that_mixes_every_latent():
    for k in (2, 3, 5):
        r = haar_mixing(k, seed=0)
        assert is_rotation(r) and np.abs(r).max() <= MAX_MIXING
        assert np.array_equal(r, haar_mixing(k, seed=0))
    assert not np.allclose(haar_mixing(3, 0), haar_mixing(3, 1))


def test_closest_pair_mixing_turns_the_two_symmetric_positions_by_45_degrees(base):
    # posX and posY have the same values over the same range, so their images change alike.
    pair = [base.factor_names[k] for k in closest_pair(base, seed=0)]
    assert pair == ["posX", "posY"]
    r = entangling_rotation(base, "closest-pair", seed=0)
    assert is_rotation(r)
    mixed = [name for name, row in zip(base.factor_names, r) if np.count_nonzero(row) == 2]
    assert mixed == ["posX", "posY"] and np.allclose(np.abs(r[3:, 3:]), np.sqrt(0.5))


def test_closest_pair_skips_factors_that_change_no_pixel(base, monkeypatch):
    from bench.manipulation import rotations
    # Only orientation (no direction) and one position would be left: the pair must not include orientation.
    real = rotations.factor_directions
    monkeypatch.setattr(rotations, "factor_directions", lambda *a: real(*a) * np.array([0, 0, 1, 1, 0])[:, None])
    with pytest.raises(UserError, match="fewer than two factors change the images"):
        closest_pair(base, seed=0)


def test_unknown_mixing_names_the_valid_ones(base):
    for name in ("some", "pair", "closest-pair:posX"):
        with pytest.raises(UserError, match=f"unknown mixing '{name}'.*all, closest-pair, identity, pair:A\\+B"):
            entangling_rotation(base, name, seed=0)


def test_a_named_pair_turns_those_two_factors(base):
    r = entangling_rotation(base, "pair:scale+posX", seed=0)
    i, j = base.factor_names.index("scale"), base.factor_names.index("posX")
    assert np.allclose(r[[i, j]][:, [i, j]], np.array([[1, 1], [-1, 1]]) / np.sqrt(2))
    others = [k for k in range(base.num_factors) if k not in (i, j)]
    assert np.array_equal(r[others][:, others], np.eye(len(others)))
    for bad in ("scale+scale", "scale", "scale+nope", "scale+posX+posY"):
        with pytest.raises(UserError, match=f"mixing 'pair:{bad.replace('+', '.')}' needs two different factors"):
            entangling_rotation(base, f"pair:{bad}", seed=0)


def test_perturb_clips_and_clipped_pixels_get_no_gradient():
    x = torch.tensor([0.0, 1.0, 0.5])
    m = torch.tensor([-1.0, 1.0, 1.0], requires_grad=True)
    out = perturb(x, m, eps=0.1)
    assert torch.allclose(out, torch.tensor([0.0, 1.0, 0.6]))
    out.sum().backward()
    assert torch.allclose(m.grad, torch.tensor([0.0, 0.0, 0.1]))


def test_standardised_factors_have_zero_mean_and_unit_variance(base):
    w = standardise(base.grid, base.grid.index_to_factors(np.arange(len(base))))
    assert np.allclose(w.mean(axis=0), 0, atol=1e-6) and np.allclose(w.std(axis=0), 1, atol=1e-5)


def test_off_diagonal_share_is_zero_for_orthogonal_directions_and_basis_dependent():
    assert off_diagonal_share(np.diag([3.0, 1.0])) == 0
    r = haar_mixing(2, 0)
    assert off_diagonal_share(r @ np.diag([3.0, 1.0]) @ r.T) > 0.1  # 0.2 at 45 degrees


def test_gram_summary_of_the_original(base):
    summary = gram_summary(base, haar_mixing(base.num_factors, 0), points=32, seed=0)
    norms = dict(zip(base.factor_names, summary["norms"]))
    # With 2 orientations, 0 and 2 pi, the orientation step changes no pixel: no direction, cosine 0.
    assert norms.pop("orientation") == 0
    assert min(norms.values()) > 0
    diagonal = dict(zip(base.factor_names, np.diag(summary["cosines"])))
    assert diagonal.pop("orientation") == 0 and np.allclose(list(diagonal.values()), 1.0, atol=1e-3)


def test_diagnose_reports_each_variant_and_says_which_basis_fits_better(base, modified):
    result = diagnose({"original": base, "modified": modified}, CONFIG, steps=3, points=8, held_out=16)
    assert list(result) == ["original", "modified"]
    assert result["original"]["learnability"] is None and result["modified"]["learnability"] is not None
    for r in result.values():
        assert r["gap"] == pytest.approx(r["loss_entangled"] - r["loss_disentangled"], abs=1e-3)
    text = format_diagnosis(result)
    winners = ["factor" if r["gap"] > 0 else "entangled" for r in result.values()]
    assert [line.split(": the ")[1].split()[0] for line in text.splitlines() if "basis fits" in line] == winners


def test_shapes3d_colour_images_keep_the_guarantees(tiny_shapes3d_spec, tmp_path):
    base = load_base(tiny_shapes3d_spec, tmp_path)
    modified = load_modified(base, tmp_path, ManipulationConfig(steps=3, batch_size=8, hidden=8), progress=False)
    index = np.arange(len(base))
    assert (modified.images(index) - base.images(index)).abs().max() <= base.spec.eps == 0.175
    assert guarantee_report(base, tmp_path, ManipulationConfig(steps=3, batch_size=8, hidden=8))["violations"] == []


def test_with_reference_steps_m_steps_only_on_every_nth_step(base, tmp_path, monkeypatch):
    config = ManipulationConfig(**{**CONFIG.to_dict(), "steps": 7, "reference_steps": 3})
    seen = []

    def fit_watching_m(trainer, draw, *args, **kwargs):
        def draw_and_watch():
            seen.append([p.detach().clone() for p in trainer.model.perturbation.parameters()])
            return draw()
        return real_fit(trainer, draw_and_watch, *args, **kwargs)

    real_fit = build_module.fit
    monkeypatch.setattr(build_module, "fit", fit_watching_m)
    train_manipulation(base, config, tmp_path / "game", progress=False)
    moved = [step for step in range(1, len(seen))
             if any(not torch.equal(a, b) for a, b in zip(seen[step - 1], seen[step]))]
    assert moved == [3, 6]  # m moved during steps 3 and 6 only; the references every step


def test_a_setting_added_later_leaves_earlier_builds_their_names():
    assert "reference_steps" not in ManipulationConfig().to_dict()
    assert ManipulationConfig(reference_steps=3).to_dict()["reference_steps"] == 3


def test_a_datasets_own_settings_reach_both_arms_and_the_sham_keeps_no_target(base):
    spec = replace(base.spec, manipulation=(("mixing", "pair:scale+posX"), ("reference_steps", 5)))
    modified, sham = arm_config(spec, "modified", 2), arm_config(spec, "sham", 2)
    assert (modified.mixing, modified.reference_steps, modified.seed) == ("pair:scale+posX", 5, 2)
    assert (sham.mixing, sham.reference_steps) == ("identity", 5)
    assert arm_config(base.spec, "modified", None) == ManipulationConfig()
    with pytest.raises(UserError, match="dataset manip_dsprites: unknown manipulation setting nope"):
        arm_config(replace(base.spec, manipulation=(("nope", 1),)), "modified", None)


def test_a_schedule_of_every_step_keeps_nothing_in_checkpoints_and_a_bad_one_is_refused(base):
    rotation = entangling_rotation(base, "closest-pair", seed=0)
    alternating = ManipulationGame(CONFIG, rotation, base.observation_shape, base.spec.eps)
    assert not [k for k in alternating.state_dict() if "turn" in k]  # as checkpoints written before it load
    slower = ManipulationGame(replace(CONFIG, reference_steps=3), rotation, base.observation_shape, base.spec.eps)
    assert "perturbation_turn.count" in slower.state_dict()
    with pytest.raises(UserError, match="reference_steps must be a whole number of at least 1, not 0"):
        ManipulationGame(replace(CONFIG, reference_steps=0), rotation, base.observation_shape, base.spec.eps)


def test_learned_variants_of_a_dataset_without_factors_are_refused_in_one_line():
    from bench.variants import identity
    with pytest.raises(UserError, match="celeba has no ground-truth factors: it has only the variant original"):
        identity("celeba", "modified")
