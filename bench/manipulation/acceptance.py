"""The acceptance test of a learned build, stated before a confirmatory run (docs/preregistration.md).

The game's own references were trained against m, so m beating them shows little: on full Shapes3D a game beat
its references while fresh ones preferred the factor basis even more after the change. A build is accepted when
references it never saw, over several reference seeds, prefer the factor basis on the original images (a
positive gap, entangled minus disentangled) and the target basis on the build's images (a negative gap), and
the build's change is learnable beyond what clipped noise allows.

The target basis is the real manipulation's (the dataset's own target, `closest-pair` by default) for both
learned arms: the sham is judged on the basis it must *not* turn, and is recorded without a gate.
"""

import json
from dataclasses import asdict, dataclass, replace
from pathlib import Path

import numpy as np
import torch

from bench.atomic import atomic_write_text
from bench.data.ground_truth import DatasetSpec, GroundTruthData, StoredData
from bench.errors import UserError
from bench.manipulation.build import ARMS, REPORT, arm_config, learned_store, load_arm, variant_name
from bench.manipulation.diagnose import judge, train_references
from bench.manipulation.game import ManipulationConfig
from bench.manipulation.rotations import entangling_rotation
from bench.seeding import seed_hash

# A build's acceptance result in words, by its `passed`: the sham is measured against the same target, ungated.
VERDICTS = {True: "passed", False: "failed", None: "recorded without a gate (the sham)"}
NOISE_CEILING = 0.375  # clipped uniform noise's learnability when learned perfectly (diagnose.py)


@dataclass(frozen=True)
class Acceptance:
    reference_seeds: tuple[int, ...] = (0, 1, 2)
    steps: int = 2000  # the references' training steps, as `bench datasets diagnose` uses
    held_out: int = 512  # images the gaps are measured on, drawn apart from training batches

    def to_dict(self) -> dict:
        """JSON-normal (lists, not tuples), so it compares equal to what a build report stored."""
        return json.loads(json.dumps(asdict(self)))


class OriginalReferences:
    """References trained on the original images, once per (reference seed, target basis): every build of a
    profile is judged against the same ones."""

    def __init__(self, original: GroundTruthData, acceptance: Acceptance):
        self.original, self.acceptance, self.trained = original, acceptance, {}

    def __call__(self, config: ManipulationConfig, rotation: np.ndarray):
        key = (config.seed, rotation.tobytes())
        if key not in self.trained:
            self.trained[key] = train_references(self.original, config, rotation)
        return self.trained[key]


def original_gaps(original_references: OriginalReferences, target: ManipulationConfig) -> list[float]:
    """Fresh references' gaps on the original images, per reference seed: positive where they fit the factor basis
    better than `target`'s basis, so that there is an alignment for a manipulation to overturn."""
    original = original_references.original
    rotation = entangling_rotation(original, target.mixing, target.seed)
    classes = _held_out(original_references)
    gaps = []
    for config in _reference_configs(original_references, target):
        pair = original_references(config, rotation)
        # The judge's noise from a seed of its own, so that a gap does not depend on what was trained before it.
        torch.manual_seed(seed_hash("original gap", config.seed))
        gaps.append(judge(pair, original, original, pair, classes)["gap"])
    return gaps


def reference_gaps(original_references: OriginalReferences, built: GroundTruthData, target: ManipulationConfig) -> dict:
    """Fresh references' gaps on the original and the built images, and the build's learnability, per seed."""
    original = original_references.original
    rotation = entangling_rotation(original, target.mixing, target.seed)
    classes = _held_out(original_references)
    rows = {"original_gap": [], "gap": [], "learnability": []}
    for config in _reference_configs(original_references, target):
        # In this order: the judges draw their noise from torch's global generator, which training reseeds, and
        # the recorded acceptance results were measured so.
        on_original = original_references(config, rotation)
        on_built = train_references(built, config, rotation)
        rows["original_gap"].append(judge(on_original, original, original, on_original, classes)["gap"])
        verdict = judge(on_built, built, original, on_original, classes)
        rows["gap"].append(verdict["gap"])
        rows["learnability"].append(verdict["learnability"])
    return rows


