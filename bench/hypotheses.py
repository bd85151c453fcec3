"""Pre-registered hypothesis families: which paired contrasts a confirmatory profile tests, and how.

A family is data, fixed before its runs start (docs/preregistration.md states it in words). The report tests
exactly these contrasts, corrects over the whole family, and never picks tests after seeing the numbers.

Each contrast pairs runs by seed index: seed k of every arm starts from the same initialisation and draws the
same batches (a paired profile's seed leaves the arm out), so the test reads the per-seed differences.
"""

from dataclasses import dataclass


@dataclass(frozen=True)
class Contrast:
    """One hypothesis about `metric` of `model`, comparing arm `first` with arm `second` on paired seeds.

    kind "greater": first > second, a one-sided paired test of the mean difference.
    kind "equivalent": |first - second| < margin, two one-sided tests (TOST) of the mean difference.
    """

    model: str
    first: str
    second: str
    kind: str  # "greater" or "equivalent"
    claim: str  # how the report names it


@dataclass(frozen=True)
class Family:
    """Contrasts tested together; Holm's step-down correction runs over all of them at `alpha`."""

    contrasts: tuple[Contrast, ...]
    metric: str = "mig"
    alpha: float = 0.05
    margin: float = 0.05  # the equivalence margin of TOST, in units of the metric
    primary_test: str = "paired t"  # decides; the exact sign-flip permutation test is reported beside it


def vae_contrasts(model: str) -> tuple[Contrast, ...]:
    """What the study claims of a VAE: the manipulation lowers its MIG, noise of the same size and a sham
    pattern of the same size and smoothness lower it less."""
    return (Contrast(model, "original", "modified", "greater", "MIG drops on modified data"),
            Contrast(model, "noise", "modified", "greater", "noise hurts less than the modification"),
            Contrast(model, "sham", "modified", "greater", "the sham hurts less than the modification"))


PCL_EQUIVALENT = Contrast("pcl", "original", "modified", "equivalent", "PCL's MIG is unchanged on modified data")

CONFIRM_DSPRITES = Family(contrasts=(
    *vae_contrasts("beta_vae"), *vae_contrasts("beta_tcvae"), *vae_contrasts("factor_vae"),
    *vae_contrasts("slow_vae"), PCL_EQUIVALENT))
