"""Datasets without ground-truth factors (CelebA, 3D Chairs, 3D Faces) from a user's files: loading, preprocessing,
the cache, every malformed input as one line, training, traversals, and the metrics' refusal. The files are tiny
ones in the original formats, written by the tests."""

import io
import json
from pathlib import Path

import numpy as np
import pytest
import torch
from PIL import Image

from bench.__main__ import main
from bench.data import DATASETS, unlabelled
from bench.data.unlabelled import CELEBA, celeba_crop
from bench.errors import UserError
from bench.metrics import MetricSettings, evaluate
from bench.models import build, paper_config
from bench.variants import get


def _image(rng, height, width) -> np.ndarray:
    return rng.integers(0, 256, size=(height, width, 3), dtype=np.uint8)


def _save(path, pixels):
    path.parent.mkdir(parents=True, exist_ok=True)
    Image.fromarray(pixels).save(path)
    return path


def _reference(pixels: np.ndarray, box, mode: str) -> np.ndarray:
    """The preprocessing written out with PIL: colour mode, crop, bilinear resize to 64 x 64, channels first."""
    image = Image.fromarray(pixels).convert(mode).crop(box).resize((64, 64), Image.Resampling.BILINEAR)
    pixels = np.asarray(image)
    return pixels[None] if pixels.ndim == 2 else pixels.transpose(2, 0, 1)


def _u8(data, index) -> np.ndarray:
    return np.rint(data.images([index]).numpy()[0] * 255).astype(np.uint8)


@pytest.fixture
def celeba_folder(tmp_path, rng):
    """Three CelebA-like images: one of the aligned release's size, one already 64 x 64, one neither."""
    folder = tmp_path / "celeba" / "img_align_celeba"
    images = {"000001.jpg": _image(rng, 218, 178), "000002.png": _image(rng, 64, 64), "000003.png": _image(rng, 80, 100)}
    for name, pixels in images.items():
        _save(folder / name, pixels)
    return tmp_path, folder, images


def test_a_folder_of_images_is_cropped_resized_and_read_in_name_order(celeba_folder):
    root, folder, images = celeba_folder
    data = get("celeba", root=root)
    assert len(data) == 3 and data.observation_shape == (3, 64, 64) and not data.has_factors
    # The JPEG as decoded, centre-cropped to 148 x 148 (the aligned release's size) and resized.
    decoded = np.asarray(Image.open(folder / "000001.jpg").convert("RGB"))
    assert celeba_crop(178, 218) == (15, 35, 163, 183)
    assert np.array_equal(_u8(data, 0), _reference(decoded, (15, 35, 163, 183), "RGB"))
    assert np.array_equal(_u8(data, 1), images["000002.png"].transpose(2, 0, 1))  # 64 x 64 stays as it is
    assert np.array_equal(_u8(data, 2), _reference(images["000003.png"], (10, 0, 90, 80), "RGB"))  # centre square


def test_the_cache_is_built_once_checksummed_and_rebuilt_when_the_files_change(celeba_folder, monkeypatch, capsys):
    root, folder, images = celeba_folder
    first = get("celeba", root=root)
    manifest = json.loads(Path(first.array.filename).with_name("manifest.json").read_text())
    assert manifest["params"]["source"] == "user files" and len(manifest["checksum"]) == 32
    with monkeypatch.context() as m:  # a second open reads the cache, not the images
        m.setattr(unlabelled, "_read_image", lambda *a: pytest.fail("the images were read again"))
        assert np.array_equal(get("celeba", root=root).array, first.array)
    assert main(["datasets", "info", "--dataset", "celeba", "--verify", "--data-root", str(root)]) == 0
    assert "checksum ok" in capsys.readouterr().out
    _save(folder / "000004.png", images["000002.png"])  # a new image: a new cache
    again = get("celeba", root=root)
    assert len(again) == 4 and np.array_equal(_u8(again, 3), _u8(again, 1))


def test_a_cache_written_to_after_its_build_is_refused(celeba_folder):
    root, _, _ = celeba_folder
    path = Path(get("celeba", root=root).array.filename)
    with open(path, "r+b") as f:
        f.write(b"\xff" * 16)
    with pytest.raises(UserError, match="no longer matches its checksum"):
        get("celeba", root=root)


