"""Procedural 3D objects of the paper's nine categories, rendered at any yaw.

Objects are built from placed primitives (ellipsoids, boxes, cylinders, tori, displaced
spheres); faces use the real template mesh of ``rsa_mirror.faces`` when it has been fetched.
Bilateral categories (face, chair, airplane, animal, tool) are closed under the left-right
reflection x -> -x, car and boat also under the front-back reflection z -> -z, so they are
mirror-symmetric by construction; fruit and flower are built without symmetry.

Rendering: perspective camera on the +z axis looking at the origin, y up; a view of yaw v
rotates the object by v about the vertical axis (positive v turns its front towards the
viewer's right). Lambertian (Gouraud) shading with the light in the camera's vertical plane,
so that the image at +v of a left-right symmetric object is exactly the mirror image of the
one at -v. A z-buffer rasterizer compiled with numba does the work (a plain-Python fallback
gives the same images, slowly); 2x supersampling; uniform gray background.
"""

from __future__ import annotations

import warnings

import numpy as np
from tqdm.auto import tqdm

from ._utils import check_count, check_option, check_random_state
from .errors import InvalidArgumentError, InvalidTypeError
from .stimuli import StimulusSet

CATEGORIES = ("car", "boat", "face", "chair", "airplane", "animal", "tool", "fruit", "flower")
SYMMETRY_PLANES = {
    "car": 2,
    "boat": 2,
    "face": 1,
    "chair": 1,
    "airplane": 1,
    "animal": 1,
    "tool": 1,
    "fruit": 0,
    "flower": 0,
}
PAPER_VIEWS_DEG = tuple(np.linspace(-90.0, 90.0, 9))
BACKGROUND = 0.5
LIGHT = np.array([0.0, 0.55, 1.0]) / np.linalg.norm([0.0, 0.55, 1.0])  # camera frame, x = 0


# --- meshes --------------------------------------------------------------------------------------


class Mesh:
    """Triangle mesh: vertices (V, 3), faces (F, 3) int, per-vertex albedo (V,) in [0, 1]."""

    def __init__(self, vertices, faces, albedo):
        self.vertices = np.asarray(vertices, dtype=np.float64)
        if self.vertices.ndim != 2 or self.vertices.shape[1] != 3 or not np.isfinite(self.vertices).all():
            raise InvalidArgumentError(
                f"Invalid value for 'vertices': expected finite (V, 3) coordinates, got shape {self.vertices.shape}"
            )
        faces = np.asarray(faces)
        if faces.ndim != 2 or faces.shape[1] != 3 or (faces.size and faces.dtype.kind not in "iu"):
            raise InvalidArgumentError(
                f"Invalid value for 'faces': expected integer (F, 3) vertex indices, got {faces.dtype} {faces.shape}"
            )
        if faces.size and (faces.min() < 0 or faces.max() >= len(self.vertices)):
            raise InvalidArgumentError(
                f"Invalid value for 'faces': vertex indices must lie in [0, {len(self.vertices) - 1}], got "
                f"[{faces.min()}, {faces.max()}]"
            )
        self.faces = faces.astype(np.int64)
        albedo = np.asarray(albedo, dtype=np.float64)
        if albedo.shape not in ((), (len(self.vertices),)) or not ((albedo >= 0) & (albedo <= 1)).all():
            raise InvalidArgumentError(
                f"Invalid value for 'albedo': expected one value or one per vertex ({len(self.vertices)}), in [0, 1]"
            )
        self.albedo = np.broadcast_to(albedo, (len(self.vertices),)).copy()

    @staticmethod
    def join(meshes) -> Mesh:
        """One mesh holding all of ``meshes``."""
        offsets = np.cumsum([0] + [len(m.vertices) for m in meshes[:-1]])
        return Mesh(
            np.concatenate([m.vertices for m in meshes]),
            np.concatenate([m.faces + o for m, o in zip(meshes, offsets, strict=True)]),
            np.concatenate([m.albedo for m in meshes]),
        )

    def transformed(self, *, scale=(1, 1, 1), rotate_deg=(0, 0, 0), translate=(0, 0, 0)) -> Mesh:
        """Scale, then rotate about x, y, z (degrees, in that order), then translate."""
        vertices = self.vertices * np.asarray(scale, dtype=float)
        vertices = vertices @ _rotation(*rotate_deg).T + np.asarray(translate, dtype=float)
        return Mesh(vertices, self.faces, self.albedo)

    def reflected(self, axis) -> Mesh:
        """Mirror image through the plane normal to ``axis`` (0 = x, 2 = z); winding kept outward."""
        vertices = self.vertices.copy()
        vertices[:, axis] *= -1
        return Mesh(vertices, self.faces[:, ::-1], self.albedo)


