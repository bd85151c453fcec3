"""The report of a sweep study (the `factor-vae` suite, Kim & Mnih 2018): every swept value's disentanglement
against its reconstruction, the discriminator's TC estimate beside the aggregate posterior's over training, and
verdicts on the study's claims with their statistics.

No hypothesis of this study was declared before its runs, so its verdicts are exploratory: they test the seed's
claims on the runs there are, Holm-corrected over the four claims, and a claim without the runs it needs stays
in the family (its p missing), so dropping one never loosens the others.
"""

from pathlib import Path

import numpy as np
import pandas as pd
from scipy import stats

from bench.errors import UserError
from bench.report import significance, trade_off_plots
from bench.report.records import to_frame, write_jsonl
from bench.report.sections import acceptance_section, failed_section, header, traversals
from bench.report.tables import write_table
from bench.train import PROBE_POINTS

ALPHA = 0.05
MIN_RUNS = 3
SCORE, MIG, RECONSTRUCTION = "factor_vae_eval", "mig", "reconstruction"
# What the seed reports (Kim & Mnih 2018, Sect. 6 and Figs. 5, 7, 8), for the verdict table.
SEED = {
    "trade-off": "best mean FactorVAE score 0.82 (gamma 40) against 0.73 (beta 4), both at reconstruction ~45",
    "underestimates": "the discriminator's estimate lies below the true TC throughout training",
    "gamma-lowers-tc": "a higher gamma gives a lower true TC",
    "infowgan-poor": "InfoWGAN-GP's FactorVAE score is low (its traversals capture scale only)",
}


def build_trade_off(records: list[dict], out: Path, models_for_traversal=None, failed=(), acceptance=None) -> Path:
    """Write records.jsonl, the settings table, the trade-off and TC figures, the verdicts, the traversals of
    `models_for_traversal` ({title: (model, data)}) and index.md; `failed` runs and the builds' `acceptance`
    results, where there are any, in sections of their own."""
    frame = to_frame(records)  # refuses records it cannot read before anything is written
    if frame.dataset.nunique() > 1:
        raise UserError(f"the trade-off report reads one dataset, and these runs have {frame.dataset.nunique()}; "
                        "report each with --set datasets=NAME")
    out = Path(out)
    for folder in ("tables", "plots"):
        (out / folder).mkdir(parents=True, exist_ok=True)
    write_jsonl(sorted([*records, *failed], key=lambda r: r["run_id"]), out / "records.jsonl")
    sections = [header(records, frame, confirmatory=False, paper=False)]
    if failed:
        sections.append(failed_section(failed))
    if acceptance:
        sections.append(acceptance_section(acceptance))
    sections.append(verdict_section(frame, records, out / "tables"))
    sections.append(write_table(settings_table(frame), out / "tables" / "settings",
                                "Each swept value: mean ± std over seeds (n runs)", shown_settings(frame)))
    sections.append("## Plots\n")
    scores = [m for m in (SCORE, MIG) if frame[m].notna().any()]
    if scores and frame[RECONSTRUCTION].notna().any():
        png = trade_off_plots.trade_off(frame, scores, out / "plots" / "trade_off")
        sections.append(f"Disentanglement against reconstruction, one faint point per run, the mean ± std of each "
                        f"swept value in bold (the seed's Fig. 4 and 5).\n\n![trade-off](plots/{png})\n")
    curves = tc_curves(records)
    if not curves.empty:
        png = trade_off_plots.tc_over_training(curves, out / "plots" / "tc_over_training")
        sections.append(f"A direct estimate of the true TC of the aggregate posterior (solid; of {PROBE_POINTS:,} "
                        f"fixed training images, by Monte Carlo over the mixture of their posteriors) and the "
                        f"discriminator's estimate on the same codes (dashed), mean over seeds, per gamma (the seed's "
                        f"Fig. 7).\n\n"
                        f"![TC over training](plots/{png})\n")
    sections += traversals(models_for_traversal, out)
    (out / "index.md").write_text("\n".join(sections))
    return out / "index.md"


def settings_table(frame: pd.DataFrame) -> pd.DataFrame:
    """Per dataset x model x value: n, and the mean and std of each number the study reads."""
    numbers = [m for m in (SCORE, MIG, RECONSTRUCTION) if frame[m].notna().any()]
    grouped = frame.groupby(["dataset", "model", "value"], dropna=False)[numbers]
    table = grouped.agg(["mean", "std"])
    table.columns = [f"{metric} {stat}" for metric, stat in table.columns]
    return table.assign(n=grouped.size())


def shown_settings(frame: pd.DataFrame) -> pd.DataFrame:
    table = settings_table(frame)
    numbers = [c.removesuffix(" mean") for c in table.columns if c.endswith(" mean")]
    return pd.DataFrame({"n": table["n"], **{m: [_spread(a, b) for a, b in zip(table[f"{m} mean"], table[f"{m} std"])]
                                             for m in numbers}})


def tc_curves(records: list[dict]) -> pd.DataFrame:
    """Long table of the probes over training: model, value, seed, step, tc_aggregate, tc_discriminator."""
    rows = [{"model": r["cell"]["model"], "value": r["cell"]["value"], "seed": r["cell"]["seed_index"], "step": s,
             "tc_aggregate": a, "tc_discriminator": d}
            for r in records if "probes" in r
            for s, a, d in zip(r["probes"]["step"], r["probes"]["tc_aggregate"], r["probes"]["tc_discriminator"])]
    return pd.DataFrame(rows)


