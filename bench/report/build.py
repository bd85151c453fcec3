"""`bench report`: from run records to a folder a person reads, starting at index.md."""

import json
from pathlib import Path

import pandas as pd

from bench.errors import lookup, writable_folder
from bench.metrics import tabled
from bench.models import MODELS
from bench.report import paired, plots, tables, verdicts
from bench.report.sections import acceptance_section, failed_section, header, traversals
from bench.report.trade_off import build_trade_off
from bench.report.records import read_jsonl, to_frame, write_jsonl
from bench.runs import MissingCheckpoint, failed_runs, load_model, suite_records
from bench.ledger import ACCEPTANCE
from bench.suites import SUITES, Profile, choose_values
from bench.train import CheckpointDamaged

PCL_NOTE = "PCL has no decoder: it has no reconstruction and no traversal."


def line_search_table(choices: dict) -> pd.DataFrame:
    rows = []
    for (model, dataset), c in sorted(choices.items()):
        for value, t in sorted(c["tried"].items(), key=lambda kv: (kv[0] is None, kv[0])):
            rows.append({"dataset": dataset, "model": model, "value": value, "mean MIG": t["mean_mig"],
                         "runs": t["runs"], "over-pruned": t["over_pruned"],
                         "chosen": "yes" if value == c["value"] else ""})
    return pd.DataFrame(rows).set_index(["dataset", "model"])


