"""Where a report's numbers come from, said at the top of index.md: confirmatory (when the pre-registration was
committed, and whether every run finished after it) or exploratory, every set of library versions the
records were computed with (scikit-learn's version changes MIG: disentanglement_lib issue 33), and every
machine they trained on (the same seed can train to other numbers on another machine: README, Determinism)."""

import json
import subprocess
from collections import Counter
from datetime import datetime, timezone
from pathlib import Path

PREREGISTRATION = "docs/preregistration.md"
REPOSITORY = Path(__file__).resolve().parents[2]


def preregistration_commit(repository: Path = REPOSITORY) -> tuple[str, datetime] | None:
    """The commit that first added the pre-registration, and its commit time; None without git or the file."""
    try:
        log = subprocess.run(["git", "-C", str(repository), "log", "--diff-filter=A", "--reverse",
                              "--format=%H %cI", "--", PREREGISTRATION], capture_output=True, text=True, check=True)
    except (OSError, subprocess.CalledProcessError):
        return None
    first = log.stdout.split("\n", 1)[0].split()
    return (first[0], datetime.fromisoformat(first[1])) if first else None


def unconfirmed(records: list[dict], since: datetime | None) -> int:
    """How many records lack a `finished_at` after `since` (every record, when `since` is unknown)."""
    return sum(since is None or not _finished_after(r, since) for r in records)


def _finished_after(record: dict, since: datetime) -> bool:
    try:
        at = datetime.fromisoformat(record["finished_at"])
    except (KeyError, TypeError, ValueError):
        return False
    return (at if at.tzinfo else at.replace(tzinfo=timezone.utc)) > since  # the runner writes UTC


def mode_line(records: list[dict], confirmatory: bool, repository: Path = REPOSITORY) -> str:
    """"Confirmatory: pre-registered ... at commit X (date)", loudly warning of runs that do not follow it, or
    "Exploratory: ..."."""
    if not confirmatory:
        return ("**Exploratory**: this profile declares no hypotheses in advance; its verdicts test the paper's "
                "claims the runs allow and are not a confirmation.\n")
    commit = preregistration_commit(repository)
    where = (f"pre-registered in {PREREGISTRATION} at commit {commit[0][:12]} ({commit[1].isoformat()})"
             if commit else "pre-registration commit unknown")
    late = unconfirmed(records, commit[1] if commit else None)
    warning = (f"\n\n**Warning: {late} of {len(records)} records predate or lack a time after the "
               "pre-registration**; their verdicts are not confirmatory." if late else "")
    return f"**Confirmatory**: {where}.{warning}\n"


def versions_line(records: list[dict]) -> str:
    """The library versions; with more than one set among the records, a loud warning and every set with its
    number of runs."""
    sets = Counter(json.dumps(r.get("versions") or {}, sort_keys=True) for r in records)
    if len(sets) == 1:
        return f"Versions: {_versions(next(iter(sets)))}."
    listed = "\n".join(f"- {n} runs: {_versions(s)}" for s, n in sets.most_common())
    return (f"**Warning: the records were computed with {len(sets)} different sets of library versions**; their "
            f"numbers may not be comparable (re-evaluate them with one set):\n\n{listed}\n")


def machines_line(records: list[dict]) -> str:
    """Where the runs trained: each device and machine with its number of runs and the days they finished; with
    more than one, a loud warning, since the same seed trains to other numbers on another machine."""
    groups: dict[str, list[str]] = {}
    for r in records:
        training = r.get("training") or {}
        where = f"{training.get('device', '?')}, {training.get('machine') or 'machine not recorded'}"
        groups.setdefault(where, []).append(str(r.get("finished_at") or "")[:10])
    listed = [f"{where}: {len(days)} run{'s' * (len(days) != 1)}{_days(days)}"
              for where, days in sorted(groups.items())]
    if len(listed) == 1:
        return f"Trained on: {listed[0]}."
    return (f"**Warning: the runs come from {len(listed)} machines, or from machines not recorded**; the same seed "
            "and code can train to other numbers on another machine (README, Determinism), so runs of one seed "
            "trained on different machines share their initialisation and batches but not their arithmetic:\n\n"
            + "\n".join(f"- {line}" for line in listed) + "\n")


def _days(days: list[str]) -> str:
    """When a group's runs finished, as a day or a span of days (records without a time are left out)."""
    known = sorted(d for d in days if d)
    if not known:
        return ""
    return f", finished {known[0]}" if known[0] == known[-1] else f", finished {known[0]} to {known[-1]}"


def _versions(key: str) -> str:
    versions = json.loads(key)
    return ", ".join(f"{k} {v}" for k, v in sorted(versions.items())) if versions else "not recorded"
