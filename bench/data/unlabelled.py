"""Datasets without ground-truth factors, as FactorVAE trains on them besides dSprites and Shapes3D: CelebA, 3D Chairs
and 3D Faces. None can be downloaded here, so the images come from the user's files (a folder of .png/.jpg images,
or one .npy/.npz array), are preprocessed once to 64 x 64 and cached like every dataset. Only latent traversals can
judge a model on them (Kim & Mnih 2018, section 6): whatever needs factors refuses with one line.
"""

import contextlib
import hashlib
import os
import zipfile
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import ClassVar

import numpy as np
import torch
from PIL import Image

from bench.data.originals import READ_ERRORS, npy_header, npy_rows, npz_keys, reading, require
from bench.data.store import ImageStore, cache_key
from bench.errors import UserError

SIZE = 64
PREPROCESSING = 1  # bump whenever the preprocessing's pixels change: old caches are then rebuilt
IMAGE_SUFFIXES = (".png", ".jpg", ".jpeg")
ARRAY_SUFFIXES = (".npy", ".npz")
CHUNK = 64  # images per block: 64 CelebA-sized float32 images are 30 MB
FIX = "replace it with a good copy or remove it, then run the same command again"
GUIDE = "docs/datasets.md, 'Datasets without ground-truth factors'"


def no_factors(name: str, what: str) -> UserError:
    return UserError(f"{name} has no ground-truth factors: {what}; only latent traversals can judge a model on it "
                     "(bench traverse RUN_DIR)")


def centre_box(width: int, height: int, side: int) -> tuple[int, int, int, int]:
    """The centred side x side box, rounded as torchvision's CenterCrop rounds it."""
    left, top = round((width - side) / 2), round((height - side) / 2)
    return left, top, left + side, top + side


def centre_square(width: int, height: int) -> tuple[int, int, int, int]:
    return centre_box(width, height, min(width, height))


def celeba_crop(width: int, height: int) -> tuple[int, int, int, int]:
    """The centre 148 x 148 of an image of the aligned-and-cropped release (178 x 218), the crop
    AntixK/PyTorch-VAE takes before resizing to 64; an image of any other size is taken as cropped already."""
    return centre_box(width, height, 148) if (width, height) == (178, 218) else centre_square(width, height)


@dataclass(frozen=True)
class UnlabelledSpec:
    """A dataset made only from a user's files: where to find them and how to preprocess them."""

    name: str
    mode: str  # the cached colour mode, as PIL names it: "RGB" or "L" (greyscale)
    crop: Callable[[int, int], tuple[int, int, int, int]]  # (width, height) -> the box resized to 64 x 64
    preprocessing: str  # the same, in words, for `bench datasets info`
    release: str = ""  # the folder the official release unpacks to, looked for beside images/
    latent_dim: int = 10  # latents when a run sets none (there is no factor count to match)
    # Models read the study's paper values of this dataset: Shapes3D's are the ones for 64 x 64 natural-looking
    # images (beta-VAE beta 32, FactorVAE gamma 7; 1Konny/FactorVAE trains CelebA with gamma 6.4).
    paper_dataset: str = "shapes3d"
    has_factors: ClassVar[bool] = False

    @property
    def observation_shape(self) -> tuple[int, int, int]:
        return (3 if self.mode == "RGB" else 1, SIZE, SIZE)

    def stands_for(self) -> str:
        return self.paper_dataset

    @property
    def grid(self):
        raise no_factors(self.name, "this needs its factor grid")

    @property
    def eps(self):  # the perturbation size of the noise and learned variants, controls of the factor study
        raise no_factors(self.name, "it has only the variant original (noise, modified and sham are controls "
                                    "of the study on factor grids)")

    manipulation = eps  # the learned variants' settings (`DatasetSpec.manipulation`): as absent as their size

    def candidates(self, root: Path) -> list[Path]:
        """Where the user's files may be, first found wins: as for original files, in the data root or its
        `<name>/` folder; a plain `images/` folder only in the latter."""
        names = ([self.release] if self.release else []) + [f"{self.name}.npz", f"{self.name}.npy"]
        return [folder / n for folder in (root, root / self.name) for n in names] + [root / self.name / "images"]

    def where_to_put(self, root: Path) -> str:
        release = f"the folder {self.release}/ of the official release, or " if self.release else ""
        return (f"put {release}a folder images/ of .png/.jpg images, or one array {self.name}.npy or {self.name}.npz "
                f"(N x H x W or N x H x W x C with C 1 or 3; uint8, or floats in [0, 1]) in {root / self.name} "
                f"(see {GUIDE})")


