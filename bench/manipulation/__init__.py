"""The study's structure-preserving "modified" datasets: a learned perturbation of the images, its build, and
the diagnostics that say whether it moved the data's variance structure off the factor axes."""

from bench.manipulation.build import ARMS, arm_config, build_report, identity, load_arm, load_modified
from bench.manipulation.game import ManipulationConfig

__all__ = ["ARMS", "ManipulationConfig", "arm_config", "build_report", "identity", "load_arm", "load_modified"]
