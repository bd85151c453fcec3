"""The guarantees every modified build is checked against, accumulated chunk by chunk as the images are written.

- max |x' - x| <= eps on every image;
- the grid and its order are the base's (image i of the variant is image i of the base, modified);
- images that differ in the original still differ (no two distinct originals collapse into one image);
- the variance change, total and per factor (the variance of the per-class mean images, what each factor alone
  explains).
"""

import numpy as np
from scipy import sparse

from bench.data.ground_truth import DatasetSpec


class VarianceSums:
    """Running sums for the total variance and each factor's between-class variance of images."""

    def __init__(self, spec: DatasetSpec):
        pixels = int(np.prod(spec.observation_shape))
        self.n, self.sum, self.sum_sq = 0, np.zeros(pixels), 0.0
        self.class_sums = [np.zeros((size, pixels)) for size in spec.grid.sizes]
        self.class_counts = [np.zeros(size) for size in spec.grid.sizes]

    def update(self, classes: np.ndarray, images: np.ndarray):
        x = images.reshape(len(images), -1).astype(np.float32) / 255.0
        self.n += len(x)
        self.sum += x.sum(axis=0, dtype=np.float64)
        self.sum_sq += float(np.einsum("ij,ij->", x, x, dtype=np.float64))
        for k, (sums, counts) in enumerate(zip(self.class_sums, self.class_counts)):
            onehot = sparse.csr_matrix((np.ones(len(x), np.float32), (classes[:, k], np.arange(len(x)))),
                                       shape=(len(sums), len(x)))
            sums += onehot @ x
            counts += np.bincount(classes[:, k], minlength=len(counts))

    def total(self) -> float:
        mean = self.sum / self.n
        return self.sum_sq / self.n - float(mean @ mean)

    def per_factor(self) -> list[float]:
        mean = self.sum / self.n
        return [float((counts * ((sums / counts[:, None] - mean) ** 2).sum(axis=1)).sum() / self.n)
                for sums, counts in zip(self.class_sums, self.class_counts)]


class GuaranteeCheck:
    def __init__(self, spec: DatasetSpec):
        self.spec = spec
        self.max_change = 0
        self.rows = 0
        self.hashes = np.zeros((len(spec.grid), 2), dtype=np.int64)
        self.variance = {"original": VarianceSums(spec), "modified": VarianceSums(spec)}

    def update(self, index: np.ndarray, original: np.ndarray, modified: np.ndarray):
        assert modified.shape == original.shape, "a modified chunk must match its original chunk"
        change = np.abs(modified.astype(np.int16) - original.astype(np.int16))
        self.max_change = max(self.max_change, int(change.max(initial=0)))
        self.hashes[index, 0] = [hash(row.tobytes()) for row in original]
        self.hashes[index, 1] = [hash(row.tobytes()) for row in modified]
        self.rows += len(index)
        classes = self.spec.grid.index_to_factors(index)
        self.variance["original"].update(classes, original)
        self.variance["modified"].update(classes, modified)

    def report(self) -> dict:
        distinct_modified = len(np.unique(self.hashes[:, 1]))
        distinct_pairs = len(np.unique(self.hashes, axis=0))
        max_change = self.max_change / 255.0
        violations = []
        if max_change > self.spec.eps:
            violations.append(f"max |x' - x| = {max_change:.4f} > eps = {self.spec.eps}")
        if self.rows != len(self.spec.grid):
            violations.append(f"{self.rows} images written for a grid of {len(self.spec.grid)}")
        if distinct_pairs != distinct_modified:
            violations.append(f"{distinct_pairs - distinct_modified} distinct originals collapsed into one image")
        return {
            "eps": self.spec.eps, "max_abs_change": max_change, "images": self.rows,
            "grid": dict(zip(self.spec.grid.names, self.spec.grid.sizes)),
            "distinct_original": int(len(np.unique(self.hashes[:, 0]))), "distinct_modified": distinct_modified,
            "variance": {name: {"total": v.total(), "per_factor": dict(zip(self.spec.grid.names, v.per_factor()))}
                         for name, v in self.variance.items()},
            "violations": violations,
        }


def format_report(report: dict) -> str:
    """The guarantee report as lines a person reads after a build."""
    variance = report["variance"]
    lines = [f"guarantees: max |x' - x| = {report['max_abs_change']:.4f} (eps {report['eps']}); "
             f"{report['images']} images on the base grid; {report['distinct_original']} distinct originals, "
             f"{report['distinct_modified']} distinct modified; "
             + ("all hold" if not report["violations"] else "VIOLATED: " + "; ".join(report["violations"])),
             f"variance (sum over pixels): total {variance['original']['total']:.2f} -> "
             f"{variance['modified']['total']:.2f}"]
    lines += [f"  explained by {name}: {before:.3f} -> {variance['modified']['per_factor'][name]:.3f}"
              for name, before in variance["original"]["per_factor"].items()]
    return "\n".join(lines)