def _rotation(rx, ry, rz) -> np.ndarray:
    ax, ay, az = np.radians([rx, ry, rz])
    x = np.array([[1, 0, 0], [0, np.cos(ax), -np.sin(ax)], [0, np.sin(ax), np.cos(ax)]])
    y = np.array([[np.cos(ay), 0, np.sin(ay)], [0, 1, 0], [-np.sin(ay), 0, np.cos(ay)]])
    z = np.array([[np.cos(az), -np.sin(az), 0], [np.sin(az), np.cos(az), 0], [0, 0, 1]])
    return z @ y @ x


def _outward(vertices, faces, *, star_shaped=True) -> np.ndarray:
    """Faces re-wound so their normals point outward.

    Star-shaped primitives (about their centre) are fixed face by face; others (the torus) by
    the sign of the enclosed volume.
    """
    a, b, c = (vertices[faces[:, k]] for k in range(3))
    normals = np.cross(b - a, c - a)
    if star_shaped:
        inward = np.einsum("ij,ij->i", normals, (a + b + c) / 3 - vertices.mean(axis=0)) < 0
        return np.where(inward[:, None], faces[:, ::-1], faces)
    volume = np.einsum("ij,ij->i", a, np.cross(b, c)).sum()
    return faces if volume > 0 else faces[:, ::-1]


def _grid_faces(rows, columns, *, wrap=True) -> np.ndarray:
    """Quads of a (rows x columns) vertex grid as triangles; columns wrap around when ``wrap``."""
    faces = []
    for i in range(rows - 1):
        for j in range(columns if wrap else columns - 1):
            a, b = i * columns + j, i * columns + (j + 1) % columns
            c, d = a + columns, b + columns
            faces += [(a, c, b), (b, c, d)]
    return np.array(faces)


def ellipsoid(radii=(1, 1, 1), *, albedo=0.7, segments=24, rings=12, bumps=None) -> Mesh:
    """UV sphere scaled to ``radii``; ``bumps(direction (N, 3)) -> (N,)`` scales the radius."""
    segments, rings = check_count("segments", segments, minimum=3), check_count("rings", rings, minimum=2)
    theta = np.linspace(0, np.pi, rings + 1)  # pole to pole
    phi = np.arange(segments) * 2 * np.pi / segments  # symmetric under x -> -x for even segments
    t, p = np.meshgrid(theta, phi, indexing="ij")
    directions = np.stack([np.sin(t) * np.cos(p), np.cos(t), np.sin(t) * np.sin(p)], axis=-1).reshape(-1, 3)
    radius = 1.0 if bumps is None else bumps(directions)[:, None]
    vertices = directions * radius * np.asarray(radii, dtype=float)
    return Mesh(vertices, _outward(vertices, _grid_faces(rings + 1, segments)), albedo)


def box(size=(1, 1, 1), *, albedo=0.7) -> Mesh:
    """Axis-aligned box centred at the origin, each face split into 2 x 2 quads."""
    meshes = []
    half = np.asarray(size, dtype=float) / 2
    u = np.linspace(-1, 1, 3)
    a, b = np.meshgrid(u, u, indexing="ij")
    for axis in range(3):
        for sign in (-1, 1):
            plane = np.zeros((9, 3))
            others = [k for k in range(3) if k != axis]
            plane[:, axis] = sign
            plane[:, others[0]], plane[:, others[1]] = a.ravel(), b.ravel()
            meshes.append(Mesh(plane * half, _grid_faces(3, 3, wrap=False), albedo))
    joined = Mesh.join(meshes)
    return Mesh(joined.vertices, _outward(joined.vertices, joined.faces), albedo)


def cylinder(radius=0.5, height=1.0, *, albedo=0.7, segments=20) -> Mesh:
    """Capped cylinder along y, centred at the origin."""
    segments = check_count("segments", segments, minimum=3)
    phi = np.arange(segments) * 2 * np.pi / segments
    ring = np.stack([radius * np.cos(phi), np.zeros(segments), radius * np.sin(phi)], axis=1)
    side = np.concatenate([ring + [0, -height / 2, 0], ring + [0, height / 2, 0]])
    meshes = [Mesh(side, _grid_faces(2, segments), albedo)]
    for y in (-height / 2, height / 2):
        centre = np.array([[0.0, y, 0.0]])
        fan = np.array([(0, 1 + (j + 1) % segments, 1 + j) for j in range(segments)])
        meshes.append(Mesh(np.concatenate([centre, ring + [0, y, 0]]), fan, albedo))
    joined = Mesh.join(meshes)
    return Mesh(joined.vertices, _outward(joined.vertices, joined.faces), albedo)


