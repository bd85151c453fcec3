"""`bench experiment targets`: which entangled basis can a manipulation aim at on a dataset?

A manipulation can only overturn an alignment that is there. For each candidate mixing (`rotations.MIXINGS`),
fresh references are trained on the original images, one pair per reference seed, as the acceptance test trains
them (`bench.manipulation.acceptance`, with the dataset's own game settings), and their held-out gap is
measured: entangled minus disentangled loss, in nats per image. A target is usable when the gap is *clearly positive*: positive for every reference seed, and its
mean more than twice its standard deviation over the seeds. On full dSprites the closest pair (posX and posY) is
not: both bases fit those equal-range positions alike (docs/manipulation.md), so a manipulation aimed there has
nothing to turn.
"""

import time
from dataclasses import replace
from pathlib import Path

import numpy as np
import pandas as pd

from bench.data import DATASETS
from bench.errors import lookup, writable_file
from bench.manipulation.acceptance import Acceptance, OriginalReferences, original_gaps, single_threaded
from bench.manipulation.build import arm_config
from bench.manipulation.rotations import parse_mixing
from bench.variants import get


def clearly_positive(gaps) -> bool:
    gaps = np.asarray(gaps, dtype=float)
    return bool(gaps.min() > 0 and gaps.mean() > 2 * gaps.std(ddof=1)) if len(gaps) > 1 else False


def run(dataset: str, mixings: tuple[str, ...], seeds: int = 3, steps: int = 2000, out: Path | None = None,
        data_root=None) -> pd.DataFrame:
    """The original-data gap of every mixing in `mixings`, per reference seed; printed, and written to the CSV
    `out` (default: results/experiments/targets-DATASET-STEPS.csv)."""
    spec = lookup(DATASETS, dataset, "dataset")
    for mixing in mixings:  # every name is checked before any data is built
        parse_mixing(mixing, spec.name, spec.grid.names)
    out = writable_file(out or f"results/experiments/targets-{dataset}-{steps}.csv", "--out")
    original = get(dataset, "original", data_root)
    # The references the acceptance test would train for this dataset, aimed at each candidate in turn.
    targets = [replace(arm_config(spec, "modified", None), mixing=mixing) for mixing in mixings]
    references = OriginalReferences(original, Acceptance(reference_seeds=tuple(range(seeds)), steps=steps))
    rows = []
    for target in targets:
        start = time.perf_counter()
        gaps = single_threaded(original_gaps, references, target)
        rows.append({"dataset": dataset, "mixing": target.mixing, "steps": steps,
                     **{f"gap_seed{s}": g for s, g in enumerate(gaps)}, "mean": np.mean(gaps),
                     "std": np.std(gaps, ddof=1) if seeds > 1 else None, "clearly_positive": clearly_positive(gaps),
                     "seconds": round(time.perf_counter() - start, 1)})
    frame = pd.DataFrame(rows)
    frame.to_csv(out, index=False)
    print(f"{dataset}: gap (entangled - disentangled, nats/img) of fresh references trained {steps} steps on the "
          f"original images, {seeds} reference seeds; a usable target's gap is clearly positive:")
    print(frame.drop(columns=["dataset", "steps"]).round(3).to_string(index=False))
    print(f"rows written to {out}")
    return frame
