import numpy as np

from bench.data.shapes3d_render import SKY_RGB, SURFACES, hue_rgb, render_geometry, surface_layers


def _compose(geometry, floor, wall, obj):
    rgb = hue_rgb([floor, wall, obj])
    image = geometry.coverage[0][None] * SKY_RGB[:, None, None]
    for surface, colour in zip((1, 2, 3), rgb):
        image = image + surface_layers(geometry, surface, colour[None])[0]
    return np.rint(np.clip(image, 0, 1) * 255).astype(np.uint8)


def test_sky_pixel_is_the_measured_colour():
    image = _compose(render_geometry(1.0, 0, 0.0), 0.0, 0.3, 0.6)
    np.testing.assert_array_equal(image[:, 2, 32], [153, 226, 249])


def test_wall_and_floor_rows_at_orientation_zero():
    geometry = render_geometry(1.0, 0, 0.0)
    column = 5  # away from the object
    wall_rows = np.flatnonzero(geometry.coverage[SURFACES.index("wall"), :, column] > 0.5)
    floor_rows = np.flatnonzero(geometry.coverage[SURFACES.index("floor"), :, column] > 0.5)
    # DATASETS.md reads the real images as: wall from row ~17, floor from row ~41.
    assert abs(wall_rows.min() - 17) <= 1
    assert abs(floor_rows.min() - 41) <= 1
    assert floor_rows.min() - wall_rows.max() <= 2  # one shared, anti-aliased row at most


def test_hue_changes_only_colour():
    geometry = render_geometry(1.25, 3, 15.0)
    a = _compose(geometry, 0.0, 0.0, 0.0)
    b = _compose(geometry, 0.0, 0.0, 0.5)  # only the object's hue changes
    object_pixels = geometry.coverage[SURFACES.index("object")] > 0
    changed = (a != b).any(axis=0)
    assert changed.any()
    assert not (changed & ~object_pixels).any()


def test_edges_are_anti_aliased():
    geometry = render_geometry(1.0, 2, 0.0)
    cover = geometry.coverage[SURFACES.index("object")]
    assert ((cover > 0) & (cover < 1)).sum() > 10
    np.testing.assert_allclose(geometry.coverage.sum(axis=0), 1.0, atol=1e-6)


def test_hue_rgb_is_fully_saturated():
    np.testing.assert_allclose(hue_rgb([0.0, 1 / 3, 2 / 3]), np.eye(3), atol=1e-12)


def test_a_32_pixel_miniature_is_the_same_scene_at_half_the_resolution(tiny_shapes3d_spec, tmp_path):
    from bench.data import shapes3d
    from bench.data.sources import load_base
    small = shapes3d.make_spec("tiny_shapes3d_32", factor_values=tiny_shapes3d_spec.factor_values, size=32)
    assert small.observation_shape == (3, 32, 32) and small.original_files == ()
    full, half = load_base(tiny_shapes3d_spec, tmp_path), load_base(small, tmp_path)
    index = np.arange(len(full))
    pooled = full.images(index).reshape(len(full), 3, 32, 2, 32, 2).mean(axis=(3, 5))
    # The camera keeps its field of view: the small image is the large one at half the resolution, up to edges.
    assert float((pooled - half.images(index)).abs().mean()) < 0.02
    assert shapes3d.SHAPES3D.original_files == (shapes3d.ORIGINAL_H5,)


def test_miniature_values_circle_the_hues_span_the_full_ranges_and_keep_every_shape():
    from bench.data.shapes3d import FACTOR_VALUES, evenly
    values = evenly(hues=5, scales=3, orientations=5)
    assert [len(v) for v in values] == [5, 5, 5, 3, 4, 5]
    for hues in values[:3]:  # every neighbour 0.2 apart round the circle, the last and the first too
        assert np.allclose(np.diff([*hues, hues[0] + 1]), 0.2)
        assert set(hues.round(6)) <= set(FACTOR_VALUES[0].round(6))
    for mini, full in zip(values[3:], FACTOR_VALUES[3:]):
        assert (mini[0], mini[-1]) == (full[0], full[-1])
    assert np.array_equal(values[4], FACTOR_VALUES[4])