def torus(major=0.5, minor=0.15, *, albedo=0.7, segments=24, sides=10) -> Mesh:
    """Torus in the x-z plane around the y axis."""
    segments, sides = check_count("segments", segments, minimum=3), check_count("sides", sides, minimum=3)
    u = np.arange(segments) * 2 * np.pi / segments
    v = np.arange(sides) * 2 * np.pi / sides
    uu, vv = np.meshgrid(u, v, indexing="ij")
    r = major + minor * np.cos(vv)
    vertices = np.stack([r * np.cos(uu), minor * np.sin(vv), r * np.sin(uu)], axis=-1).reshape(-1, 3)
    faces = _grid_faces(segments + 1, sides)
    faces = faces[faces.max(axis=1) < segments * sides]
    wrap = np.array([((segments - 1) * sides + j, j, (segments - 1) * sides + (j + 1) % sides) for j in range(sides)])
    wrap2 = np.array([((segments - 1) * sides + (j + 1) % sides, j, (j + 1) % sides) for j in range(sides)])
    return Mesh(vertices, _outward(vertices, np.concatenate([faces, wrap, wrap2]), star_shaped=False), albedo)


def smooth_bumps(rng, *, amplitude=0.15, n_waves=6):
    """A random smooth radial displacement: sum of a few low-frequency waves on the sphere."""
    n_waves = check_count("n_waves", n_waves)
    axes = rng.standard_normal((n_waves, 3))
    axes /= np.linalg.norm(axes, axis=1, keepdims=True)
    frequencies = rng.uniform(1.0, 3.0, n_waves)
    phases = rng.uniform(0, 2 * np.pi, n_waves)
    weights = rng.uniform(-1, 1, n_waves) * amplitude / np.sqrt(n_waves)
    return lambda d: 1.0 + np.sin(d @ axes.T * frequencies + phases) @ weights


# --- the nine categories ---------------------------------------------------------------------------


def build_object(category, rng) -> Mesh:
    """One exemplar of ``category``, centred, scaled to fit the unit sphere.

    Bilateral categories are closed under x -> -x, car and boat under x -> -x and z -> -z.

    Args:
        category: one of ``CATEGORIES``.
        rng: ``np.random.Generator`` (advanced) or an int seed.
    """
    check_option("category", category, CATEGORIES)
    parts = _BUILDERS[category](check_random_state(rng))
    mesh = Mesh.join(parts)
    if SYMMETRY_PLANES[category] >= 1:
        mesh = Mesh.join([mesh, mesh.reflected(0)])
    if SYMMETRY_PLANES[category] == 2:
        mesh = Mesh.join([mesh, mesh.reflected(2)])
    low, high = mesh.vertices.min(axis=0), mesh.vertices.max(axis=0)
    centre = (low + high) / 2
    if SYMMETRY_PLANES[category] >= 1:
        centre[0] = 0.0
    if SYMMETRY_PLANES[category] == 2:
        centre[2] = 0.0
    vertices = mesh.vertices - centre
    vertices /= np.linalg.norm(vertices, axis=1).max()
    return Mesh(vertices, mesh.faces, mesh.albedo)


def _u(rng, low, high):
    return float(rng.uniform(low, high))


