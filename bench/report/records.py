"""Run records -> one pandas DataFrame, a row per run. Records computed with different metric settings are
never mixed: their numbers are not comparable (a different bin count or scikit-learn changes them)."""

import json
from pathlib import Path

import pandas as pd

from bench.atomic import atomic_write_text
from bench.errors import UserError
from bench.metrics import numeric


def read_jsonl(path: Path) -> list[dict]:
    try:
        return [json.loads(line) for line in Path(path).read_text().splitlines() if line.strip()]
    except FileNotFoundError:
        raise UserError(f"no records file {path}; write one with `bench report` first") from None
    except json.JSONDecodeError as e:
        raise UserError(f"{path} is not JSON lines ({e}); pass the records.jsonl a report wrote") from None


def write_jsonl(records: list[dict], path: Path):
    atomic_write_text(path, "".join(json.dumps(r, sort_keys=True) + "\n" for r in records))


def to_frame(records: list[dict]) -> pd.DataFrame:
    if not records:
        raise UserError("no finished runs to report; run `bench run` first, or pass --records FILE")
    settings = {json.dumps(r["metric_settings"], sort_keys=True) for r in records}
    if len(settings) > 1:
        raise UserError(f"the records mix {len(settings)} different metric settings, which are not comparable; "
                        "re-evaluate them with one setting (bench run does) or report them separately")
    rows = []
    for r in records:
        # Records from before learned arms had builds carry no "build": their images came from the default one.
        row = {"build": None, **r["cell"], "run_id": r["run_id"], "suite": r["suite"], "profile": r["profile"],
               "steps": r["config"]["steps"], "over_pruned": bool(r["metrics"].get("over_pruned", False))}
        row.update({k: r["metrics"].get(k) for k in numeric()})
        row["mig_per_factor"] = r["metrics"].get("mig_per_factor")
        rows.append(row)
    return pd.DataFrame(rows)
