import numpy as np

from bench.data.show import dataset_figure, mosaic, save, traversal_factors
from bench.data.sources import load_base


def test_mosaic_places_images_in_a_grid():
    images = np.stack([np.full((1, 2, 2), v, np.float32) for v in (0.0, 0.5, 1.0)])
    out = mosaic(images, cols=2, gap=1)
    assert out.shape == (5, 5, 1)
    assert out[0, 0, 0] == 0.0 and out[0, 3, 0] == 0.5 and out[3, 0, 0] == 1.0


def test_traversal_sweeps_one_factor_per_row(tmp_path, tiny_dsprites_spec):
    ds = load_base(tiny_dsprites_spec, tmp_path)
    base = np.array([1, 2, 0, 1, 1])
    rows = traversal_factors(ds, base, steps=3).reshape(ds.num_factors, 3, -1)
    for k, row in enumerate(rows):
        others = np.delete(row, k, axis=1)
        assert (others == np.delete(base, k)).all()
        assert row[0, k] == 0 and row[-1, k] == ds.factor_sizes[k] - 1


def test_show_writes_a_png(tmp_path, tiny_shapes3d_spec, rng):
    ds = load_base(tiny_shapes3d_spec, tmp_path)
    out = tmp_path / "show.png"
    save(dataset_figure(ds, rng, samples=8, steps=4), out)
    assert out.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
