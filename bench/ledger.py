"""A committed records file that a long profile grows as its runs finish.

Run directories (checkpoints, metrics) stay on the machine that trained them. A ledger is one JSON-lines file
meant for git: `bench run --ledger FILE` adds each finished run's record to it at once, and on start restores
every record it holds into the results root (config, metrics and the DONE marker, no checkpoint). So a run
whose record was committed counts as done on any checkout and is never trained again; a fresh machine loses
only the runs that were in flight. A restored run has no checkpoint: its traversals cannot be drawn there.
"""

import json
from pathlib import Path

from bench.atomic import atomic_write_json_lines, atomic_write_text
from bench.errors import UserError


def read(path: Path) -> dict[str, dict]:
    """run id -> record; empty when the file does not exist yet."""
    path = Path(path)
    if not path.exists():
        return {}
    try:
        records = [json.loads(line) for line in path.read_text().splitlines() if line.strip()]
    except json.JSONDecodeError as e:
        raise UserError(f"ledger {path} is not JSON lines ({e}); restore it from git (git checkout -- {path})") from None
    if not all(isinstance(r, dict) and "run_id" in r for r in records):
        raise UserError(f"ledger {path} holds a line that is not a run record; restore it from git")
    return {r["run_id"]: r for r in records}


def add(path: Path, record: dict):
    """Add or replace one run's record; the file stays sorted by run id, so its git diffs are one line a run."""
    records = read(path) | {record["run_id"]: record}
    Path(path).parent.mkdir(parents=True, exist_ok=True)
    atomic_write_json_lines(path, (records[k] for k in sorted(records)), sort_keys=True)


ACCEPTANCE = "acceptance.json"


def write_acceptance(path: Path, acceptance: dict):
    """The builds' acceptance results ({dataset: {variant: gaps, verdict}}), committed as `acceptance.json` beside
    the ledger: they live in the data cache's build reports, which no checkout has. Merged into what the file
    holds, so that a build that failed and was replaced keeps its result there, though no run needs it now."""
    file = Path(path).with_name(ACCEPTANCE)
    held = json.loads(file.read_text()) if file.exists() else {}
    merged = {d: {**held.get(d, {}), **acceptance.get(d, {})} for d in {*held, *acceptance}}
    atomic_write_text(file, json.dumps(merged, indent=2, sort_keys=True))
