"""bench: a reproducibility benchmark for unsupervised disentanglement."""

__version__ = "0.1.0"
