"""The entangled reference's basis: which factors it mixes, and how.

`ManipulationConfig.mixing` names one of `MIXINGS`:

- `closest-pair` (the default): a 45-degree rotation in the plane of the two factors whose images change most
  alike per standard deviation, every other latent left on its factor. Why: a diagonal posterior prefers the
  eigenbasis of the decoder's precision, and an added precision `a` along a mixed direction turns that basis
  towards it only once `a` is comparable to the two factors' difference in precision. A perturbation bounded by
  eps is weak, so it can only overturn the smallest difference. On full dSprites that is posX and posY (equal
  ranges, equal precision: the tie the paper's eps = 0.1 is enough to break). On `dsprites_halfy` it is scale
  and posY: the miniature halves posY's range, which makes posX four times as precise as posY
  (docs/manipulation.md). The squared norms of the factor directions below stand in for the
  precisions; they need no model and cost seconds.
- `pair:A+B`: 45 degrees in the plane of the two factors named, `pair:scale+posX` for example: a target stated in
  advance by name, for a dataset whose closest pair gives the manipulation nothing to turn (full dSprites'
  posX and posY, which the references fit equally well in either basis: docs/manipulation.md).
- `identity`: no rotation, for the sham control (`build.ARMS`).
- `all`: a Haar-random rotation from the seed in which every latent mixes factors (no entry above 0.75): the
  first reading of the paper (docs/paper.md), and what every manipulation before `closest-pair` used
  (docs/manipulation.md). It asks m to overturn the largest difference too.
"""

from itertools import combinations
from typing import Callable, NamedTuple

import numpy as np
from scipy.ndimage import gaussian_filter

from bench.data.ground_truth import GroundTruthData
from bench.errors import UserError

MAX_MIXING = 0.75  # largest |R_ij| allowed in the `all` rotation
POINTS = 512  # grid points whose factor directions pick the closest pair


def factor_directions(data: GroundTruthData, points: int, rng: np.random.Generator) -> np.ndarray:
    """(points, K, pixels): blurred finite differences along each factor, per standard deviation of it.

    Per standard deviation, so that a factor with more values over the same range counts more, as it does for a
    VAE whose prior fixes the code's scale. Blurred by a 1-pixel Gaussian because on raw binary images pixel
    staircases alone give posX and posY a cosine of 0.3 (docs/paper.md)."""
    sizes = np.asarray(data.factor_sizes)
    base = rng.integers(0, sizes - 1, size=(points, len(sizes)))
    x0 = _blurred(data, base)
    steps_per_std = np.sqrt((sizes**2 - 1) / 12)
    return np.stack([(_blurred(data, base + np.eye(len(sizes), dtype=int)[k]) - x0) * steps_per_std[k]
                     for k in range(len(sizes))], axis=1)


def _blurred(data: GroundTruthData, classes: np.ndarray) -> np.ndarray:
    x = data.images(data.factors_to_index(classes)).numpy()
    return gaussian_filter(x, sigma=(0, 0, 1, 1)).reshape(len(x), -1)


def haar_mixing(k: int, seed: int) -> np.ndarray:
    """The first Haar-random k x k rotation from `seed` in which no latent is dominated by one factor."""
    rng = np.random.default_rng(seed)
    while True:
        q, r = np.linalg.qr(rng.standard_normal((k, k)))
        q = q * np.sign(np.diag(r))  # makes the draw Haar-distributed
        if np.linalg.det(q) < 0:
            q[:, 0] = -q[:, 0]
        if np.abs(q).max() <= MAX_MIXING:
            return q.astype(np.float32)


def closest_pair(data: GroundTruthData, seed: int) -> tuple[int, int]:
    """The two factors whose squared factor-direction norms differ least, among factors that change pixels."""
    d = factor_directions(data, POINTS, np.random.default_rng(seed))
    power = (d**2).sum(axis=2).mean(axis=0)
    # A factor that changes no pixel (dSprites' orientation at 0 and 2 pi only) has nothing to rotate.
    visible = np.flatnonzero(power > 0)
    if len(visible) < 2:
        raise UserError(f"{data.name}: fewer than two factors change the images; nothing for the manipulation "
                        "to mix; use a dataset with more factor values")
    return min(combinations(visible.tolist(), 2), key=lambda pair: abs(power[pair[0]] - power[pair[1]]))


def turn(num_factors: int, i: int, j: int) -> np.ndarray:
    """45 degrees in the plane of factors i and j; the identity elsewhere."""
    r = np.eye(num_factors, dtype=np.float32)
    r[[i, i, j, j], [i, j, i, j]] = np.array([1, 1, -1, 1]) / np.sqrt(2)
    return r


def named_pair(dataset: str, factor_names: tuple[str, ...], names: str) -> tuple[int, int]:
    """The factors of `pair:A+B`, by name."""
    pair = names.split("+")
    unknown = [n for n in pair if n not in factor_names]
    if len(pair) != 2 or pair[0] == pair[1] or unknown:
        raise UserError(f"mixing 'pair:{names}' needs two different factors of {dataset}, as pair:A+B; choose "
                        f"from: {', '.join(factor_names)}")
    return factor_names.index(pair[0]), factor_names.index(pair[1])


class Mixing(NamedTuple):
    rotation: Callable  # (data, seed, the parsed argument) -> R
    argument: str = ""  # the form of the argument after ':', for a mixing that takes one
    parse: Callable = lambda dataset, factor_names, text: None  # the argument, checked against the factors


MIXINGS = {"closest-pair": Mixing(lambda data, seed, _: turn(data.num_factors, *closest_pair(data, seed))),
           "pair": Mixing(lambda data, seed, ij: turn(data.num_factors, *ij), "A+B", named_pair),
           "all": Mixing(lambda data, seed, _: haar_mixing(data.num_factors, seed)),
           # The factor basis itself: the sham control's "entangled" reference, which entangles nothing.
           "identity": Mixing(lambda data, seed, _: np.eye(data.num_factors, dtype=np.float32))}


def parse_mixing(mixing: str, dataset: str, factor_names: tuple[str, ...]) -> tuple[Mixing, object]:
    """A mixing's entry and its parsed argument, checked against the dataset's factor names: it needs no images,
    so a command checks its mixings before it builds any data."""
    kind, colon, argument = mixing.partition(":")
    if kind not in MIXINGS or bool(colon) != bool(MIXINGS[kind].argument):
        valid = ", ".join(f"{k}:{m.argument}" if m.argument else k for k, m in sorted(MIXINGS.items()))
        raise UserError(f"unknown mixing {mixing!r}; choose one of: {valid}")
    return MIXINGS[kind], MIXINGS[kind].parse(dataset, factor_names, argument)


def entangling_rotation(data: GroundTruthData, mixing: str, seed: int) -> np.ndarray:
    """The entangled reference's rotation R (its code is R w) for the data the game is played on."""
    entry, argument = parse_mixing(mixing, data.name, data.factor_names)
    return entry.rotation(data, seed, argument)
