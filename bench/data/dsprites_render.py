"""Procedural dSprites renderer, matching the original pixels as measured (docs/datasets.md).

A pixel is on iff its centre lies inside the sprite (binary, no anti-aliasing). Positions are sub-pixel, so each
sprite is rendered at its own centre rather than translated from a template.
"""

import numpy as np

SQUARE_HALF_SIDE = 0.15  # units; the side is 0.3 * scale
ELLIPSE_SEMI_AXES = (0.2, 0.1133)
# The heart curve x = 16 sin^3 u, Y = 13 cos u - 5 cos 2u - 2 cos 3u - cos 4u, normalised into a 0.3 x 0.3 box.
HEART_X_SPAN, HEART_Y_SPAN, HEART_Y_OFFSET = 32.0, 28.923252, 0.021875
SPRITE_RADIUS = 0.22  # units; bounds every sprite at every orientation (heart corner: 0.215)


def _heart_profile(samples: int = 200_001):
    """The heart's right half as two boundaries monotone in Y: inner (cusp to lobe top) and outer."""
    u = np.linspace(0.0, np.pi, samples)
    x = 16 * np.sin(u) ** 3
    y = 13 * np.cos(u) - 5 * np.cos(2 * u) - 2 * np.cos(3 * u) - np.cos(4 * u)
    top = int(np.argmax(y))
    inner = (y[: top + 1], x[: top + 1])  # Y rises from the cusp (Y=5) to the lobe top
    outer = (y[top:][::-1], x[top:][::-1])  # Y falls from the lobe top to the tip (Y=-17); reversed for interp
    return inner, outer, y[0], y[top]


_HEART = _heart_profile()


def _inside_square(vx, vy):
    return np.maximum(np.abs(vx), np.abs(vy)) <= SQUARE_HALF_SIDE


def _inside_ellipse(vx, vy):
    a, b = ELLIPSE_SEMI_AXES
    return (vx / a) ** 2 + (vy / b) ** 2 <= 1.0


def _inside_heart(vx, vy):
    (inner_y, inner_x), (outer_y, outer_x), cusp_y, top_y = _HEART
    x = np.abs(vx) * (HEART_X_SPAN / 0.3)
    y = -(vy + HEART_Y_OFFSET) * (HEART_Y_SPAN / 0.3)
    w_out = np.interp(y, outer_y, outer_x)
    w_in = np.where(y > cusp_y, np.interp(y, inner_y, inner_x), -1.0)
    return (y >= outer_y[0]) & (y <= top_y) & (x <= w_out) & (x >= w_in)


INSIDE = {0: _inside_square, 1: _inside_ellipse, 2: _inside_heart}


def render(shape, scale, orientation, pos_x, pos_y, size: int = 64) -> np.ndarray:
    """Render sprites from factor values (arrays of length N) into uint8 masks (N, size, size) of 0/1."""
    shape = np.asarray(shape)
    ppu = float(size)  # the canvas is one unit wide
    cx = ppu * (0.25 + 0.5 * np.asarray(pos_x, dtype=np.float64))
    cy = ppu * (0.25 + 0.5 * np.asarray(pos_y, dtype=np.float64))
    half = int(np.ceil(SPRITE_RADIUS * ppu)) + 1
    offsets = np.arange(-half, half + 1)
    cols = np.floor(cx).astype(np.int64)[:, None] + offsets  # (N, W)
    rows = np.floor(cy).astype(np.int64)[:, None] + offsets
    dx = (cols + 0.5 - cx[:, None]) / ppu
    dy = (rows + 0.5 - cy[:, None]) / ppu
    # Inverse of the on-screen counter-clockwise rotation (y down), in units of the sprite's scale.
    c = (np.cos(orientation) / scale)[:, None, None]
    s = (np.sin(orientation) / scale)[:, None, None]
    vx = c * dx[:, None, :] - s * dy[:, :, None]
    vy = s * dx[:, None, :] + c * dy[:, :, None]
    inside = np.zeros(vx.shape, dtype=bool)
    for shape_id, test in INSIDE.items():
        rows_of_shape = shape == shape_id
        if rows_of_shape.any():
            inside[rows_of_shape] = test(vx[rows_of_shape], vy[rows_of_shape])
    return _paste(inside, rows, cols, size, half)


def _paste(windows, rows, cols, size, pad):
    """Place per-sprite windows on blank canvases; a margin absorbs windows that overhang the edge."""
    n = len(windows)
    canvas = np.zeros((n, size + 2 * pad + 2, size + 2 * pad + 2), dtype=np.uint8)
    canvas[np.arange(n)[:, None, None], rows[:, :, None] + pad, cols[:, None, :] + pad] = windows
    return canvas[:, pad : pad + size, pad : pad + size]
