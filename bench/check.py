"""CI regression of metric values: run the smoke profile and compare every metric to a committed baseline.

Same seed and config give the same metrics on the same machine, so on the machine kind the baseline was made
on, any drift beyond the tolerances means a change in the code's results. Update the baseline (`bench check
--update`) only when such a change is intended (a fixed bug, a new renderer or metric version) and say why in
the commit.
"""

import json
import tempfile
from pathlib import Path

from bench.atomic import atomic_write_text
from bench.context import Context
from bench.errors import UserError, writable_file, writable_folder
from bench.metrics import checked, relative
from bench.runner import run_suite
from bench.runs import run_name
from bench.suites import get_profile

SUITE, PROFILE = "inductive-bias", "smoke"
BASELINE = Path("tests/baselines/smoke.json")
TOLERANCE = {"absolute": 0.02, "relative": 0.02}  # scores absolute; losses (`Metric.relative`) relative


def record_key(record: dict) -> str:
    return run_name(record["cell"])


def current_values(records: list[dict]) -> dict:
    return {record_key(r): {m: r["metrics"][m] for m in checked() if m in r["metrics"]} for r in records}


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
            limit = tolerance["relative"] * abs(a) if metric in relative() else tolerance["absolute"]
            if abs(a - b) > limit:
                moved.append((key, metric, a, b))
    return moved


def read_baseline(path: Path) -> dict:
    """The committed baseline, {"tolerance": ..., "values": {run: {metric: value}}}, or a one-line error."""
    fix = "restore it (git checkout -- FILE) or write one with `bench check --update`"
    try:
        stored = json.loads(Path(path).read_text())
    except FileNotFoundError:
        raise UserError(f"no baseline at {path}; pass --baseline FILE, or write one with --update") from None
    except (json.JSONDecodeError, UnicodeDecodeError) as e:
        raise UserError(f"the baseline {path} is not JSON ({e}); {fix}") from None
    if not isinstance(stored, dict) or not isinstance(stored.get("values"), dict):
        raise UserError(f"the baseline {path} has no \"values\" object; {fix}")
    return stored


def check(baseline_path: Path = BASELINE, results: Path | None = None, data_root=None, jobs: int = 2,
          update: bool = False, say=print) -> bool:
    """Run the smoke profile (its runs kept in `results`, else in a temporary folder) and compare its metrics to the
    baseline, or rewrite the baseline with `update`; True when they agree."""
    with tempfile.TemporaryDirectory() as scratch:
        results = writable_folder(results, "--results") if results else Path(scratch)
        return _against_baseline(Path(baseline_path), Context(results, data_root, jobs=jobs), update, say)


def _against_baseline(baseline_path: Path, context: Context, update: bool, say) -> bool:
    # The baseline is checked before the smoke runs, which take a while, not after them.
    if update:
        writable_file(baseline_path, "--baseline")
    else:
        stored = read_baseline(baseline_path)
    current = current_values(run_suite(SUITE, get_profile(SUITE, PROFILE), context, say=say))
    if update:
        atomic_write_text(baseline_path, json.dumps({"tolerance": TOLERANCE, "values": current}, indent=2))
        say(f"baseline rewritten: {baseline_path} ({len(current)} runs)")
        return True
    moved = compare(stored["values"], current, stored.get("tolerance", TOLERANCE))
    if not moved:
        say(f"check passed: {len(current)} runs x {len(checked())} metrics within tolerance {stored.get('tolerance')}")
        return True
    say(f"check FAILED: {len(moved)} values moved outside tolerance {stored.get('tolerance')}:")
    say(f"{'run':<48} {'metric':<26} {'baseline':>10} {'now':>10}")
    for key, metric, a, b in moved:
        say(f"{key:<48} {metric:<26} {a if a is None else f'{a:.4f}':>10} {b if b is None else f'{b:.4f}':>10}")
    return False