def _face(rng):
    width, height, depth = _u(rng, 0.7, 0.85), _u(rng, 0.95, 1.15), _u(rng, 0.8, 0.95)
    skin = _u(rng, 0.6, 0.8)
    parts = [ellipsoid((width, height, depth), albedo=skin, segments=32, rings=16)]
    eye_x, eye_y = _u(rng, 0.22, 0.32), _u(rng, 0.1, 0.25)
    eye_z = depth * np.sqrt(max(0.05, 1 - (eye_x / width) ** 2 - (eye_y / height) ** 2)) - 0.05
    parts.append(ellipsoid((0.11, 0.07, 0.05), albedo=0.15).transformed(translate=(eye_x, eye_y, eye_z)))
    parts.append(ellipsoid((0.14, 0.04, 0.05), albedo=skin * 0.6).transformed(translate=(eye_x, eye_y + 0.17, eye_z)))
    nose = _u(rng, 0.15, 0.3)
    parts.append(ellipsoid((0.1, 0.22, nose), albedo=skin).transformed(translate=(0.0, -0.05, depth - 0.05)))
    parts.append(ellipsoid((0.22, 0.05, 0.06), albedo=skin * 0.5).transformed(translate=(0.0, -0.45, depth * 0.8)))
    parts.append(ellipsoid((0.1, 0.22, 0.12), albedo=skin).transformed(translate=(width, 0.0, -0.05)))
    if rng.random() < 0.6:  # hair
        parts.append(
            ellipsoid((width * 1.05, height * 0.6, depth * 1.02), albedo=0.25).transformed(translate=(0, 0.45, -0.08))
        )
    return parts


def _chair(rng):
    seat_w, seat_d, leg_h = _u(rng, 0.8, 1.2), _u(rng, 0.7, 1.0), _u(rng, 0.6, 1.0)
    wood = _u(rng, 0.45, 0.75)
    parts = [box((seat_w, 0.1, seat_d), albedo=wood).transformed(translate=(0, leg_h, 0))]
    back_h = _u(rng, 0.6, 1.1)
    parts.append(box((seat_w, back_h, 0.08), albedo=wood).transformed(translate=(0, leg_h + back_h / 2, -seat_d / 2)))
    leg = cylinder(_u(rng, 0.03, 0.06), leg_h, albedo=wood * 0.8)
    for z in (-1, 1):
        parts.append(leg.transformed(translate=(seat_w / 2 - 0.06, leg_h / 2, z * (seat_d / 2 - 0.06))))
    if rng.random() < 0.5:  # armrests
        parts.append(box((0.08, 0.06, seat_d), albedo=wood).transformed(translate=(seat_w / 2, leg_h + 0.3, 0)))
    if rng.random() < 0.5:  # cushion
        parts.append(
            ellipsoid((seat_w / 2.2, 0.06, seat_d / 2.2), albedo=0.3).transformed(translate=(0, leg_h + 0.1, 0))
        )
    return parts


def _airplane(rng):
    length, radius = _u(rng, 1.6, 2.2), _u(rng, 0.12, 0.2)
    metal = _u(rng, 0.6, 0.85)
    parts = [ellipsoid((radius, radius, length / 2), albedo=metal)]
    span, sweep = _u(rng, 0.8, 1.3), _u(rng, 0, 35)
    parts.append(
        box((span, 0.04, _u(rng, 0.25, 0.45)), albedo=metal * 0.9).transformed(
            rotate_deg=(0, sweep, 0), translate=(span / 2, 0, 0.05)
        )
    )
    parts.append(box((0.35, 0.03, 0.18), albedo=metal).transformed(translate=(0.18, 0.02, -length / 2 + 0.15)))
    parts.append(
        box((0.03, _u(rng, 0.25, 0.45), 0.25), albedo=metal).transformed(translate=(0, 0.2, -length / 2 + 0.15))
    )
    if rng.random() < 0.6:  # engines
        parts.append(
            cylinder(0.07, 0.35, albedo=0.35).transformed(rotate_deg=(90, 0, 0), translate=(span * 0.35, -0.1, 0.15))
        )
    return parts


def _animal(rng):
    body_l, body_h = _u(rng, 0.8, 1.3), _u(rng, 0.3, 0.45)
    fur = _u(rng, 0.35, 0.75)
    leg_h = _u(rng, 0.35, 0.7)
    parts = [
        ellipsoid((_u(rng, 0.25, 0.4), body_h, body_l / 2), albedo=fur).transformed(
            translate=(0, leg_h + body_h / 2, 0)
        )
    ]
    head = _u(rng, 0.18, 0.28)
    neck = _u(rng, 0.1, 0.5)
    parts.append(
        ellipsoid((head, head, head * 1.3), albedo=fur).transformed(
            translate=(0, leg_h + body_h + neck, body_l / 2 + head * 0.6)
        )
    )
    leg = cylinder(_u(rng, 0.04, 0.08), leg_h, albedo=fur * 0.8)
    for z in (-1, 1):
        parts.append(leg.transformed(translate=(0.15, leg_h / 2, z * body_l * 0.35)))
    ear = ellipsoid((0.05, _u(rng, 0.08, 0.2), 0.03), albedo=fur * 0.7)
    parts.append(
        ear.transformed(
            rotate_deg=(0, 0, -20), translate=(head * 0.6, leg_h + body_h + neck + head, body_l / 2 + head * 0.5)
        )
    )
    parts.append(
        cylinder(0.03, _u(rng, 0.3, 0.6), albedo=fur).transformed(
            rotate_deg=(-50, 0, 0), translate=(0, leg_h + body_h, -body_l / 2 - 0.1)
        )
    )
    if rng.random() < 0.4:  # horns
        parts.append(
            torus(0.1, 0.025, albedo=0.85).transformed(
                rotate_deg=(90, 0, 30), translate=(head * 0.5, leg_h + body_h + neck + head, body_l / 2 + head * 0.4)
            )
        )
    return parts


