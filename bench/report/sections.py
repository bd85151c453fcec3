"""The sections every report shares: its header (what, how, on what, at what cost), its failed runs and the
acceptance results of the learned builds its runs trained on."""

from pathlib import Path

from bench.manipulation.acceptance import VERDICTS
from bench.report import plots, provenance, tables
from bench.runs import run_name
from bench.suites import SUITES, fixed_choices, variant_cells


def header(records, frame, confirmatory: bool, paper: bool = True, failed=()) -> str:
    """What every report opens with: the suite and profile, confirmatory or not (and, for a confirmatory one not
    yet complete, that it is partial, as the plan requires), the runs, their settings, versions, devices and compute; `paper` adds where
    the paper's numbers come from."""
    r = records[0]
    # Sorted, because records read back from a records file come with sorted keys.
    settings = ", ".join(f"{k}={v}" for k, v in sorted(r["metric_settings"].items()))
    return (f"# {r['suite']} / {r['profile']}\n\n{provenance.mode_line(records, confirmatory)}\n"
            f"{interim_line(records, failed) if confirmatory else ''}"
            f"{len(frame)} runs of {', '.join(map(str, sorted(set(frame.steps))))} steps: "
            f"{', '.join(sorted(set(frame.model)))} on {', '.join(sorted(set(frame.dataset)))} "
            f"({', '.join(v for v in tables.VARIANT_ORDER if v in set(frame.variant))}).\n\n"
            f"Metric settings: {settings}.\n\n{provenance.versions_line(records)}\n\n"
            f"{provenance.machines_line(records)}\n\n{compute(records)}\n\n"
            + ("Paper numbers are a third-party transcription of Table 1 (see `docs/paper.md`).\n" if paper else ""))


def interim_line(records, failed=()) -> str:
    """For a confirmatory report, unless every planned run has finished or failed: how far it is. The plan
    (docs/preregistration.md) labels a report shown before then partial."""
    r = records[0]
    profile = SUITES[r["suite"]].profiles[r["profile"]]  # a declared family belongs to a registered profile
    planned = len(variant_cells(profile, fixed_choices(profile)))
    settled = len(records) + len(failed)
    if settled >= planned:
        return ""
    return (f"**Partial**: {settled} of the {planned} planned runs have finished. The verdicts below are not "
            "the confirmatory result, which is read only once every planned run has.\n\n")


def compute(records) -> str:
    """The runs' own measured time, summed: wall time is this over the number of workers, where they overlap."""
    hours = lambda stage: sum(r.get(stage, {}).get("seconds") or 0.0 for r in records) / 3600  # noqa: E731
    timed = sum("evaluation" in r for r in records)
    return (f"Compute, summed over runs: {hours('training'):.1f} h of training and {hours('evaluation'):.1f} h "
            f"of evaluation ({timed} of {len(records)} runs timed their evaluation).")


def failed_section(failed: list[dict]) -> str:
    rows = "".join(f"| {run_name(f['cell'])} | {f['failed'].get('step')} | {f['failed'].get('term')} | "
                   f"{f['run_id']} |\n" for f in failed)
    return (f"## Failed runs\n\n{len(failed)} runs diverged (a loss became non-finite) and are in no table or "
            "verdict; `bench run --retry-failed` trains them again.\n\n| run | step | term | run id |\n"
            "|---|---|---|---|\n" + rows)


def acceptance_section(acceptance: dict) -> str:
    """The learned builds' pre-registered acceptance test: fresh references' gap (nats per image; negative means
    the entangled basis now fits better) on the original data and on each build, and the pattern's learnability."""
    fmt = lambda values: ", ".join(f"{v:+.2f}" for v in values)  # noqa: E731
    verdict = {passed: f"**{words}**" if passed is False else words for passed, words in VERDICTS.items()}
    rows = "".join(f"| {dataset} | {variant} | {verdict[r['passed']]} | {fmt(r['original_gap'])} | "
                   f"{fmt(r['gap'])} | {', '.join(f'{v:.2f}' for v in r['learnability'])} |\n"
                   for dataset, builds in sorted(acceptance.items()) for variant, r in sorted(builds.items()))
    return ("## Acceptance of the learned builds\n\nEach build of a learned arm must pass the acceptance test fixed "
            "before the runs: fresh reference models, one per reference seed, prefer the factor basis on the original "
            "data (positive gap) and the entangled one on the build (negative gap), and the pattern is learnable. A "
            "failed build is replaced as the plan prescribes, and no run trains on it. The sham is measured against "
            "the same target, which it must not turn.\n\n"
            "| dataset | build | result | gap on original | gap on build | learnability |\n|---|---|---|---|---|---|\n"
            + rows)


def traversals(models: dict | None, out: Path) -> list[str]:
    """A picture and a line for each {title: (model, data)}: the median-MIG run of each group, traversed."""
    lines = []
    for title, (model, data) in (models or {}).items():
        png = plots.traversal(model, data, out / "plots" / f"traversal-{title}", title)
        lines.append(f"Traversal, {title} (median-MIG run): row zj sweeps latent j over the column values.\n\n"
                     f"![traversal {title}](plots/{png})\n")
    return lines