def test_arrays_npy_and_npz_uint8_or_float_greyscale_or_colour(tmp_path, rng):
    grey = rng.integers(0, 256, size=(3, 64, 64), dtype=np.uint8)
    colour = rng.integers(0, 256, size=(2, 40, 30, 3), dtype=np.uint8)
    (tmp_path / "faces3d").mkdir()
    np.save(tmp_path / "faces3d" / "faces3d.npy", grey)
    faces = get("faces3d", root=tmp_path)
    assert faces.observation_shape == (1, 64, 64) and np.array_equal(faces.array[:, 0], grey)  # exact round trip
    # Floats in [0, 1] are read as uint8 after rounding; a greyscale array becomes three equal channels.
    np.savez(tmp_path / "chairs3d.npz", labels=np.zeros(2), images=colour / 255.0)
    chairs = get("chairs3d", root=tmp_path)
    assert np.array_equal(_u8(chairs, 1), _reference(colour[1], (0, 5, 30, 35), "RGB"))
    np.savez_compressed(tmp_path / "celeba.npz", grey[..., None])
    celeba = get("celeba", root=tmp_path)
    assert celeba.array.shape == (3, 3, 64, 64) and all(np.array_equal(c, grey[2]) for c in celeba.array[2])
    # RGB to greyscale with PIL's ITU-R 601 luma.
    np.save(tmp_path / "faces3d" / "faces3d.npy", colour)
    assert np.array_equal(_u8(get("faces3d", root=tmp_path), 0), _reference(colour[0], (0, 5, 30, 35), "L"))


def _npy_bytes(array) -> bytes:
    buffer = io.BytesIO()
    np.save(buffer, array, allow_pickle=True)
    return buffer.getvalue()


def _two_arrays(path, rng):
    np.savez(path, a=np.zeros((1, 4, 4), np.uint8), b=np.zeros((1, 4, 4), np.uint8))


def _truncated_png(path, rng):
    buffer = io.BytesIO()
    Image.fromarray(_image(rng, 32, 32)).save(buffer, format="PNG")
    path.write_bytes(buffer.getvalue()[:120])


NAN = np.full((2, 8, 8), 0.5, np.float32)
NAN[1, 3, 3] = np.nan
MALFORMED = {  # name: (file under the data root, its content, what the error says)
    "missing": (None, None, "no images found"),
    "empty folder": ("celeba/images", "folder", "holds no .png/.jpg/.jpeg images"),
    "corrupt image": ("celeba/images/a.jpg", b"\xff\xd8 not a jpeg", "cannot be read as an image"),
    "truncated image": ("celeba/images/a.png", _truncated_png, "cannot be read as an image"),
    "channels first": ("celeba.npy", np.zeros((2, 3, 8, 8), np.uint8), "expected N x H x W"),
    "one image": ("celeba.npy", np.zeros((8, 8), np.uint8), "expected N x H x W"),
    "no images": ("celeba.npy", np.zeros((0, 8, 8), np.uint8), "N at least 1"),
    "integers": ("celeba.npy", np.zeros((2, 8, 8), np.int64), "has dtype int64"),
    "pickled objects": ("celeba.npy", _npy_bytes(np.full((2, 4, 4), None, dtype=object)), "has dtype object"),
    "NaN": ("celeba.npy", NAN, "image 1 holds NaN"),
    "above 1": ("celeba.npy", np.full((2, 8, 8), 255.0, np.float32), "outside [0, 1]"),
    "Fortran order": ("celeba.npy", np.asfortranarray(np.zeros((2, 8, 8, 3), np.uint8)), "Fortran order"),
    "truncated array": ("celeba.npy", _npy_bytes(np.zeros((4, 8, 8), np.uint8))[:-70], "ends after 2 of 4 rows"),
    "not an array": ("celeba.npy", b"hello", "cannot be read"),
    "not a zip": ("celeba.npz", b"hello", "cannot be read"),
    "two arrays": ("celeba.npz", _two_arrays, "holds the arrays ['a', 'b']"),
    "folder named like an array": ("celeba/celeba.npy", "folder", "is a folder; expected an array file"),
    "file named like a folder": ("img_align_celeba", b"", "is a file; expected a folder"),
}


@pytest.mark.parametrize("case", MALFORMED)
def test_malformed_input_is_one_line_that_names_the_file_and_what_to_do(case, tmp_path, rng, capsys):
    where, content, says = MALFORMED[case]
    path = tmp_path / (where or "")
    if isinstance(content, str):  # "folder"
        path.mkdir(parents=True)
    elif content is not None:
        path.parent.mkdir(parents=True, exist_ok=True)
        if isinstance(content, bytes):
            path.write_bytes(content)
        elif isinstance(content, np.ndarray):
            np.save(path, content)
        else:
            content(path, rng)
    assert main(["datasets", "build", "--dataset", "celeba", "--data-root", str(tmp_path)]) == 2
    err = _error_line(capsys.readouterr().err)
    assert says in err and (str(path) if where else "put the folder img_align_celeba/") in err
    assert "replace it" in err or "put " in err


def _error_line(stderr: str) -> str:
    """The one line of a refusal (a progress bar may stand before it, on a line of its own), never a traceback."""
    assert "Traceback" not in stderr and stderr.count("error:") == 1, stderr
    last = stderr.rstrip("\n").split("\n")[-1]
    assert last.startswith("error: "), stderr
    return last