def median_models(records: list[dict], results: Path, data_root=None, say=print) -> dict:
    """The median-MIG run of each dataset x model x variant that has a decoder, loaded for traversals. A run
    whose checkpoint is missing or damaged is named and left out: the report never trains."""
    groups: dict[tuple, list] = {}
    for r in records:
        if MODELS[r["cell"]["model"]].has_decoder:
            groups.setdefault((r["cell"]["dataset"], r["cell"]["model"], r["cell"]["variant"]), []).append(r)
    models = {}
    for (d, m, v), rs in sorted(groups.items()):
        try:
            models[f"{d}-{m}-{v}"] = load_model(sorted(rs, key=lambda r: r["metrics"]["mig"])[len(rs) // 2],
                                                results, data_root)
        except (MissingCheckpoint, CheckpointDamaged) as e:
            say(f"no traversal for {d}-{m}-{v}: {e}")
    return models


def report_suite(suite: str, profile: Profile, *, results: Path = Path("results"), records_file: Path | None = None,
                 out: Path | None = None, traversals: bool = True, data_root=None, say=print) -> Path:
    """`bench report`: the report of a profile's finished runs in `results`, or of a records file a report wrote
    or a ledger (no checkpoints, so no traversals; the builds' acceptance
    results where an `acceptance.json` lies beside it), in `out` (default: reports/SUITE/PROFILE). Returns its
    index.md."""
    if records_file:
        # A ledger also holds the runs whose training diverged, so that no checkout loses them.
        held = read_jsonl(records_file)
        records, failed = [r for r in held if "failed" not in r], [r for r in held if "failed" in r]
        acceptance = Path(records_file).with_name(ACCEPTANCE)
    else:
        records, failed = suite_records(suite, profile, results), failed_runs(suite, profile, results)
        acceptance = None
    out = writable_folder(out or f"reports/{suite}/{profile.name}", "--out")
    models = median_models(records, results, data_root, say) if traversals and not records_file else None
    accepted = json.loads(acceptance.read_text()) if acceptance and acceptance.exists() else None
    return lookup(REPORTS, lookup(SUITES, suite, "suite").report, "report")(records, out, models, failed, accepted)


def build_report(records: list[dict], out: Path, models_for_traversal=None, failed=(), acceptance=None) -> Path:
    """Write records.jsonl, tables (md/tex/csv), plots (png/pdf), verdicts and index.md under `out`; `failed`
    (`bench.runs.failed_runs`) are named in a section of their own, and so are the learned builds' acceptance
    results (`acceptance`, as `bench.ledger.write_acceptance` stores them)."""
    out = Path(out)
    (out / "tables").mkdir(parents=True, exist_ok=True)
    (out / "plots").mkdir(parents=True, exist_ok=True)
    frame = to_frame(records)
    family = verdicts.declared_family(records)
    # In run-id order, as a ledger keeps it: a report written over its ledger changes no line.
    write_jsonl(sorted([*records, *failed], key=lambda r: r["run_id"]), out / "records.jsonl")
    # A confirmatory profile fixed each model's value in advance: there is no line search to choose from.
    choices = None if family else choose_values([r for r in records if r["cell"]["variant"] == "original"])
    chosen = tables.chosen_runs(frame, choices and {k: c["value"] for k, c in choices.items()})
    at = "at each model's pre-registered value" if family else "at each model's chosen value"
    stats = tables.summary(chosen)
    sections = [header(records, frame, family is not None, failed=failed)]
    if failed:
        sections.append(failed_section(failed))
    if acceptance:
        sections.append(acceptance_section(acceptance))
    sections.append(verdicts.section(chosen, family, out / "tables"))
    if family:
        sections.append(_by_build(chosen, family.metric, out))
    beside = tables.beside_paper(stats)
    sections.append(tables.write_table(beside.set_index(["dataset", "model", "variant"]),
                                       out / "tables" / "mig_vs_paper",
                                       "MIG: ours beside the paper's Table 1 (for the dataset ours stands for)"))
    for metric in sorted(set(stats.metric), key=tabled().index):
        sections.append(tables.write_table(tables.numeric(stats, metric), out / "tables" / metric,
                                           f"{metric}: mean ± std (n), {at}", tables.formatted(stats, metric)))
    per_factor = tables.mig_per_factor(chosen)
    if not per_factor.empty:
        sections.append(tables.write_table(per_factor, out / "tables" / "mig_per_factor",
                                           f"MIG per factor: mean {at}"))
    if choices:
        sections.append(tables.write_table(line_search_table(choices), out / "tables" / "line_search",
                                           "Line search on the original data (chosen: best mean MIG, not over-pruned)"))
    sections.append(_plots(frame, beside, out, models_for_traversal))
    (out / "index.md").write_text("\n".join(sections))
    return out / "index.md"


def _by_build(runs, metric: str, out: Path) -> str:
    table = paired.by_build(runs, metric)
    if table.empty:
        return ""
    return tables.write_table(table.set_index(["dataset", "model", "contrast", "build"]),
                              out / "tables" / "by_build",
                              f"Paired {metric} difference per build of the learned arm: mean (n pairs)",
                              paired.shown_by_build(table))


def _plots(frame, beside, out, models_for_traversal) -> str:
    lines = ["## Plots\n"]
    png = plots.reconstruction_vs_mig(frame, out / "plots" / "reconstruction_vs_mig")
    if png:
        lines.append(f"Reconstruction versus MIG, one point per run, marked by its regularisation strength. "
                     f"{PCL_NOTE}\n\n![reconstruction vs MIG](plots/{png})\n")
    png = plots.ours_vs_paper(beside, out / "plots" / "mig_vs_paper")
    lines.append(f"Our MIG versus the paper's, per dataset x model x variant.\n\n![MIG vs paper](plots/{png})\n")
    if frame["active_units"].notna().any():
        png = plots.active_units(frame, out / "plots" / "active_units")
        lines.append(f"Active units per run; a run below the number of factors is over-pruned.\n\n"
                     f"![active units](plots/{png})\n")
    lines += traversals(models_for_traversal, out)
    if models_for_traversal is not None:
        lines.append(f"{PCL_NOTE}\n")
    return "\n".join(lines)


# How each suite's report reads its runs (`Suite.report`).
REPORTS = {"variants": build_report, "trade-off": build_trade_off}