def verdicts(frame: pd.DataFrame, records: list[dict]) -> pd.DataFrame:
    """The seed's four claims, each with its test, n, raw and Holm p, and a verdict in words."""
    rows = [_best_against(frame, "trade-off", "factor_vae", "beta_vae"),
            _underestimates(records),
            _gamma_lowers_tc(records),
            _best_against(frame, "infowgan-poor", "factor_vae", "info_wgan_gp")]
    table = pd.DataFrame(rows)
    table["p holm"] = significance.holm(table["p"])
    table["verdict"] = [_answer(p, n) for p, n in zip(table["p holm"], table["n"])]
    return table.set_index("claim")


def verdict_section(frame: pd.DataFrame, records: list[dict], tables: Path) -> str:
    table = verdicts(frame, records)
    shown = pd.DataFrame({"the seed says": [SEED[c] for c in table.index], "ours": table["ours"],
                          "test": table["test"], "n": table["n"], "p": table["p"].map(_p),
                          "Holm p": table["p holm"].map(_p), "verdict": table["verdict"]}, index=table.index)
    return ("## Exploratory verdicts\n\nNot pre-registered: the seed's claims, each tested one-sided on the runs "
            f"there are, Holm-corrected over the {len(table)} claims (a claim without the runs it needs keeps its "
            f"place in the family); a verdict reads the Holm p at α = {ALPHA:g}. The best settings are chosen on "
            "the same runs that test them, as the seed chose them, which favours a difference, and only among "
            f"values with {MIN_RUNS} runs or more. The trade-off claim is tested on the best scores alone: the "
            "reconstruction at each is shown beside them, not matched.\n\n"
            + write_table(table, tables / "verdicts", "Verdicts (exploratory)", shown))


def _best_against(frame: pd.DataFrame, claim: str, better: str, worse: str) -> dict:
    """`better`'s best mean FactorVAE score against `worse`'s best, unpaired (one-sided Welch)."""
    best = {m: _best_runs(frame, m) for m in (better, worse)}
    n = min(len(best[better]), len(best[worse]))
    ours = "; ".join(f"{m} {_value(runs)}: {_spread(runs[SCORE].mean(), runs[SCORE].std())} (recon "
                     f"{runs[RECONSTRUCTION].mean():.1f})" for m, runs in best.items() if len(runs))
    p = (significance.welch(best[better][SCORE].to_numpy(), best[worse][SCORE].to_numpy(), "greater", 0.0)
         if n >= MIN_RUNS else np.nan)
    sizes = f"{len(best[better])} and {len(best[worse])} runs"
    return {"claim": claim, "ours": ours or "-", "test": f"Welch, {better} > {worse} ({sizes})", "n": n, "p": p}


def _best_runs(frame: pd.DataFrame, model: str) -> pd.DataFrame:
    """The runs of `model`'s value with the best mean FactorVAE score, among values with MIN_RUNS runs or more (a
    value with one lucky run must not win); none when no value has that many."""
    runs = frame[(frame.model == model) & frame[SCORE].notna()]
    counts = runs.groupby("value", dropna=False)[SCORE].agg(["mean", "size"])
    eligible = counts[counts["size"] >= MIN_RUNS]
    if eligible.empty:
        return runs.iloc[:0]
    best = eligible["mean"].idxmax()
    return runs[runs.value.isna()] if pd.isna(best) else runs[runs.value == best]


def _final_tc(records: list[dict]) -> pd.DataFrame:
    curves = tc_curves(records)
    if curves.empty:
        return curves
    return curves[curves.model == "factor_vae"].sort_values("step").groupby(["value", "seed"]).last().reset_index()


def _underestimates(records: list[dict]) -> dict:
    final = _final_tc(records)
    n = len(final)
    gap = (final.tc_aggregate - final.tc_discriminator).to_numpy() if n else np.array([])
    p = float(stats.ttest_1samp(gap, 0.0, alternative="greater").pvalue) if n >= MIN_RUNS else np.nan
    ours = f"true - discriminator at the last step: {_spread(gap.mean(), gap.std(ddof=1))}" if n >= 2 else "-"
    return {"claim": "underestimates", "ours": ours, "test": "paired t, true TC > discriminator's", "n": n, "p": p}


def _gamma_lowers_tc(records: list[dict]) -> dict:
    final = _final_tc(records)
    n = len(final)
    enough = n >= MIN_RUNS and final.value.nunique() > 1
    result = stats.spearmanr(final.value, final.tc_aggregate, alternative="less") if enough else None
    ours = f"Spearman rho {result.statistic:.2f} over {final.value.nunique()} gammas" if result else "-"
    return {"claim": "gamma-lowers-tc", "ours": ours, "test": "Spearman, TC falls with gamma", "n": n,
            "p": float(result.pvalue) if result else np.nan}


def _answer(p_holm: float, n: int) -> str:
    if n < MIN_RUNS:
        return f"not enough runs (n={n})"
    if pd.isna(p_holm):
        return "not testable (one swept value, or no spread)"
    return "significant" if p_holm < ALPHA else "not significant"


def _value(runs: pd.DataFrame) -> str:
    value = runs.value.iloc[0]
    return "" if pd.isna(value) else f"at {value:g}"


def _spread(mean: float, std: float) -> str:
    return "-" if pd.isna(mean) else f"{mean:.3f} ± {0.0 if pd.isna(std) else std:.3f}"


def _p(x: float) -> str:
    return "-" if pd.isna(x) else format(x, ".3g")