def _tool(rng):
    handle_l = _u(rng, 1.0, 1.6)
    wood, metal = _u(rng, 0.4, 0.65), _u(rng, 0.7, 0.9)
    parts = [cylinder(_u(rng, 0.04, 0.08), handle_l, albedo=wood)]
    kind = rng.integers(3)
    if kind == 0:  # axe-like head, symmetric double bit
        parts.append(
            box((_u(rng, 0.25, 0.45), _u(rng, 0.2, 0.35), 0.06), albedo=metal).transformed(
                translate=(0.15, handle_l / 2 - 0.1, 0)
            )
        )
    elif kind == 1:  # pliers-like: two grips as a bent pair
        parts.append(
            torus(_u(rng, 0.15, 0.25), 0.03, albedo=metal).transformed(
                rotate_deg=(90, 0, 0), translate=(0.18, -handle_l / 4, 0)
            )
        )
    else:  # shovel blade
        parts.append(
            ellipsoid((_u(rng, 0.2, 0.3), _u(rng, 0.25, 0.4), 0.04), albedo=metal).transformed(
                translate=(0, -handle_l / 2 - 0.2, 0)
            )
        )
    if rng.random() < 0.5:  # cross grip
        parts.append(
            cylinder(0.03, 0.3, albedo=wood).transformed(rotate_deg=(0, 0, 90), translate=(0, handle_l / 2, 0))
        )
    return parts


def _car(rng):
    length, width, height = _u(rng, 1.6, 2.2), _u(rng, 0.8, 1.0), _u(rng, 0.3, 0.45)
    paint = _u(rng, 0.35, 0.85)
    wheel_r = _u(rng, 0.15, 0.22)
    parts = [box((width, height, length), albedo=paint).transformed(translate=(0, wheel_r + height / 2, 0))]
    cabin_l = _u(rng, 0.5, 1.0)
    parts.append(
        box((width * 0.85, _u(rng, 0.25, 0.4), cabin_l), albedo=paint * 0.6).transformed(
            translate=(0, wheel_r + height + 0.15, 0)
        )
    )
    wheel = cylinder(wheel_r, 0.12, albedo=0.12).transformed(rotate_deg=(0, 0, 90))
    parts.append(wheel.transformed(translate=(width / 2, wheel_r, length * _u(rng, 0.28, 0.38))))
    if rng.random() < 0.5:  # lights at both ends
        parts.append(
            ellipsoid((0.08, 0.05, 0.03), albedo=0.95).transformed(
                translate=(width * 0.35, wheel_r + height * 0.6, length / 2)
            )
        )
    return parts


def _boat(rng):
    length, beam = _u(rng, 1.8, 2.4), _u(rng, 0.5, 0.8)
    hull = _u(rng, 0.4, 0.8)
    parts = [
        ellipsoid((beam / 2, _u(rng, 0.2, 0.3), length / 2), albedo=hull, segments=32).transformed(scale=(1, 1, 1))
    ]
    deck_h = _u(rng, 0.2, 0.4)
    parts.append(
        box((beam * 0.6, deck_h, _u(rng, 0.4, 0.9)), albedo=0.85).transformed(translate=(0, 0.15 + deck_h / 2, 0))
    )
    if rng.random() < 0.6:  # mast
        mast = _u(rng, 0.5, 1.0)
        parts.append(cylinder(0.03, mast, albedo=0.5).transformed(translate=(0, 0.2 + deck_h + mast / 2, 0)))
    if rng.random() < 0.5:  # railings
        parts.append(box((0.03, 0.08, length * 0.6), albedo=0.6).transformed(translate=(beam * 0.35, 0.25, 0)))
    return parts


