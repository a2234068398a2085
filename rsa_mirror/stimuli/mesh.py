"""Triangle meshes, their primitives and the z-buffer renderer, numpy only (numba optional).

``Mesh`` with its transforms and reflections; primitives (ellipsoid, box, capped cylinder,
torus, smooth radial bumps); ``symmetric_mesh`` (parts joined with their mirror images,
centred and scaled to the unit sphere); ``render_mesh``, one view of one mesh.

Rendering: perspective camera on the +z axis looking at the origin, y up; a view of yaw v
rotates the object by v about the vertical axis (positive v turns its front towards the
viewer's right). Lambertian (Gouraud) shading with the light in the camera's vertical plane,
so that the image at +v of a left-right symmetric mesh is exactly the mirror image of the
one at -v. A z-buffer rasterizer compiled with numba does the work when numba is installed
(compiled on first use); the same plain-Python function gives the same images, slowly; 2x
supersampling; uniform gray background.
"""

from __future__ import annotations

import functools
from collections.abc import Callable, Sequence
from typing import TYPE_CHECKING

import numpy as np
import numpy.typing as npt

from .._utils import check_count, check_option
from ..errors import InvalidArgumentError, InvalidTypeError

if TYPE_CHECKING:
    from .._typing import FloatArray

BACKGROUND = 0.5
LIGHT = np.array([0.0, 0.55, 1.0]) / np.linalg.norm([0.0, 0.55, 1.0])  # camera frame, x = 0


class Mesh:
    """Triangle mesh: vertices (V, 3), faces (F, 3) int, per-vertex albedo (V,) in [0, 1]."""

    def __init__(self, vertices: npt.ArrayLike, faces: npt.ArrayLike, albedo: npt.ArrayLike) -> None:
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
    def join(meshes: Sequence[Mesh]) -> Mesh:
        """One mesh holding all of ``meshes``."""
        offsets = np.cumsum([0] + [len(m.vertices) for m in meshes[:-1]])
        return Mesh(
            np.concatenate([m.vertices for m in meshes]),
            np.concatenate([m.faces + o for m, o in zip(meshes, offsets, strict=True)]),
            np.concatenate([m.albedo for m in meshes]),
        )

    def transformed(
        self,
        *,
        scale: npt.ArrayLike = (1, 1, 1),
        rotate_deg: Sequence[float] | FloatArray = (0, 0, 0),
        translate: npt.ArrayLike = (0, 0, 0),
    ) -> Mesh:
        """Scale, then rotate about x, y, z (degrees, in that order), then translate."""
        vertices = self.vertices * np.asarray(scale, dtype=float)
        vertices = vertices @ rotation(*rotate_deg).T + np.asarray(translate, dtype=float)
        return Mesh(vertices, self.faces, self.albedo)

    def reflected(self, axis: int) -> Mesh:
        """Mirror image through the plane normal to ``axis`` (0 = x, 2 = z); winding kept outward."""
        vertices = self.vertices.copy()
        vertices[:, axis] *= -1
        return Mesh(vertices, self.faces[:, ::-1], self.albedo)


def rotation(rx: float, ry: float, rz: float) -> FloatArray:
    """(3, 3) rotation about x, then y, then z, by angles in degrees."""
    ax, ay, az = np.radians([rx, ry, rz])
    x = np.array([[1, 0, 0], [0, np.cos(ax), -np.sin(ax)], [0, np.sin(ax), np.cos(ax)]])
    y = np.array([[np.cos(ay), 0, np.sin(ay)], [0, 1, 0], [-np.sin(ay), 0, np.cos(ay)]])
    z = np.array([[np.cos(az), -np.sin(az), 0], [np.sin(az), np.cos(az), 0], [0, 0, 1]])
    return z @ y @ x


def _outward(vertices: np.ndarray, faces: np.ndarray, *, star_shaped: bool = True) -> np.ndarray:
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


def _grid_faces(rows: int, columns: int, *, wrap: bool = True) -> np.ndarray:
    """Quads of a (rows x columns) vertex grid as triangles; columns wrap around when ``wrap``."""
    faces: list[tuple[int, int, int]] = []
    for i in range(rows - 1):
        for j in range(columns if wrap else columns - 1):
            a, b = i * columns + j, i * columns + (j + 1) % columns
            c, d = a + columns, b + columns
            faces += [(a, c, b), (b, c, d)]
    return np.array(faces)


def ellipsoid(
    radii: npt.ArrayLike = (1, 1, 1),
    *,
    albedo: npt.ArrayLike = 0.7,
    segments: int = 24,
    rings: int = 12,
    bumps: Callable[[np.ndarray], np.ndarray] | None = None,
) -> Mesh:
    """UV sphere scaled to ``radii``; ``bumps(direction (N, 3)) -> (N,)`` scales the radius."""
    segments, rings = check_count("segments", segments, minimum=3), check_count("rings", rings, minimum=2)
    theta = np.linspace(0, np.pi, rings + 1)  # pole to pole
    phi = np.arange(segments) * 2 * np.pi / segments  # symmetric under x -> -x for even segments
    t, p = np.meshgrid(theta, phi, indexing="ij")
    directions = np.stack([np.sin(t) * np.cos(p), np.cos(t), np.sin(t) * np.sin(p)], axis=-1).reshape(-1, 3)
    radius = 1.0 if bumps is None else bumps(directions)[:, None]
    vertices = directions * radius * np.asarray(radii, dtype=float)
    return Mesh(vertices, _outward(vertices, _grid_faces(rings + 1, segments)), albedo)