def _reference_configs(original_references: OriginalReferences, target: ManipulationConfig):
    acceptance = original_references.acceptance
    return [replace(target, steps=acceptance.steps, seed=seed) for seed in acceptance.reference_seeds]


def _held_out(original_references: OriginalReferences) -> np.ndarray:
    """The factor classes every gap is measured on, drawn apart from the references' training batches."""
    return original_references.original.sample_factors(original_references.acceptance.held_out,
                                                       np.random.default_rng(seed_hash("acceptance")))


def accepted(gaps: dict) -> bool:
    """Every reference seed prefers the factor basis on the original and the target on the build, and every
    seed's decoder learns more of the change than it could of clipped noise."""
    return (min(gaps["original_gap"]) > 0 and max(gaps["gap"]) < 0
            and min(v if v is not None else -np.inf for v in gaps["learnability"]) > NOISE_CEILING)


def single_threaded(measure, *args):
    """Measured on one thread, as every run is: the thread count changes float reductions, so the recorded gaps
    would otherwise depend on the machine's cores (and two threads beside other work ran 4x slower here)."""
    threads = torch.get_num_threads()
    torch.set_num_threads(1)
    try:
        return measure(*args)
    finally:
        torch.set_num_threads(threads)


def check_builds(base: StoredData, root: Path, builds: list[tuple[str, int | None]],
                 acceptance: Acceptance = Acceptance()) -> dict:
    """Judge every learned build among `builds` (arm, build) once, recording the result in its build report; then
    refuse, with one line, if a build of the real manipulation failed. Returns {variant name: acceptance record}."""
    original_references = OriginalReferences(base, acceptance)
    results = {variant_name(arm, build): stored_acceptance(base.spec, root, arm, build, acceptance)
               or _judge(original_references, root, arm, build) for arm, build in builds if arm in ARMS}
    return refuse_failed(base.name, root, results)


def stored_acceptance(spec: DatasetSpec, root: Path, arm: str, build: int | None,
                      acceptance: Acceptance = Acceptance()) -> dict | None:
    """A build's acceptance record as its build report stores it under `acceptance`'s settings; None where it was
    not measured with them, or the build is not there. Reads only."""
    try:
        report = json.loads(_report_path(spec, root, arm, build).read_text())
    except FileNotFoundError:
        return None
    result = report.get("acceptance", {})
    return result if result.get("settings") == acceptance.to_dict() else None


def refuse_failed(dataset: str, root: Path, results: dict) -> dict:
    """`results` ({variant: acceptance record}), unless a build of the real manipulation failed: then one line."""
    failed = [v for v, r in results.items() if r["passed"] is False]
    if failed:
        raise UserError(f"{dataset}: {', '.join(failed)} failed the acceptance test (fresh references must prefer "
                        f"the factor basis on the original and the target on the build); see their report.json "
                        f"under {Path(root) / dataset}; no run on them was started")
    return results


def _report_path(spec: DatasetSpec, root: Path, arm: str, build: int | None) -> Path:
    return learned_store(spec, root, arm_config(spec, arm, build)).directory / REPORT


def _judge(original_references: OriginalReferences, root: Path, arm: str, build: int | None) -> dict:
    """Measure a build's acceptance and store it in its build report."""
    base, acceptance = original_references.original, original_references.acceptance
    config, target = arm_config(base.spec, arm, build), arm_config(base.spec, "modified", build)
    path = _report_path(base.spec, root, arm, build)
    report = json.loads(path.read_text())
    gaps = single_threaded(reference_gaps, original_references, load_arm(base, root, arm, build, progress=False),
                           target)
    gated = config.mixing == target.mixing  # the sham has no target of its own to pass
    report["acceptance"] = {"settings": acceptance.to_dict(), "target": target.mixing, **gaps,
                            "gated": gated, "passed": accepted(gaps) if gated else None}
    atomic_write_text(path, json.dumps(report, indent=2))
    return report["acceptance"]
