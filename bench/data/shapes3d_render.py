"""A NumPy ray caster for a Shapes3D look-alike (the original MuJoCo scene is not public).

Geometry and shading are rendered once per (scale, shape, orientation) as per-surface coverage and shading
maps; colour is applied per hue triple afterwards, since hue changes only a surface's material colour.
Scene constants are the measurements in docs/datasets.md, in units of the room half-width.
"""

from dataclasses import dataclass

import numpy as np

FOCAL_PX = 65.8
CAMERA_ORBIT, CAMERA_HEIGHT, WALL_HEIGHT = 0.639, 0.186, 0.586
SKY_RGB = np.array([153, 226, 249]) / 255.0
# Light fixed relative to the camera (front upper left). With 1/d falloff these give the measured shading:
# floor 1.25 near bottom left to 0.6 far right, back wall ~1.0, side walls 0.55-0.75, shadow 0.35.
LIGHT_POS = np.array([-0.6, 1.2, -0.9])
AMBIENT, DIFFUSE, SPECULAR, SHININESS = 0.35, 1.51, 0.4, 24.0
SURFACES = ("sky", "floor", "wall", "object")


def _sd_box(p, half):
    q = np.abs(p) - half
    return np.linalg.norm(np.maximum(q, 0.0), axis=-1) + np.minimum(q.max(axis=-1), 0.0)


def _sd_cylinder(p, radius, half_height):
    d = np.stack([np.hypot(p[..., 0], p[..., 2]) - radius, np.abs(p[..., 1]) - half_height], axis=-1)
    return np.minimum(d.max(axis=-1), 0.0) + np.linalg.norm(np.maximum(d, 0.0), axis=-1)


def _sd_sphere(p, radius):
    return np.linalg.norm(p, axis=-1) - radius


def _sd_capsule(p, radius, half_length):
    q = p.copy()
    q[..., 1] = p[..., 1] - np.clip(p[..., 1], -half_length, half_length)
    return np.linalg.norm(q, axis=-1) - radius


# shape id -> (signed distance in the object's frame, half height at scale 1); frames are centred on the object.
SHAPES = {
    0: (lambda p, s: _sd_box(p, 0.090 * s), 0.090),  # cube
    1: (lambda p, s: _sd_cylinder(p, 0.093 * s, 0.098 * s), 0.098),  # cylinder
    2: (lambda p, s: _sd_sphere(p, 0.109 * s), 0.109),  # sphere
    3: (lambda p, s: _sd_capsule(p, 0.081 * s, 0.090 * s), 0.171),  # capsule, upright
}


@dataclass
class GeometryMap:
    """Per-pixel coverage, diffuse shading factor and specular highlight for each surface (S, H, W)."""

    coverage: np.ndarray
    shading: np.ndarray
    specular: np.ndarray


def _rotation_y(angle):
    c, s = np.cos(angle), np.sin(angle)
    return np.array([[c, 0.0, s], [0.0, 1.0, 0.0], [-s, 0.0, c]])


def _camera_rays(size, supersample, orientation_rad):
    """Ray origin and unit directions (P, 3) in the room frame; the camera orbits by -orientation."""
    steps = (np.arange(size * supersample) + 0.5) / supersample
    v, u = np.meshgrid(steps, steps, indexing="ij")
    scale = FOCAL_PX * size / 64.0
    d = np.stack([(u - size / 2) / scale, -(v - size / 2) / scale, np.ones_like(u)], axis=-1).reshape(-1, 3)
    rot = _rotation_y(-orientation_rad)
    d = d @ rot.T
    origin = rot @ np.array([0.0, CAMERA_HEIGHT, -CAMERA_ORBIT])
    return origin, d / np.linalg.norm(d, axis=1, keepdims=True), rot


def _room_hits(origin, d):
    """Distance to the first room surface, its surface id (0 sky, 1 floor, 2 wall) and normal."""
    with np.errstate(divide="ignore", invalid="ignore"):
        t_floor = np.where(d[:, 1] < 0, -origin[1] / d[:, 1], np.inf)
        t_x = np.where(d[:, 0] != 0, (np.sign(d[:, 0]) - origin[0]) / d[:, 0], np.inf)
        t_z = np.where(d[:, 2] != 0, (np.sign(d[:, 2]) - origin[2]) / d[:, 2], np.inf)
    t_wall = np.minimum(t_x, t_z)
    wall_y = origin[1] + t_wall * d[:, 1]
    surface = np.where(t_floor < t_wall, 1, np.where(wall_y <= WALL_HEIGHT, 2, 0))
    t = np.where(surface == 1, t_floor, t_wall)
    normal = np.zeros_like(d)
    normal[surface == 1, 1] = 1.0
    x_wall = (surface == 2) & (t_x < t_z)
    z_wall = (surface == 2) & ~(t_x < t_z)
    normal[x_wall, 0] = -np.sign(d[x_wall, 0])
    normal[z_wall, 2] = -np.sign(d[z_wall, 2])
    return t, surface, normal