# RGB as the FactorVAE paper lists CelebA and 3D Chairs (64 x 64 x 3), greyscale for 3D Faces (64 x 64).
CELEBA = UnlabelledSpec("celeba", "RGB", celeba_crop, "RGB; an image of the aligned release's size (178 x 218) "
                        "centre-cropped to 148 x 148, any other to its centre square; resized to 64 x 64",
                        release="img_align_celeba")
CHAIRS3D = UnlabelledSpec("chairs3d", "RGB", centre_square, "RGB; the centre square (the 600 x 600 renders whole), "
                          "resized to 64 x 64", release="rendered_chairs")
FACES3D = UnlabelledSpec("faces3d", "L", centre_square, "greyscale (ITU-R 601 luma); the centre square, resized to "
                         "64 x 64")


def preprocess(image: Image.Image, spec: UnlabelledSpec) -> np.ndarray:
    """One image as the cache stores it: (C, 64, 64) uint8. Bilinear and antialiased, as torchvision's Resize on
    a PIL image (1Konny/FactorVAE, PyTorch-VAE); an image already 64 x 64 in the right mode is kept as it is."""
    image = image.convert(spec.mode)
    image = image.crop(spec.crop(*image.size)).resize((SIZE, SIZE), Image.Resampling.BILINEAR)
    pixels = np.asarray(image, dtype=np.uint8)
    return pixels[None] if pixels.ndim == 2 else pixels.transpose(2, 0, 1)


class UnlabelledData:
    """Cached images without factors. It answers what training and traversals ask of a dataset (length, images,
    random samples); everything about factors (the grid, metrics' factor samples, temporal pairs) is refused."""

    has_factors = False
    variant = "original"

    def __init__(self, spec: UnlabelledSpec, array: np.ndarray, source: str):
        self.spec, self.array, self.source = spec, array, source

    name = property(lambda self: self.spec.name)
    observation_shape = property(lambda self: self.spec.observation_shape)
    default_latent_dim = property(lambda self: self.spec.latent_dim)
    grid = property(lambda self: self.spec.grid)

    def __len__(self) -> int:
        return len(self.array)

    def __repr__(self) -> str:
        return f"<{self.name}/{self.variant}: {len(self)} images, no ground-truth factors>"

    def images(self, index) -> torch.Tensor:
        """Images at indices (N,), float32 (N, C, H, W) in [0, 1]."""
        return torch.from_numpy(self.array[np.asarray(index, dtype=np.int64)]).float().div_(255.0)

    def sample_points(self, n: int, rng: np.random.Generator) -> np.ndarray:
        """n uniform draws, as (n, 1) image indices: without factors an image has only its index for a name.
        An evaluation draws these where it would draw factors, for the metrics that need none."""
        return rng.integers(0, len(self), size=n)[:, None]

    def factors_to_index(self, points) -> np.ndarray:
        """The indices of points drawn by `sample_points`."""
        return np.asarray(points, dtype=np.int64)[:, 0]

    def sample(self, n: int, rng: np.random.Generator) -> tuple[np.ndarray, torch.Tensor]:
        points = self.sample_points(n, rng)
        return points, self.images(self.factors_to_index(points))

    def sample_factors(self, n: int, rng: np.random.Generator):
        raise no_factors(self.name, "this needs factor values to sample")

    def sample_pairs(self, n: int, rng: np.random.Generator):
        raise no_factors(self.name, "temporal pairs (slow_vae, pcl) step along its factors, so train a model on "
                                    "single images (ae, beta_vae, beta_tcvae, factor_vae)")