def _fruit(rng):
    radii = (_u(rng, 0.4, 0.6), _u(rng, 0.4, 0.7), _u(rng, 0.4, 0.6))
    parts = [
        ellipsoid(radii, albedo=_u(rng, 0.4, 0.85), segments=32, rings=16, bumps=smooth_bumps(rng, amplitude=0.35))
    ]
    tilt = rng.uniform(-35, 35, 3)
    parts.append(
        cylinder(0.025, _u(rng, 0.15, 0.3), albedo=0.3).transformed(
            rotate_deg=tilt, translate=(_u(rng, -0.15, 0.15), radii[1], _u(rng, -0.15, 0.15))
        )
    )
    if rng.random() < 0.7:  # leaf, off to one side
        parts.append(
            ellipsoid((0.18, 0.02, 0.08), albedo=0.45).transformed(
                rotate_deg=rng.uniform(-60, 60, 3), translate=(_u(rng, 0.05, 0.25), radii[1] + 0.05, _u(rng, -0.2, 0.2))
            )
        )
    return parts


def _flower(rng):
    stem_h = _u(rng, 0.8, 1.3)
    parts = [cylinder(0.03, stem_h, albedo=0.35).transformed(rotate_deg=(_u(rng, -15, 15), 0, _u(rng, -15, 15)))]
    top = np.array([0.0, stem_h / 2, 0.0])
    parts.append(
        ellipsoid((0.12, 0.06, 0.12), albedo=0.2, bumps=smooth_bumps(rng, amplitude=0.2)).transformed(translate=top)
    )
    n_petals = int(rng.integers(4, 9))
    angles = np.sort(rng.uniform(0, 360, n_petals))  # irregular: no symmetry plane
    petal_l = _u(rng, 0.2, 0.35)
    for angle in angles:
        petal = ellipsoid((petal_l, 0.02, _u(rng, 0.06, 0.12)), albedo=_u(rng, 0.6, 0.95))
        direction = _rotation(0, angle, 0) @ np.array([petal_l, 0, 0])
        parts.append(
            petal.transformed(rotate_deg=(_u(rng, -25, 25), angle, _u(rng, -20, 30)), translate=top + direction)
        )
    leaf_y = _u(rng, -0.3, 0.1) * stem_h
    parts.append(
        ellipsoid((0.2, 0.015, 0.07), albedo=0.4).transformed(
            rotate_deg=(0, _u(rng, 0, 360), _u(rng, 10, 40)), translate=(0.12, leaf_y, 0)
        )
    )
    return parts


_BUILDERS = {
    "car": _car,
    "boat": _boat,
    "face": _face,
    "chair": _chair,
    "airplane": _airplane,
    "animal": _animal,
    "tool": _tool,
    "fruit": _fruit,
    "flower": _flower,
}


# --- rendering -------------------------------------------------------------------------------------


def render_objects(
    *,
    categories=CATEGORIES,
    n_exemplars=25,
    views_deg=PAPER_VIEWS_DEG,
    size=227,
    equalize_luminance=True,
    random_state=None,
    backend="auto",
    verbose=False,
) -> StimulusSet:
    """Render exemplars of the paper's categories at the given yaw views.

    Args:
        categories: any of ``CATEGORIES`` (car, boat, face, chair, airplane, animal, tool,
            fruit, flower).
        n_exemplars: exemplars per category.
        views_deg: yaw of each view in degrees, left to right (default the paper's nine,
            -90..90 in 22.5 degree steps).
        size: image height and width in pixels.
        equalize_luminance: match every image's foreground mean and std to the set's averages
            (as the paper did, with SHINE's lumMatch).
        random_state: int or Generator. Each (category, exemplar) gets its own stream derived
            from it, so an exemplar is the same whichever categories are rendered with it.
        backend: ``"auto"`` (numba when installed), ``"numba"`` or ``"python"`` (slow, same
            images).
        verbose: progress bar over objects.

    Returns:
        ``StimulusSet`` of n_categories x n_exemplars x n_views grayscale images (objects in
        order, views left to right), with masks and descriptors ``object`` (e.g. 'car_03'),
        ``category``, ``exemplar``, ``view_deg`` and ``symmetry_planes``.

    Raises:
        InvalidArgumentError: unknown or repeated categories, a count below 1, views that are
            not distinct finite yaws, or an unknown backend; checked before any rendering.
    """
    categories = (categories,) if isinstance(categories, str) else tuple(categories)
    if not categories or len(set(categories)) < len(categories):
        raise InvalidArgumentError(
            f"Invalid value for 'categories': expected distinct categories among {', '.join(CATEGORIES)}, got "
            f"{categories!r}"
        )
    for category in categories:
        check_option("categories", category, CATEGORIES)
    n_exemplars, size = check_count("n_exemplars", n_exemplars), check_count("size", size)
    views_deg = _check_views(views_deg)
    check_option("backend", backend, ("auto", "numba", "python"))
    seed = check_random_state(random_state).integers(2**63)
    template = _face_template() if "face" in categories else None
    images, masks, rows = [], [], []
    todo = [(c, e) for c in categories for e in range(n_exemplars)]
    for category, exemplar in tqdm(todo, desc="rendering", disable=not verbose):
        rng = np.random.default_rng([seed, CATEGORIES.index(category), exemplar])
        if category == "face" and template is not None:
            from .faces import face_identity

            mesh = face_identity(template, rng)
        else:
            mesh = build_object(category, rng)
        for view in views_deg:
            image, coverage = render_mesh(mesh, view, size=size, backend=backend)
            images.append(image)
            masks.append(coverage > 0.5)
            rows.append((f"{category}_{exemplar:02d}", category, exemplar, float(view), SYMMETRY_PLANES[category]))
    columns = list(zip(*rows, strict=True))
    names = ("object", "category", "exemplar", "view_deg", "symmetry_planes")
    stimuli = StimulusSet(
        np.stack(images), dict(zip(names, map(np.array, columns), strict=True)), BACKGROUND, np.stack(masks)
    )
    return stimuli.equalize_luminance() if equalize_luminance else stimuli