def box(size: npt.ArrayLike = (1, 1, 1), *, albedo: npt.ArrayLike = 0.7) -> Mesh:
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


def cylinder(radius: float = 0.5, height: float = 1.0, *, albedo: npt.ArrayLike = 0.7, segments: int = 20) -> Mesh:
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


def torus(
    major: float = 0.5, minor: float = 0.15, *, albedo: npt.ArrayLike = 0.7, segments: int = 24, sides: int = 10
) -> Mesh:
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


def smooth_bumps(
    rng: np.random.Generator, *, amplitude: float = 0.15, n_waves: int = 6
) -> Callable[[np.ndarray], np.ndarray]:
    """A random smooth radial displacement: sum of a few low-frequency waves on the sphere."""
    n_waves = check_count("n_waves", n_waves)
    axes = rng.standard_normal((n_waves, 3))
    axes /= np.linalg.norm(axes, axis=1, keepdims=True)
    frequencies = rng.uniform(1.0, 3.0, n_waves)
    phases = rng.uniform(0, 2 * np.pi, n_waves)
    weights = rng.uniform(-1, 1, n_waves) * amplitude / np.sqrt(n_waves)
    return lambda d: 1.0 + np.sin(d @ axes.T * frequencies + phases) @ weights


def symmetric_mesh(parts: Sequence[Mesh], planes: int) -> Mesh:
    """Parts joined into one mesh closed under its symmetry planes, centred, fitting the unit sphere.

    Args:
        parts: list of ``Mesh``, the half (or quarter) an object is built from.
        planes: 0 (kept as built), 1 (joined with its mirror image under x -> -x) or 2 (also
            under z -> -z); the centre is kept on those planes.
    """
    mesh = Mesh.join(parts)
    if planes >= 1:
        mesh = Mesh.join([mesh, mesh.reflected(0)])
    if planes == 2:
        mesh = Mesh.join([mesh, mesh.reflected(2)])
    low, high = mesh.vertices.min(axis=0), mesh.vertices.max(axis=0)
    centre = (low + high) / 2
    if planes >= 1:
        centre[0] = 0.0
    if planes == 2:
        centre[2] = 0.0
    vertices = mesh.vertices - centre
    vertices /= np.linalg.norm(vertices, axis=1).max()
    return Mesh(vertices, mesh.faces, mesh.albedo)


def draw(rng: np.random.Generator, low: float, high: float) -> float:
    """One uniform draw in [low, high) from ``rng``, as a Python float (the part builders' unit)."""
    return float(rng.uniform(low, high))


def check_views(views_deg: npt.ArrayLike) -> FloatArray:
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


def render_mesh(
    mesh: Mesh,
    yaw_deg: float,
    *,
    size: int = 227,
    supersample: int = 2,
    camera_distance: float = 4.0,
    fill: float = 0.85,
    elevation_deg: float = 0.0,
    light: npt.ArrayLike | None = None,
    backend: str = "auto",
) -> tuple[npt.NDArray[np.float32], npt.NDArray[np.float32]]:
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
    compiled = _compiled_rasterizer() if backend in ("auto", "numba") else None
    if backend == "numba" and compiled is None:
        raise ImportError("backend='numba' needs numba: pip install rsa_mirror[models]")
    rasterize = compiled or _rasterize
    vertices = mesh.vertices @ rotation(0, yaw_deg, 0).T
    if elevation_deg:
        vertices = vertices @ rotation(elevation_deg, 0, 0).T
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


def _vertex_normals(vertices: np.ndarray, faces: np.ndarray) -> np.ndarray:
    """Area-weighted vertex normals (outward for outward-wound faces)."""
    a, b, c = (vertices[faces[:, k]] for k in range(3))
    face_normals = np.cross(b - a, c - a)
    normals = np.zeros_like(vertices)
    for k in range(3):
        np.add.at(normals, faces[:, k], face_normals)
    length = np.linalg.norm(normals, axis=1, keepdims=True)
    return normals / np.where(length > 0, length, 1.0)


def _rasterize(
    px: np.ndarray,
    py: np.ndarray,
    depth: np.ndarray,
    shade: np.ndarray,
    faces: np.ndarray,
    height: int,
    width: int,
    background: float,
) -> tuple[np.ndarray, np.ndarray]:
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


@functools.cache
def _compiled_rasterizer() -> Callable[..., tuple[np.ndarray, np.ndarray]] | None:
    """``_rasterize`` compiled with numba (cached on disk), or None when numba is not installed."""
    try:
        import numba
    except ImportError:
        return None
    return numba.njit(cache=True)(_rasterize)