def find_source(spec: UnlabelledSpec, root: Path) -> Path | None:
    return next((path for path in spec.candidates(root) if path.exists()), None)


def load(spec: UnlabelledSpec, root, rebuild: bool = False) -> UnlabelledData:
    """The user's images for `spec`, preprocessed and cached on first use (and again whenever they change)."""
    params, blocks = _source(spec, Path(root))
    store = _store(spec, Path(root), params)
    if rebuild or not store.is_valid():
        array = store.write(blocks(), desc=f"{spec.name}: preprocessing your images")
    else:
        array = store.open()
    return UnlabelledData(spec, array, describe_source(params))


def image_store(spec: UnlabelledSpec, root: Path) -> ImageStore:
    """The cache of the user's files for `spec` (which must be there: it is named by what they are)."""
    return _store(spec, Path(root), _source(spec, Path(root))[0])


def describe_source(params: dict) -> str:
    return f"your files {params['path']} ({params['images']} images)"


def _store(spec: UnlabelledSpec, root: Path, params: dict) -> ImageStore:
    directory = root / spec.name / f"original-{cache_key(params)}"
    return ImageStore(directory, (params["images"], *spec.observation_shape), params)


def _source(spec: UnlabelledSpec, root: Path) -> tuple[dict, Callable[[], Iterator[np.ndarray]]]:
    """What identifies the user's files (their path, and each image's name, size and time, or the array file's
    size and time), and a function that yields their images preprocessed, in blocks. Nothing is read yet beyond
    a listing, or an array's header, so that every open can tell whether the cache still matches them."""
    path = find_source(spec, root)
    if path is None:
        raise UserError(f"{spec.name}: no images found in {root} or {root / spec.name}; {spec.where_to_put(root)}")
    common = {"source": "user files", "path": str(path.resolve()), "preprocessing": PREPROCESSING,
              "mode": spec.mode, "crop": spec.crop.__name__, "size": SIZE}
    if path.suffix in ARRAY_SUFFIXES:
        require(path, path.is_file(), "is a folder; expected an array file", FIX)
        with _array(path) as (_, _, shape, _):
            stat = path.stat()
            return ({**common, "images": shape[0], "bytes": stat.st_size, "mtime_ns": stat.st_mtime_ns},
                    lambda: _array_blocks(spec, path))
    require(path, path.is_dir(), f"is a file; expected a folder of {'/'.join(IMAGE_SUFFIXES)} images", FIX)
    listing = _listing(path)
    require(path, bool(listing), f"holds no {'/'.join(IMAGE_SUFFIXES)} images; {spec.where_to_put(root)}", FIX)
    digest = hashlib.sha256("\n".join(f"{n}\t{s}\t{t}" for n, s, t in listing).encode()).hexdigest()[:16]
    names = [name for name, _, _ in listing]
    return {**common, "images": len(names), "listing": digest}, lambda: _folder_blocks(spec, path, names)


def _listing(folder: Path) -> list[tuple[str, int, int]]:
    """(relative name, bytes, mtime) of every image under `folder`, subfolders included (3D Chairs keeps each
    chair's renders in its own), in name order; hidden files (macOS's ._ copies) are not images."""
    found = []
    for directory, subfolders, files in os.walk(folder):
        subfolders[:] = [d for d in subfolders if not d.startswith(".")]
        for name in files:
            if name.lower().endswith(IMAGE_SUFFIXES) and not name.startswith("."):
                stat = os.stat(os.path.join(directory, name))
                found.append((os.path.relpath(os.path.join(directory, name), folder), stat.st_size,
                               stat.st_mtime_ns))
    return sorted(found)


