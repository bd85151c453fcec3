"""The loaders of users' original files, on small files in the original formats that the tests write."""

import dataclasses

import h5py
import numpy as np
import pytest

from bench.data import dsprites, shapes3d
from bench.data.sources import load_base
from bench.errors import UserError


@pytest.fixture
def dsprites_spec(tiny_dsprites_spec):
    return dataclasses.replace(tiny_dsprites_spec, original_files=(dsprites.ORIGINAL_NPZ, dsprites.ORIGINAL_HDF5),
                               read_original=dsprites.read_original)


@pytest.fixture
def shapes_spec(tiny_shapes3d_spec):
    return dataclasses.replace(tiny_shapes3d_spec, original_files=(shapes3d.ORIGINAL_H5,),
                               read_original=shapes3d.read_original)


def _dsprites_arrays(spec, rng):
    n = len(spec.grid)
    classes = np.concatenate([np.zeros((n, 1), np.int64), spec.grid.index_to_factors(np.arange(n))], axis=1)
    return {"imgs": rng.integers(0, 2, size=(n, 64, 64), dtype=np.uint8),
            "latents_classes": classes, "latents_values": classes.astype(np.float64)}


def _write_npz(path, arrays):
    np.savez_compressed(path, **arrays, metadata=np.array([{"pickled": "never loaded"}], dtype=object))


def test_npz_is_used_and_matches(tmp_path, dsprites_spec, rng):
    arrays = _dsprites_arrays(dsprites_spec, rng)
    _write_npz(tmp_path / dsprites.ORIGINAL_NPZ, arrays)
    ds = load_base(dsprites_spec, tmp_path)
    assert ds.source.startswith("original file")
    np.testing.assert_array_equal(ds.images(np.arange(len(ds)))[:, 0].numpy(), arrays["imgs"])


def test_hdf5_is_used_and_matches(tmp_path, dsprites_spec, rng):
    arrays = _dsprites_arrays(dsprites_spec, rng)
    with h5py.File(tmp_path / dsprites.ORIGINAL_HDF5, "w") as f:
        f["imgs"] = arrays["imgs"]
        f["latents/classes"] = arrays["latents_classes"]
        f["latents/values"] = arrays["latents_values"]
    ds = load_base(dsprites_spec, tmp_path)
    np.testing.assert_array_equal(ds.images(np.arange(len(ds)))[:, 0].numpy(), arrays["imgs"])


BROKEN_NPZ = {
    "missing key": (lambda a: a.pop("latents_classes"), "missing arrays"),
    "wrong shape": (lambda a: a.update(imgs=a["imgs"][:, :32]), "shape"),
    "wrong dtype": (lambda a: a.update(imgs=a["imgs"].astype(np.float32)), "dtype"),
    "wrong order": (lambda a: a.update(latents_classes=a["latents_classes"][::-1]), "row-major order"),
    "not binary": (lambda a: a.update(imgs=a["imgs"] * 255), "values above 1"),
    "float classes": (lambda a: a.update(latents_classes=a["latents_classes"].astype(np.float64)), "dtype float64"),
    "1-D classes": (lambda a: a.update(latents_classes=a["latents_classes"][:, 1]), r"shape \(324,\)"),
}


@pytest.mark.parametrize("kind", sorted(BROKEN_NPZ))
def test_broken_npz_is_a_one_line_error_naming_the_file(tmp_path, dsprites_spec, rng, kind):
    arrays = _dsprites_arrays(dsprites_spec, rng)
    breaks, message = BROKEN_NPZ[kind]
    breaks(arrays)
    _write_npz(tmp_path / dsprites.ORIGINAL_NPZ, arrays)
    with pytest.raises(UserError, match=message) as err:
        load_base(dsprites_spec, tmp_path)
    assert dsprites.ORIGINAL_NPZ in str(err.value) and "\n" not in str(err.value)
    assert not any(tmp_path.rglob("manifest.json"))  # nothing half-built is trusted later


@pytest.mark.parametrize("name", [dsprites.ORIGINAL_NPZ, dsprites.ORIGINAL_HDF5])
def test_truncated_file_is_a_one_line_error(tmp_path, dsprites_spec, rng, name):
    arrays = _dsprites_arrays(dsprites_spec, rng)
    path = tmp_path / name
    if name.endswith(".npz"):
        _write_npz(path, arrays)
    else:
        with h5py.File(path, "w") as f:
            f["imgs"] = arrays["imgs"]
            f["latents/classes"] = arrays["latents_classes"]
    path.write_bytes(path.read_bytes()[: path.stat().st_size // 2])
    with pytest.raises(UserError, match="truncated or corrupt"):
        load_base(dsprites_spec, tmp_path)


HDF5_CLASSES = {
    "float classes": (lambda f, c: f.create_dataset("latents/classes", data=c.astype(np.float64)), "dtype float64"),
    "1-D classes": (lambda f, c: f.create_dataset("latents/classes", data=c[:, 1]), r"shape \(324,\)"),
    "classes a group": (lambda f, c: f.create_group("latents/classes"), "'latents/classes' is an HDF5 group"),
}


@pytest.mark.parametrize("kind", sorted(HDF5_CLASSES))
def test_malformed_hdf5_classes_are_a_one_line_error_naming_the_file(tmp_path, dsprites_spec, rng, kind):
    arrays = _dsprites_arrays(dsprites_spec, rng)
    write_classes, message = HDF5_CLASSES[kind]
    with h5py.File(tmp_path / dsprites.ORIGINAL_HDF5, "w") as f:
        f["imgs"] = arrays["imgs"]
        write_classes(f, arrays["latents_classes"])
    with pytest.raises(UserError, match=message) as err:
        load_base(dsprites_spec, tmp_path)
    assert dsprites.ORIGINAL_HDF5 in str(err.value) and "\n" not in str(err.value)


def _shapes_arrays(spec, rng):
    n = len(spec.grid)
    classes = spec.grid.index_to_factors(np.arange(n))
    labels = np.stack([v[classes[:, k]] for k, v in enumerate(spec.factor_values)], axis=1).astype(np.float64)
    return rng.integers(0, 256, size=(n, 64, 64, 3), dtype=np.uint8), labels


def test_3dshapes_h5_is_used_and_transposed(tmp_path, shapes_spec, rng):
    images, labels = _shapes_arrays(shapes_spec, rng)
    with h5py.File(tmp_path / shapes3d.ORIGINAL_H5, "w") as f:
        f.create_dataset("images", data=images, chunks=(10, 64, 64, 3), compression="gzip")
        f["labels"] = labels
    ds = load_base(shapes_spec, tmp_path)
    got = (ds.images(np.arange(len(ds))).numpy() * 255).round().astype(np.uint8)
    np.testing.assert_array_equal(got, images.transpose(0, 3, 1, 2))


@pytest.mark.parametrize("kind", ["missing labels", "wrong shape", "shuffled labels", "images a group"])
def test_broken_3dshapes_h5(tmp_path, shapes_spec, rng, kind):
    images, labels = _shapes_arrays(shapes_spec, rng)
    with h5py.File(tmp_path / shapes3d.ORIGINAL_H5, "w") as f:
        if kind == "images a group":
            f.create_group("images")
        else:
            f["images"] = images[:, :, :32] if kind == "wrong shape" else images
        if kind != "missing labels":
            f["labels"] = labels[::-1] if kind == "shuffled labels" else labels
    with pytest.raises(UserError, match=shapes3d.ORIGINAL_H5) as err:
        load_base(shapes_spec, tmp_path)
    assert "\n" not in str(err.value)