def _check_views(views_deg) -> np.ndarray:
    """Yaw views in degrees as a float array: at least one, finite, distinct; else InvalidArgumentError."""
    try:
        views = np.asarray(views_deg, dtype=float)
    except (TypeError, ValueError):
        views = np.full((1, 1), np.nan)
    if views.ndim != 1 or views.size == 0 or not np.isfinite(views).all() or len(np.unique(views)) < views.size:
        raise InvalidArgumentError(
            f"Invalid value for 'views_deg': expected distinct finite yaws in degrees (at least one), got {views_deg!r}"
        )
    return views


def _face_template():
    """The real face mesh when fetched, else None (procedural heads, with a warning)."""
    from .faces import load_face_mesh

    try:
        return load_face_mesh()
    except FileNotFoundError as error:
        warnings.warn(f"{error}; faces are procedural heads instead", UserWarning, stacklevel=3)
        return None


def render_mesh(
    mesh,
    yaw_deg,
    *,
    size=227,
    supersample=2,
    camera_distance=4.0,
    fill=0.85,
    elevation_deg=0.0,
    light=None,
    backend="auto",
):
    """Render one mesh (fitting the unit sphere) at one yaw.

    ``elevation_deg`` tilts the object towards (+) or away from the camera before the yaw;
    ``light`` is a unit direction in the camera frame (default ``LIGHT``, in the camera's
    vertical plane so that +yaw and -yaw views are exact mirrors). Both vary only in the
    training images of the control networks.

    Returns:
        (image, coverage): float32 (size, size) arrays; image in [0, 1] on a ``BACKGROUND``
        gray background, coverage the fraction of each pixel's samples on the object.

    Raises:
        InvalidArgumentError: a count below 1, a camera inside the unit sphere
            (``camera_distance`` <= 1), ``fill`` not > 0, a yaw, elevation or light that
            is not finite, or a light that is not a unit vector.
    """
    if not isinstance(mesh, Mesh):
        raise InvalidTypeError(f"Invalid type for 'mesh': expected a Mesh, got {type(mesh).__name__}")
    size, supersample = check_count("size", size), check_count("supersample", supersample)
    for name, value in (("yaw_deg", yaw_deg), ("elevation_deg", elevation_deg)):
        if not isinstance(value, (int, float, np.integer, np.floating)) or not np.isfinite(value):
            raise InvalidArgumentError(f"Invalid value for {name!r}: expected a finite angle in degrees, got {value!r}")
    if not isinstance(camera_distance, (int, float, np.integer, np.floating)) or not camera_distance > 1:
        raise InvalidArgumentError(
            f"Invalid value for 'camera_distance': expected a number > 1 (the mesh fills the unit sphere), got "
            f"{camera_distance!r}"
        )
    if not isinstance(fill, (int, float, np.integer, np.floating)) or not 0 < fill < np.inf:
        raise InvalidArgumentError(f"Invalid value for 'fill': expected a finite number > 0, got {fill!r}")
    if light is not None:
        light = np.asarray(light, dtype=float)
        if light.shape != (3,) or not np.isfinite(light).all() or abs(np.linalg.norm(light) - 1) > 1e-6:
            raise InvalidArgumentError(f"Invalid value for 'light': expected a unit 3-vector, got {light!r}")
    check_option("backend", backend, ("auto", "numba", "python"))
    rasterize = _rasterize_compiled if backend in ("auto", "numba") and _rasterize_compiled else _rasterize
    if backend == "numba" and _rasterize_compiled is None:
        raise ImportError("backend='numba' needs numba: pip install numba")
    vertices = mesh.vertices @ _rotation(0, yaw_deg, 0).T
    if elevation_deg:
        vertices = vertices @ _rotation(elevation_deg, 0, 0).T
    normals = _vertex_normals(vertices, mesh.faces)
    shade = mesh.albedo * (0.3 + 0.7 * np.clip(normals @ (LIGHT if light is None else light), 0.0, None))
    pixels = size * supersample
    depth = camera_distance - vertices[:, 2]
    focal = fill * (pixels / 2) / np.tan(np.arcsin(1.0 / camera_distance))
    px = pixels / 2 + focal * vertices[:, 0] / depth
    py = pixels / 2 - focal * vertices[:, 1] / depth
    image, zbuffer = rasterize(px, py, depth, shade, mesh.faces, pixels, pixels, BACKGROUND)
    image = image.reshape(size, supersample, size, supersample).mean(axis=(1, 3))
    coverage = np.isfinite(zbuffer).reshape(size, supersample, size, supersample).mean(axis=(1, 3))
    return np.clip(image, 0, 1).astype(np.float32), coverage.astype(np.float32)