def _march(sdf, origin, d, t_max, steps=64, eps=1e-4):
    """Sphere tracing along rays (P, 3) from origins (P, 3); returns hit distance, inf where missed."""
    t = np.zeros(len(d))
    hit = np.zeros(len(d), dtype=bool)
    live = np.ones(len(d), dtype=bool)
    for _ in range(steps):
        idx = np.flatnonzero(live)
        if idx.size == 0:
            break
        dist = sdf(origin[idx] + t[idx, None] * d[idx])
        t[idx] += dist
        hit[idx] = dist < eps
        live[idx] = ~hit[idx] & (t[idx] < t_max[idx])
    return np.where(hit, t, np.inf)


def _normals(sdf, points, h=1e-4):
    grad = np.stack([sdf(points + h * e) - sdf(points - h * e) for e in np.eye(3)], axis=-1)
    return grad / np.linalg.norm(grad, axis=-1, keepdims=True)


def _in_shadow(sdf, points, light):
    to_light = light - points
    dist = np.linalg.norm(to_light, axis=1)
    d = to_light / dist[:, None]
    start = points + 2e-3 * d
    return np.isfinite(_march(sdf, start, d, dist))


def render_geometry(scale: float, shape: int, orientation_deg: float, size=64, supersample=4) -> GeometryMap:
    """Coverage and shading of sky, floor, wall and object for one (scale, shape, orientation)."""
    shape_sdf, half_height = SHAPES[shape]
    centre = np.array([0.0, half_height * scale, 0.0])
    sdf = lambda p: shape_sdf(p - centre, scale)  # noqa: E731 - the scene's object, in room coordinates
    origin, d, rot = _camera_rays(size, supersample, np.deg2rad(orientation_deg))
    light = rot @ LIGHT_POS
    t, surface, normal = _room_hits(origin, d)
    t_obj = _march(sdf, np.broadcast_to(origin, d.shape), d, t)
    on_object = np.isfinite(t_obj)
    surface[on_object] = 3
    t = np.where(on_object, t_obj, t)
    points = origin + t[:, None] * d
    normal[on_object] = _normals(sdf, points[on_object])
    shading, specular = _shade(sdf, points, normal, d, surface, light)
    return _resolve(surface, shading, specular, size, supersample)


def _shade(sdf, points, normal, d, surface, light):
    to_light = light - points
    dist = np.linalg.norm(to_light, axis=1)
    l_dir = to_light / dist[:, None]
    lambert = np.maximum((normal * l_dir).sum(axis=1), 0.0)
    lit = surface > 0
    receivers = np.flatnonzero(lit & (surface < 3) & (lambert > 0))
    lambert[receivers[_in_shadow(sdf, points[receivers], light)]] = 0.0
    shading = np.where(lit, AMBIENT + DIFFUSE * lambert / dist, 1.0)
    reflected = l_dir - 2 * (l_dir * normal).sum(axis=1, keepdims=True) * normal
    highlight = np.maximum((reflected * d).sum(axis=1), 0.0) ** SHININESS
    specular = np.where((surface == 3) & (lambert > 0), SPECULAR * highlight, 0.0)
    return shading, specular


def _resolve(surface, shading, specular, size, supersample):
    """Average the supersamples of each pixel per surface: anti-aliased edges."""
    shape = (size, supersample, size, supersample)
    one_hot = np.stack([surface == s for s in range(len(SURFACES))]).reshape(-1, *shape)
    count = one_hot.sum(axis=(2, 4))
    coverage = count / supersample**2
    with np.errstate(invalid="ignore"):
        mean = lambda x: np.nan_to_num((one_hot * x.reshape(shape)).sum(axis=(2, 4)) / count)  # noqa: E731
        return GeometryMap(coverage.astype(np.float32), mean(shading).astype(np.float32),
                           mean(specular).astype(np.float32))


def hue_rgb(hues) -> np.ndarray:
    """HSV (h, 1, 1) -> RGB, (N,) -> (N, 3)."""
    h = np.asarray(hues, dtype=np.float64)[:, None]
    k = (np.array([5.0, 3.0, 1.0]) + h * 6.0) % 6.0
    return 1.0 - np.clip(np.minimum(k, 4.0 - k), 0.0, 1.0)


def surface_layers(geometry: GeometryMap, surface: int, rgb: np.ndarray) -> np.ndarray:
    """One surface's contribution for each colour (N, 3) -> (N, 3, H, W); clipped after shading."""
    k = geometry.shading[surface][None, None]
    spec = geometry.specular[surface][None, None]
    colour = np.clip(k * rgb[:, :, None, None] + spec, 0.0, 1.0)
    return geometry.coverage[surface][None, None] * colour