def test_train_a_few_steps_traverse_and_the_metrics_refusal(tmp_path, rng, capsys):
    (tmp_path / "faces3d").mkdir()
    np.save(tmp_path / "faces3d" / "faces3d.npy", rng.integers(0, 256, size=(8, 64, 64), dtype=np.uint8))
    run, root = tmp_path / "run", ["--data-root", str(tmp_path)]
    assert main(["train", "--model", "factor_vae", "--dataset", "faces3d", "--steps", "2", "--out", str(run),
                 "--set", "gamma=6.4", "--quiet", *root]) == 0
    config = json.loads(torch.load(run / "checkpoint.pt", weights_only=True)["config"])
    assert config["latent_dim"] == 10 and config["model_config"]["gamma"] == 6.4
    assert main(["traverse", str(run), "--out", str(tmp_path / "t.png"), *root]) == 0
    assert (tmp_path / "t.png").stat().st_size > 0
    capsys.readouterr()
    assert main(["evaluate", str(run), *root]) == 2
    err = _error_line(capsys.readouterr().err)
    assert "faces3d has no ground-truth factors, and the metrics mig, sap, dci, active_units need them" in err
    assert "bench traverse" in err
    assert main(["evaluate", str(run), "--metrics", "reconstruction", *root]) == 0  # needs no factors
    assert "reconstruction:" in capsys.readouterr().out


@pytest.mark.parametrize("args, says", [
    (["--model", "slow_vae"], "temporal pairs (slow_vae, pcl) step along its factors"),
    (["--model", "beta_vae", "--variant", "noise"], "it has only the variant original"),
    (["--model", "beta_vae", "--variant", "modified"], "it has only the variant original"),
])
def test_what_needs_factors_to_train_is_refused_in_one_line(args, says, tmp_path, rng, capsys):
    np.save(tmp_path / "celeba.npy", rng.integers(0, 256, size=(4, 8, 8, 3), dtype=np.uint8))
    assert main(["train", "--dataset", "celeba", "--steps", "1", "--out", str(tmp_path / "run"), "--quiet",
                 "--data-root", str(tmp_path), *args]) == 2
    assert "celeba has no ground-truth factors: " + says in _error_line(capsys.readouterr().err)


def test_factors_are_refused_and_metrics_without_them_are_computed(tmp_path, rng):
    np.save(tmp_path / "celeba.npy", rng.integers(0, 256, size=(4, 8, 8, 3), dtype=np.uint8))
    data = get("celeba", root=tmp_path)
    for use in (lambda: data.grid, lambda: data.sample_factors(2, rng), lambda: DATASETS["celeba"].grid):
        with pytest.raises(UserError, match="celeba has no ground-truth factors"):
            use()
    with pytest.raises(UserError, match="the metrics mig need them"):
        evaluate(None, data, MetricSettings(metrics=("mig", "reconstruction")))
    model = build("beta_vae", paper_config("beta_vae", "shapes3d"), data.observation_shape, 3)
    metrics = evaluate(model, data, MetricSettings(metrics=("reconstruction",), num_train=8, num_test=8))["metrics"]
    assert metrics["reconstruction"] > 0


def test_info_says_where_the_files_go_and_show_draws_samples_only(tmp_path, rng, capsys):
    assert main(["datasets", "info", "--data-root", str(tmp_path)]) == 0
    out = capsys.readouterr().out
    assert "chairs3d: images of shape (3, 64, 64) from your files" in out and "factors: none" in out
    assert "put the folder rendered_chairs/ of the official release" in out and str(tmp_path / "faces3d") in out
    np.save(tmp_path / "chairs3d.npy", rng.integers(0, 256, size=(4, 8, 8), dtype=np.uint8))
    assert main(["datasets", "show", "--dataset", "chairs3d", "--out", str(tmp_path / "s.png"),
                 "--data-root", str(tmp_path)]) == 0
    assert Image.open(tmp_path / "s.png").size[0] > 0


def test_datasets_build_without_a_name_builds_only_what_bench_makes_itself():
    from bench.data import selected
    assert {s.name for s in selected()}.isdisjoint({"celeba", "chairs3d", "faces3d"})
    assert {"celeba", "chairs3d", "faces3d"} <= {s.name for s in selected(user_files=True)}
    assert CELEBA.stands_for() == "shapes3d"


def test_a_grid_on_a_dataset_without_factors_is_refused_before_any_work(tmp_path):
    from bench.context import Context
    from bench.overrides import parse, resolve_profile
    from bench.runner import run_suite
    profile = resolve_profile("inductive-bias", "smoke", parse(["datasets=celeba", "variants=original"]))
    with pytest.raises(UserError, match="celeba has no ground-truth factors, and the metrics mig"):
        run_suite("inductive-bias", profile, Context(tmp_path / "results", tmp_path / "data"), say=lambda *_: None)
    assert not (tmp_path / "results").exists() and not (tmp_path / "data").exists()
