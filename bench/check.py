"""CI regression of metric values: run the smoke profile and compare every metric to a committed baseline.

Same seed and config give the same metrics on the same machine, so on the machine kind the baseline was made
on, any drift beyond the tolerances means a change in the code's results. Update the baseline (`bench check
--update`) only when such a change is intended (a fixed bug, a new renderer or metric version) and say why in
the commit.
"""

import json
from pathlib import Path

from bench.atomic import atomic_write_text
from bench.runner import run_suite
from bench.suites import get_profile

SUITE, PROFILE = "inductive-bias", "smoke"
CHECKED = ("mig", "sap", "dci_disentanglement", "dci_completeness", "dci_informativeness_test", "reconstruction",
           "active_units")
TOLERANCE = {"absolute": 0.02, "relative": 0.02}  # scores in [0, 1] absolute; reconstruction relative


def record_key(record: dict) -> str:
    c = record["cell"]
    return f"{c['model']}/{c['dataset']}/{c['variant']}/value={c['value']}/seed={c['seed_index']}"


def current_values(records: list[dict]) -> dict:
    return {record_key(r): {m: r["metrics"][m] for m in CHECKED if m in r["metrics"]} for r in records}


def compare(baseline: dict, current: dict, tolerance=TOLERANCE) -> list[tuple]:
    """Rows (run, metric, baseline, current) that moved outside the tolerance, or are missing on one side."""
    moved = []
    for key in sorted(set(baseline) | set(current)):
        old, new = baseline.get(key, {}), current.get(key, {})
        for metric in sorted(set(old) | set(new)):
            a, b = old.get(metric), new.get(metric)
            if a is None or b is None:
                moved.append((key, metric, a, b))
                continue
            limit = tolerance["relative"] * abs(a) if metric == "reconstruction" else tolerance["absolute"]
            if abs(a - b) > limit:
                moved.append((key, metric, a, b))
    return moved


def check(baseline_path: Path, results: Path, data_root=None, jobs: int = 2, update: bool = False, say=print) -> bool:
    records = run_suite(SUITE, get_profile(SUITE, PROFILE), results, data_root, jobs=jobs, say=say)
    current = current_values(records)
    if update:
        atomic_write_text(Path(baseline_path), json.dumps({"tolerance": TOLERANCE, "values": current}, indent=2))
        say(f"baseline rewritten: {baseline_path} ({len(current)} runs)")
        return True
    stored = json.loads(Path(baseline_path).read_text())
    moved = compare(stored["values"], current, stored.get("tolerance", TOLERANCE))
    if not moved:
        say(f"check passed: {len(current)} runs x {len(CHECKED)} metrics within tolerance {stored.get('tolerance')}")
        return True
    say(f"check FAILED: {len(moved)} values moved outside tolerance {stored.get('tolerance')}:")
    say(f"{'run':<48} {'metric':<26} {'baseline':>10} {'now':>10}")
    for key, metric, a, b in moved:
        say(f"{key:<48} {metric:<26} {a if a is None else f'{a:.4f}':>10} {b if b is None else f'{b:.4f}':>10}")
    return False