def _vertex_normals(vertices, faces) -> np.ndarray:
    """Area-weighted vertex normals (outward for outward-wound faces)."""
    a, b, c = (vertices[faces[:, k]] for k in range(3))
    face_normals = np.cross(b - a, c - a)
    normals = np.zeros_like(vertices)
    for k in range(3):
        np.add.at(normals, faces[:, k], face_normals)
    length = np.linalg.norm(normals, axis=1, keepdims=True)
    return normals / np.where(length > 0, length, 1.0)


def _rasterize(px, py, depth, shade, faces, height, width, background):
    """Z-buffer rasterization with barycentric (Gouraud) shading, sampled at pixel centres.

    Returns (image, zbuffer), both (height, width) float64; zbuffer is inf off the object.
    """
    image = np.full((height, width), background)
    zbuffer = np.full((height, width), np.inf)
    for f in range(faces.shape[0]):
        a, b, c = faces[f, 0], faces[f, 1], faces[f, 2]
        x0, y0, x1, y1, x2, y2 = px[a], py[a], px[b], py[b], px[c], py[c]
        area = (x1 - x0) * (y2 - y0) - (x2 - x0) * (y1 - y0)
        if area == 0.0:
            continue
        left = max(int(np.floor(min(x0, x1, x2) - 0.5)), 0)
        right = min(int(np.ceil(max(x0, x1, x2) - 0.5)), width - 1)
        top = max(int(np.floor(min(y0, y1, y2) - 0.5)), 0)
        bottom = min(int(np.ceil(max(y0, y1, y2) - 0.5)), height - 1)
        for iy in range(top, bottom + 1):
            sy = iy + 0.5
            for ix in range(left, right + 1):
                sx = ix + 0.5
                w0 = ((x1 - sx) * (y2 - sy) - (x2 - sx) * (y1 - sy)) / area
                w1 = ((x2 - sx) * (y0 - sy) - (x0 - sx) * (y2 - sy)) / area
                w2 = ((x0 - sx) * (y1 - sy) - (x1 - sx) * (y0 - sy)) / area
                if w0 >= 0.0 and w1 >= 0.0 and w2 >= 0.0:
                    z = w0 * depth[a] + w1 * depth[b] + w2 * depth[c]
                    if z < zbuffer[iy, ix]:
                        zbuffer[iy, ix] = z
                        image[iy, ix] = w0 * shade[a] + w1 * shade[b] + w2 * shade[c]
    return image, zbuffer


try:
    import numba

    _rasterize_compiled = numba.njit(cache=True)(_rasterize)
except ImportError:  # pragma: no cover - numba is a dependency; the fallback keeps working without it
    _rasterize_compiled = None
