"""`bench experiment targets`: which entangled basis can a manipulation aim at on a dataset?

A manipulation can only overturn an alignment that is there. For each candidate mixing (`rotations.MIXINGS`),
fresh references are trained on the original images, one pair per reference seed, as the acceptance test trains
them (`bench.manipulation.acceptance`, with the dataset's own game settings), and their held-out gap is
measured: entangled minus disentangled loss, in nats per image. A target is usable when the gap is *clearly positive*: positive for every reference seed, and its
mean more than twice its standard deviation over the seeds. On full dSprites the closest pair (posX and posY) is
not: both bases fit those equal-range positions alike (docs/manipulation.md), so a manipulation aimed there has
nothing to turn.
"""

import json
import time
from dataclasses import replace
from pathlib import Path

import numpy as np
import pandas as pd

from bench.atomic import atomic_write_json_lines
from bench.data import DATASETS
from bench.errors import UserError, lookup, writable_file
from bench.manipulation.acceptance import Acceptance, OriginalReferences, original_gaps, single_threaded
from bench.manipulation.build import arm_config
from bench.manipulation.rotations import parse_mixing
from bench.variants import get


def clearly_positive(gaps) -> bool:
    gaps = np.asarray(gaps, dtype=float)
    return bool(gaps.min() > 0 and gaps.mean() > 2 * gaps.std(ddof=1)) if len(gaps) > 1 else False


def gaps_file(results: Path, dataset: str) -> Path:
    """Every gap measured on `dataset`, a JSON line each, keyed by the references' settings: a rerun reads them."""
    return Path(results) / "experiments" / "targets" / f"{dataset}.jsonl"


def run(dataset: str, mixings: tuple[str, ...], seeds: int = 3, steps: int = 2000, out: Path | None = None,
        data_root=None, results: Path = Path("results")) -> pd.DataFrame:
    """The original-data gap of every mixing in `mixings`, per reference seed; printed, and written to the CSV
    `out` (default: RESULTS/experiments/targets-DATASET-STEPS.csv). Each gap is kept as it is measured, so an
    interrupted command loses only the pair of references in training, and the same command goes on."""
    spec = lookup(DATASETS, dataset, "dataset")
    for mixing in mixings:  # every name is checked before any data is built
        parse_mixing(mixing, spec.name, spec.grid.names)
    out = writable_file(out or Path(results) / f"experiments/targets-{dataset}-{steps}.csv", "--out")
    kept = writable_file(gaps_file(results, dataset), "--results")
    original = get(dataset, "original", data_root)
    rows = []
    for mixing in mixings:
        # The references the acceptance test would train for this dataset, aimed at the candidate.
        target = replace(arm_config(spec, "modified", None), mixing=mixing)
        start = time.perf_counter()
        gaps = [_gap(original, target, seed, steps, kept) for seed in range(seeds)]
        rows.append({"dataset": dataset, "mixing": mixing, "steps": steps,
                     **{f"gap_seed{s}": g for s, g in enumerate(gaps)}, "mean": np.mean(gaps),
                     "std": np.std(gaps, ddof=1) if seeds > 1 else None, "clearly_positive": clearly_positive(gaps),
                     "seconds": round(time.perf_counter() - start, 1)})
    frame = pd.DataFrame(rows)
    frame.to_csv(out, index=False)
    print(f"{dataset}: gap (entangled - disentangled, nats/img) of fresh references trained {steps} steps on the "
          f"original images, {seeds} reference seeds; a usable target's gap is clearly positive (seconds: of "
          "this call, 0 where every gap was kept from an earlier one):")
    print(frame.drop(columns=["dataset", "steps"]).round(3).to_string(index=False))
    print(f"rows written to {out}")
    return frame


def _gap(original, target, seed: int, steps: int, kept: Path) -> float:
    """One reference seed's gap: read from `kept`, or measured and added to it."""
    key = {"references": replace(target, seed=seed, steps=steps).to_dict(),
           "acceptance": Acceptance(reference_seeds=(seed,), steps=steps).to_dict()}
    try:
        rows = [json.loads(line) for line in kept.read_text().splitlines()] if kept.exists() else []
        known = {_canonical(row["key"]): row["gap"] for row in rows}
    except (json.JSONDecodeError, KeyError, TypeError):
        raise UserError(f"{kept} is damaged; remove it to measure its gaps again") from None
    if _canonical(key) not in known:
        references = OriginalReferences(original, Acceptance(reference_seeds=(seed,), steps=steps))
        rows.append({"key": key, "gap": single_threaded(original_gaps, references, target)[0]})
        atomic_write_json_lines(kept, rows)
        return rows[-1]["gap"]
    return known[_canonical(key)]


def _canonical(key: dict) -> str:
    return json.dumps(key, sort_keys=True)