def _folder_blocks(spec: UnlabelledSpec, folder: Path, names: list[str]) -> Iterator[np.ndarray]:
    for start in range(0, len(names), CHUNK):
        yield np.stack([_read_image(folder / name, spec) for name in names[start:start + CHUNK]])


def _read_image(path: Path, spec: UnlabelledSpec) -> np.ndarray:
    with _reading(path, "as an image"), Image.open(path) as image:
        return preprocess(image, spec)


def _reading(path: Path, what: str = ""):
    """`originals.reading` with what else a corrupt image or array raises (Pillow and numpy's header parser)."""
    return reading(path, FIX, what, READ_ERRORS + (ValueError, SyntaxError, Image.DecompressionBombError))


@contextlib.contextmanager
def _array(path: Path):
    """(stream, name, shape, dtype) of the user's array file, its header checked, the stream after the header. An
    .npz must hold one array, or one named images (or imgs, as dSprites' file does)."""
    with _reading(path), contextlib.ExitStack() as files:
        key = path.name
        if path.suffix == ".npz":
            archive = files.enter_context(zipfile.ZipFile(path))
            key = _npz_member(path, archive)
            f = files.enter_context(archive.open(f"{key}.npy"))
        else:
            f = files.enter_context(open(path, "rb"))
        shape, fortran, dtype = npy_header(path, f, key, FIX)
        _check_array(path, key, shape, fortran, dtype)
        yield f, key, shape, dtype


def _npz_member(path: Path, archive: zipfile.ZipFile) -> str:
    keys = sorted(npz_keys(archive))
    if len(keys) == 1:
        return keys[0]
    named = [k for k in ("images", "imgs") if k in keys]
    require(path, bool(named), f"holds the arrays {keys}; expected one array, or one named 'images'", FIX)
    return named[0]


def _check_array(path: Path, key: str, shape: tuple, fortran: bool, dtype: np.dtype):
    channels_ok = len(shape) == 3 or (len(shape) == 4 and shape[3] in (1, 3))
    require(path, channels_ok and 0 not in shape, f"{key!r} has shape {shape}; expected N x H x W (greyscale) or "
            "N x H x W x C with C 1 or 3 (channels last), N at least 1", FIX)
    require(path, dtype == np.uint8 or dtype.kind == "f", f"{key!r} has dtype {dtype}; expected uint8, or floats in "
            "[0, 1]", FIX)
    require(path, not fortran, f"{key!r} is stored in Fortran order; save it with "
            "numpy.save(file, numpy.ascontiguousarray(images))", FIX)


def _array_blocks(spec: UnlabelledSpec, path: Path) -> Iterator[np.ndarray]:
    with _array(path) as (f, key, shape, dtype):
        start = 0
        for block in npy_rows(path, f, key, shape, dtype, CHUNK, FIX):
            pixels = _as_uint8(path, key, block, start)
            yield np.stack([preprocess(Image.fromarray(p[..., 0] if p.ndim == 3 and p.shape[2] == 1 else p), spec)
                            for p in pixels])
            start += len(block)


def _as_uint8(path: Path, key: str, block: np.ndarray, start: int) -> np.ndarray:
    """uint8 as it is; floats, which must be finite and in [0, 1], scaled to 0..255 and rounded."""
    if block.dtype == np.uint8:
        return block
    flat = block.reshape(len(block), -1)
    for bad, what in ((~np.isfinite(flat).all(axis=1), "holds NaN or infinite values"),
                      (((flat < 0) | (flat > 1)).any(axis=1), "has values outside [0, 1] (scale floats to [0, 1], "
                                                             "or save uint8 0..255)")):
        require(path, not bad.any(), f"{key!r}: image {start + int(np.argmax(bad))} {what}", FIX)
    return np.rint(block.astype(np.float32) * 255).astype(np.uint8)
