"""The study's structure-preserving "modified" datasets: a learned perturbation of the images, its build, and
the diagnostics that say whether it moved the data's variance structure off the factor axes."""

from bench.manipulation.build import (ARMS, BUILD, arm_config, guarantee_report, identity, load_arm, load_modified,
                                      variant_name)
from bench.manipulation.game import ManipulationConfig

__all__ = ["ARMS", "BUILD", "ManipulationConfig", "arm_config", "guarantee_report", "identity", "load_arm",
           "load_modified", "variant_name"]
