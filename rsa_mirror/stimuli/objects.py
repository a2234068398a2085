"""Procedural 3D objects of the paper's nine categories, rendered at any yaw.

Objects are built from placed primitives (``mesh``: ellipsoids, boxes, cylinders, tori,
displaced spheres); faces use the real template mesh of ``faces`` when it has been fetched.
Bilateral categories (face, chair, airplane, animal, tool) are closed under the left-right
reflection x -> -x, car and boat also under the front-back reflection z -> -z, so they are
mirror-symmetric by construction; fruit and flower are built without symmetry.

A one-plane object must also differ between its front (+z, towards the viewer in the frontal
view) and its back, in depth, or its 2-D projection is left-right symmetric at every yaw and the
pixels alone are mirror-tuned (a flat object in the x-y plane, or one nearly closed under
z -> -z as well): chairs have their back and reclined rear posts behind, airplanes a short nose,
swept wings ahead of the middle and the tail behind, tools lie in their symmetry plane with the
working end forward and the handle pitched (``projection_symmetry`` measures this).
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from typing import TYPE_CHECKING

import numpy as np
from tqdm.auto import tqdm

from .._utils import check_count, check_option, check_options, check_random_state
from .base import StimulusSet
from .faces import face_identity, face_parts, face_template
from .mesh import (
    BACKGROUND,
    Mesh,
    box,
    check_views,
    cylinder,
    ellipsoid,
    render_mesh,
    smooth_bumps,
    symmetric_mesh,
    torus,
)
from .mesh import draw as _u
from .mesh import rotation as _rotation

if TYPE_CHECKING:
    import numpy.typing as npt

    from .._typing import RandomState

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
GEOMETRIES = ("bilateral", "chiral")  # build_object: mirror-completed, or the one-sided half


def build_object(category: str, rng: RandomState, *, geometry: str = "bilateral") -> Mesh:
    """One exemplar of ``category``, centred, scaled to fit the unit sphere.

    Bilateral categories are closed under x -> -x, car and boat under x -> -x and z -> -z.

    Args:
        category: one of ``CATEGORIES``.
        rng: ``np.random.Generator`` (advanced) or an int seed.
        geometry: ``"bilateral"`` (the category as built, closed under its symmetry planes)
            or ``"chiral"`` (the same parts without the mirror completion: the one-sided half
            the category is built from, centred and scaled alike; parts lying on the symmetry
            plane stay symmetric). Both draw the same numbers from ``rng``, so an exemplar's
            chiral form is the half of its bilateral form.

    Raises:
        InvalidArgumentError: an unknown ``category`` or ``geometry``.
    """
    check_option("category", category, CATEGORIES)
    check_option("geometry", geometry, GEOMETRIES)
    planes = SYMMETRY_PLANES[category] if geometry == "bilateral" else 0
    return symmetric_mesh(_BUILDERS[category](check_random_state(rng)), planes)


def _chair(rng: np.random.Generator) -> list[Mesh]:
    """Seat, front legs, rear legs rising into a reclined back (the back only behind: -z)."""
    seat_w, seat_d, leg_h = _u(rng, 0.8, 1.1), _u(rng, 0.75, 1.0), _u(rng, 0.6, 0.9)
    wood = _u(rng, 0.45, 0.75)
    back_h, recline = _u(rng, 0.7, 1.1), _u(rng, 8, 22)
    legs = _u(rng, 0.035, 0.06)
    post_x, rear_z = seat_w / 2 - 0.06, -seat_d / 2 + 0.05
    parts = [box((seat_w, 0.09, seat_d), albedo=wood).transformed(translate=(0, leg_h, 0))]
    parts.append(  # front leg, straight
        cylinder(legs, leg_h, albedo=wood * 0.8).transformed(translate=(post_x, leg_h / 2, seat_d / 2 - 0.06))
    )
    splay = _u(rng, 5, 15)  # rear leg kicks backwards below the seat
    parts.append(
        cylinder(legs, leg_h / np.cos(np.radians(splay)), albedo=wood * 0.8).transformed(
            rotate_deg=(splay, 0, 0), translate=(post_x, leg_h / 2, rear_z - leg_h / 2 * np.tan(np.radians(splay)))
        )
    )
    lean = np.tan(np.radians(recline))  # the back leans backwards above the seat
    parts.append(  # back post, continuing the rear leg upwards
        cylinder(legs, back_h / np.cos(np.radians(recline)), albedo=wood * 0.8).transformed(
            rotate_deg=(-recline, 0, 0), translate=(post_x, leg_h + back_h / 2, rear_z - back_h / 2 * lean)
        )
    )
    panel_h = back_h * _u(rng, 0.35, 0.7)
    panel_y = back_h - panel_h / 2 - 0.03
    parts.append(
        box((seat_w - 0.1, panel_h, 0.05), albedo=wood).transformed(
            rotate_deg=(-recline, 0, 0), translate=(0, leg_h + panel_y, rear_z - panel_y * lean)
        )
    )
    if rng.random() < 0.5:  # armrests, from the back post to a front support
        arm_l = seat_d * _u(rng, 0.6, 0.85)
        parts.append(
            box((0.07, 0.05, arm_l), albedo=wood).transformed(translate=(post_x, leg_h + 0.28, rear_z + arm_l / 2))
        )
        parts.append(
            cylinder(0.025, 0.28, albedo=wood * 0.8).transformed(
                translate=(post_x, leg_h + 0.14, rear_z + arm_l - 0.05)
            )
        )
    if rng.random() < 0.5:  # cushion
        parts.append(
            ellipsoid((seat_w / 2.2, 0.06, seat_d / 2.2), albedo=0.3).transformed(translate=(0, leg_h + 0.1, 0))
        )
    return parts


def _airplane(rng: np.random.Generator) -> list[Mesh]:
    """Fuselage with a short nose and a long, upswept tail cone; swept wings ahead of the middle; tail at the back.

    The nose points to +z (towards the viewer in the frontal view).
    """
    length, radius = _u(rng, 1.8, 2.4), _u(rng, 0.11, 0.16)
    metal = _u(rng, 0.6, 0.85)
    barrel = length * _u(rng, 0.45, 0.6)
    nose, tail = length * _u(rng, 0.1, 0.18), length * _u(rng, 0.25, 0.35)
    front, back = barrel / 2, -barrel / 2
    parts = [
        cylinder(radius, barrel, albedo=metal, segments=24).transformed(rotate_deg=(90, 0, 0)),
        ellipsoid((radius, radius, nose), albedo=metal).transformed(translate=(0, 0, front)),
        ellipsoid((radius * 0.9, radius * 0.8, tail), albedo=metal).transformed(translate=(0, radius * 0.2, back)),
    ]
    span, sweep, chord = _u(rng, 0.9, 1.3), _u(rng, 20, 40), _u(rng, 0.25, 0.4)
    wing_z = front * _u(rng, 0.1, 0.4)  # root ahead of the middle
    dihedral = _u(rng, 0, 8)
    parts.append(
        box((span, 0.04, chord), albedo=metal * 0.9).transformed(
            rotate_deg=(0, sweep, dihedral),
            translate=(
                span / 2 * np.cos(np.radians(sweep)),
                -radius * 0.4,
                wing_z - span / 2 * np.sin(np.radians(sweep)),
            ),
        )
    )
    stab, fin_h = _u(rng, 0.3, 0.5), _u(rng, 0.4, 0.6)
    tail_z = back - tail * 0.6
    parts.append(
        box((stab, 0.03, 0.16), albedo=metal).transformed(
            rotate_deg=(0, sweep, 0), translate=(stab / 2 * np.cos(np.radians(sweep)), radius * 0.4, tail_z)
        )
    )
    fin_lean = _u(rng, 25, 45)  # the fin's top leans backwards
    parts.append(
        box((0.03, fin_h, _u(rng, 0.28, 0.4)), albedo=metal).transformed(
            rotate_deg=(-fin_lean, 0, 0),
            translate=(0, radius * 0.5 + fin_h / 2, tail_z - fin_h / 2 * np.tan(np.radians(fin_lean)) + 0.05),
        )
    )
    if rng.random() < 0.6:  # engines, hung under and ahead of the wings
        parts.append(
            cylinder(0.07, 0.3, albedo=0.35).transformed(
                rotate_deg=(90, 0, 0),
                translate=(span * 0.3, -radius - 0.06, wing_z + 0.12 - span * 0.15 * np.sin(np.radians(sweep))),
            )
        )
    return parts


def _animal(rng: np.random.Generator) -> list[Mesh]:
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


def _tool(rng: np.random.Generator) -> list[Mesh]:
    """A hand tool lying in its symmetry plane (y-z): handle along y, working end forward (+z), pitched."""
    handle_l = _u(rng, 1.0, 1.5)
    wood, metal = _u(rng, 0.4, 0.65), _u(rng, 0.7, 0.9)
    parts = [cylinder(_u(rng, 0.035, 0.06), handle_l, albedo=wood)]
    top = handle_l / 2
    kind = rng.integers(3)
    if kind == 0:  # hammer: striking face in front, a claw curving down behind
        face_l, face_r = _u(rng, 0.2, 0.3), _u(rng, 0.05, 0.08)
        parts.append(
            cylinder(face_r, face_l, albedo=metal).transformed(rotate_deg=(90, 0, 0), translate=(0, top, face_l / 2))
        )
        claw_l = _u(rng, 0.2, 0.3)
        parts.append(
            box((0.06, 0.05, claw_l), albedo=metal).transformed(
                rotate_deg=(-_u(rng, 15, 35), 0, 0), translate=(0, top - 0.03, -claw_l / 2)
            )
        )
    elif kind == 1:  # axe: a tall bit in front, a short poll behind
        bit_l, bit_h = _u(rng, 0.25, 0.4), _u(rng, 0.25, 0.4)
        parts.append(
            box((0.04, bit_h, bit_l), albedo=metal).transformed(translate=(0, top - bit_h / 2 + 0.04, bit_l / 2))
        )
        parts.append(box((0.08, 0.1, 0.1), albedo=metal).transformed(translate=(0, top - 0.02, -0.05)))
    else:  # shovel: blade below, bent forward; a grip across the top
        blade_h = _u(rng, 0.3, 0.45)
        bend = _u(rng, 25, 45)
        parts.append(
            ellipsoid((_u(rng, 0.16, 0.25), blade_h / 2, 0.03), albedo=metal).transformed(
                rotate_deg=(-bend, 0, 0),
                translate=(0, -top - blade_h / 2 * np.cos(np.radians(bend)), blade_h / 2 * np.sin(np.radians(bend))),
            )
        )
        parts.append(cylinder(0.03, 0.22, albedo=wood).transformed(rotate_deg=(0, 0, 90), translate=(0, top, 0)))
    pitch = _u(rng, 15, 35) * (1 if rng.random() < 0.5 else -1)  # the handle leans forward or back
    return [part.transformed(rotate_deg=(pitch, 0, 0)) for part in parts]


def _car(rng: np.random.Generator) -> list[Mesh]:
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


def _boat(rng: np.random.Generator) -> list[Mesh]:
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


def _fruit(rng: np.random.Generator) -> list[Mesh]:
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


def _flower(rng: np.random.Generator) -> list[Mesh]:
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


_BUILDERS: dict[str, Callable[[np.random.Generator], list[Mesh]]] = {
    "car": _car,
    "boat": _boat,
    "face": face_parts,
    "chair": _chair,
    "airplane": _airplane,
    "animal": _animal,
    "tool": _tool,
    "fruit": _fruit,
    "flower": _flower,
}


def render_objects(
    *,
    categories: str | Iterable[str] = CATEGORIES,
    n_exemplars: int = 25,
    views_deg: npt.ArrayLike = PAPER_VIEWS_DEG,
    size: int = 227,
    equalize_luminance: bool = True,
    random_state: RandomState = None,
    backend: str = "auto",
    verbose: bool = False,
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
    categories = check_options("categories", categories, CATEGORIES)
    n_exemplars, size = check_count("n_exemplars", n_exemplars), check_count("size", size)
    views_deg = check_views(views_deg)
    check_option("backend", backend, ("auto", "numba", "python"))
    seed = check_random_state(random_state).integers(2**63)
    template = face_template() if "face" in categories else None
    images: list[np.ndarray] = []
    masks: list[np.ndarray] = []
    rows: list[tuple[str, str, int, float, int]] = []
    todo = [(c, e) for c in categories for e in range(n_exemplars)]
    for category, exemplar in tqdm(todo, desc="rendering", disable=not verbose):
        rng = np.random.default_rng([seed, CATEGORIES.index(category), exemplar])
        if category == "face" and template is not None:
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
