import numpy as np
import pytest

from bench.data import dsprites
from bench.data.dsprites_render import render

SPEC = dsprites.DSPRITES


def _one(shape, scale=1.0, orientation=0.0, x=0.5, y=0.5):
    return render(np.array([shape]), np.array([scale]), np.array([orientation]), np.array([x]), np.array([y]))[0]


def _bbox(mask):
    rows, cols = np.nonzero(mask)
    return rows.max() - rows.min() + 1, cols.max() - cols.min() + 1


def test_square_at_scale_one_is_20_by_20():
    mask = _one(0)
    assert _bbox(mask) == (20, 20)
    assert mask.sum() == 400


def test_heart_at_scale_one_is_20_columns_by_17_rows_lobes_up():
    mask = _one(2)
    assert _bbox(mask) == (17, 20)
    rows = np.nonzero(mask)[0]
    top, bottom = mask[rows.min()], mask[rows.max()]
    assert top.sum() > bottom.sum()  # wide lobes at the top, narrow tip at the bottom


def test_ellipse_major_axis_is_horizontal_at_orientation_zero():
    height, width = _bbox(_one(1))
    assert width > 1.5 * height
    height, width = _bbox(_one(1, orientation=np.pi / 2))
    assert height > 1.5 * width


def test_rotation_is_counter_clockwise_on_screen():
    # A heart turned by +90 degrees counter-clockwise has its lobes on the left.
    mask = _one(2, orientation=np.pi / 2)
    cols = np.nonzero(mask)[1]
    left, right = mask[:, cols.min()], mask[:, cols.max()]
    assert left.sum() > right.sum()


def test_images_are_binary_and_centres_follow_position():
    masks = render(np.zeros(2, int), np.ones(2), np.zeros(2), np.array([0.0, 1.0]), np.array([0.0, 1.0]))
    assert set(np.unique(masks)) == {0, 1}
    centre = [np.argwhere(m).mean(axis=0) for m in masks]
    np.testing.assert_allclose(centre[0], [15.5, 15.5], atol=0.6)  # (16 + 32 * 0) - 0.5 in pixel indices
    np.testing.assert_allclose(centre[1], [47.5, 47.5], atol=0.6)


def test_orientation_39_renders_exactly_like_orientation_0():
    grid = SPEC.grid
    factors = grid.index_to_factors(np.arange(len(grid)))
    first = factors[factors[:, 2] == 0][::97]
    last = first.copy()
    last[:, 2] = 39
    np.testing.assert_array_equal(dsprites.render_classes(SPEC, first), dsprites.render_classes(SPEC, last))


@pytest.mark.parametrize("x,y", [(0.0, 0.0), (1.0, 1.0), (0.0, 1.0)])
def test_sprites_never_leave_the_canvas(x, y):
    n = 3 * 40
    shapes, orientations = np.repeat(np.arange(3), 40), np.tile(np.linspace(0, 2 * np.pi, 40), 3)
    masks = render(shapes, np.ones(n), orientations, np.full(n, x), np.full(n, y))
    border = np.concatenate([masks[:, 0], masks[:, -1], masks[:, :, 0], masks[:, :, -1]], axis=1)
    assert border.sum() == 0


def test_a_configuration_drops_fixed_factors_and_renders_them_at_their_value():
    mini = dsprites.make_spec("mini", size=32, num_positions=32, num_orientations=1, shapes=(0,))
    assert mini.grid.names == ("scale", "posX", "posY") and mini.grid.sizes == (6, 32, 32)
    assert not any(mini.grid.categorical) and mini.fixed_values == {"shape": 0.0, "orientation": 0.0}
    classes = np.array([[0, 0, 31], [5, 17, 3]])
    expected = render(np.zeros(2, int), np.array([0.5, 1.0]), np.zeros(2), np.array([0.0, 17 / 31]),
                      np.array([1.0, 3 / 31]), size=32)
    np.testing.assert_array_equal(dsprites.render_classes(mini, classes)[:, 0], expected * 255)
