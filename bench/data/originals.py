"""Validation and streaming helpers for users' original dataset files (untrusted input: nothing is unpickled)."""

import contextlib
import zipfile
import zlib
from pathlib import Path

import h5py
import numpy as np

from bench.data.grid import FactorGrid
from bench.errors import UserError


# What to do about a damaged original file: bench renders the dataset itself, but not while the file is there.
REPLACE_ORIGINAL = ("replace the file with the original download or remove it (bench does not fall back to rendered "
                    "data while it is there)")


def bad_file(path: Path, what: str, fix: str = REPLACE_ORIGINAL) -> UserError:
    return UserError(f"{path}: {what}; {fix}")


# The ways a truncated or foreign file fails to read; a reader of other formats adds its own.
READ_ERRORS = (zipfile.BadZipFile, zlib.error, EOFError, OSError)


@contextlib.contextmanager
def reading(path: Path, fix: str = REPLACE_ORIGINAL, what: str = "", errors: tuple = READ_ERRORS):
    """Turn the ways a truncated or foreign file fails (`errors`) into one-line errors naming the file."""
    try:
        yield
    except errors as e:
        raise bad_file(path, f"cannot be read{f' {what}' if what else ''} ({type(e).__name__}: {e}); it may be "
                       "truncated or corrupt", fix) from e


def require(path: Path, condition: bool, what: str, fix: str = REPLACE_ORIGINAL):
    if not condition:
        raise bad_file(path, what, fix)


def check_classes(path: Path, key: str, classes: np.ndarray, grid: FactorGrid, skip_columns: int = 0):
    """The rows must be the full grid in row-major order, the order every index in bench assumes; the first
    `skip_columns` columns are factors with a single value that bench leaves out."""
    expected = (len(grid), skip_columns + grid.num_factors)
    require(path, classes.shape == expected, f"{key!r} has shape {classes.shape}, expected {expected}")
    # Float classes would compare equal to the grid, but they are not the file's format (values are another key).
    require(path, np.issubdtype(classes.dtype, np.integer), f"{key!r} has dtype {classes.dtype}, expected integers")
    classes = classes[:, skip_columns:]
    require(path, np.array_equal(classes, grid.index_to_factors(np.arange(len(grid)))),
            f"{key!r} is not the full factor grid {grid.sizes} in row-major order")


def h5_dataset(path: Path, file: h5py.File, key: str) -> h5py.Dataset:
    """`file[key]`, which must be an array (a group of the same name would fail later, far from the cause)."""
    item = file[key]
    kind = type(item).__name__.lower()
    require(path, isinstance(item, h5py.Dataset), f"{key!r} is an HDF5 {kind}, expected an array")
    return item


def npz_keys(archive: zipfile.ZipFile) -> set[str]:
    return {n.removesuffix(".npy") for n in archive.namelist()}


def load_npz_array(path: Path, archive: zipfile.ZipFile, key: str) -> np.ndarray:
    with archive.open(f"{key}.npy") as f:
        try:
            return np.load(f, allow_pickle=False)
        except ValueError as e:
            raise bad_file(path, f"{key!r} cannot be loaded without unpickling ({e})") from e


def stream_npz_array(path: Path, archive: zipfile.ZipFile, key: str, shape: tuple, dtype, chunk: int):
    """Yield consecutive row blocks of a (possibly compressed) .npy member without loading it whole."""
    with archive.open(f"{key}.npy") as f:
        got_shape, fortran, got_dtype = npy_header(path, f, key)
        require(path, tuple(got_shape) == tuple(shape), f"{key!r} has shape {tuple(got_shape)}, expected {shape}")
        require(path, got_dtype == np.dtype(dtype) and not fortran, f"{key!r} has dtype {got_dtype}, expected {np.dtype(dtype)}")
        yield from npy_rows(path, f, key, shape, dtype, chunk)


def npy_header(path: Path, f, key: str, fix: str = REPLACE_ORIGINAL) -> tuple[tuple, bool, np.dtype]:
    """(shape, Fortran order, dtype) from the header of the .npy stream `f`, read without unpickling anything."""
    version = np.lib.format.read_magic(f)
    read_header = {(1, 0): np.lib.format.read_array_header_1_0, (2, 0): np.lib.format.read_array_header_2_0}
    require(path, version in read_header, f"{key!r} is in an unsupported .npy format {version}", fix)
    shape, fortran, dtype = read_header[version](f)
    return tuple(shape), fortran, dtype


def npy_rows(path: Path, f, key: str, shape: tuple, dtype, chunk: int, fix: str = REPLACE_ORIGINAL):
    """Consecutive blocks of at most `chunk` rows of the .npy stream `f`, positioned after its header."""
    row = int(np.prod(shape[1:])) * np.dtype(dtype).itemsize
    for start in range(0, shape[0], chunk):
        n = min(chunk, shape[0] - start)
        data = f.read(n * row)
        require(path, len(data) == n * row, f"{key!r} ends after {start + len(data) // row} of {shape[0]} rows", fix)
        yield np.frombuffer(data, dtype=dtype).reshape(n, *shape[1:])
