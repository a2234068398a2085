"""Face stimuli: the real face mesh (fetched, made mirror-symmetric), identities, FIV views.

Also the procedural head used when the mesh has not been fetched (and as the ``face``
category's builder when no template is given).

The mesh is ``menpo3d/data/template.ply`` from the menpo3d 0.8.6 source distribution on PyPI
(BSD-3-Clause, the menpo project): a mean face with ears, 53,349 vertices, 106,111 triangles,
facing +z with y up. ``fetch_face_mesh`` downloads that archive from the package registry
(``pip download`` when the direct download fails), extracts the one file and checks both
SHA-256s; ``make`` runs it during set-up. It writes into the package's data folder, or, when
that is not writable (a system-wide install), into the user's data folder
(``$RSA_MIRROR_DATA``, else ``$XDG_DATA_HOME/rsa_mirror``, else ``~/.local/share/rsa_mirror``),
where ``load_face_mesh`` also looks. Without the file, faces fall back to procedural heads,
with a warning.
"""

from __future__ import annotations

import functools
import hashlib
import io
import os
import subprocess
import sys
import tarfile
import tempfile
import urllib.error
import urllib.request
import warnings
from pathlib import Path
from typing import TYPE_CHECKING

import numpy as np
from scipy.spatial import cKDTree
from tqdm.auto import tqdm

from .._utils import atomic_path, check_count, check_random_state
from ..errors import FileFormatError
from .base import StimulusSet
from .mesh import BACKGROUND, Mesh, check_views, draw, ellipsoid, render_mesh, symmetric_mesh

if TYPE_CHECKING:
    import numpy.typing as npt

    from .._typing import PathLike, RandomState

FACE_MESH_PATH = Path(__file__).parent.parent / "data" / "face_template.ply"
FACE_MESH_SHA256 = "2c9898e9582ac2fd76131e5757f063315cbe8781ffbd036e2bb5f1bd1fa8215e"
MENPO3D = "menpo3d==0.8.6"
MEMBER = "menpo3d-0.8.6/menpo3d/data/template.ply"
ARCHIVE_URL = (
    "https://files.pythonhosted.org/packages/cf/3b/1490a36682e1a5da3703efc1c7af3f1d07c1247477b699b980a3b5eb9a20/"
    "menpo3d-0.8.6.tar.gz"
)
ARCHIVE_SHA256 = "96ad2c8b55b74e026cdc190cf6b1564ad7c8e6c53976cf897d6a1bf4940f084a"
FIV_YAW_DEG = (-90.0, -45.0, 0.0, 45.0, 90.0)


def user_face_mesh_path() -> Path:
    """Where the face mesh goes when the package folder is not writable (module docstring)."""
    if os.environ.get("RSA_MIRROR_DATA"):
        return Path(os.environ["RSA_MIRROR_DATA"]) / "face_template.ply"
    base = os.environ.get("XDG_DATA_HOME") or Path.home() / ".local" / "share"
    return Path(base) / "rsa_mirror" / "face_template.ply"


def fetch_face_mesh(destination: PathLike | None = None, *, archive: PathLike | None = None) -> Path:
    """Get the menpo3d template face mesh into ``destination`` (atomically), checking SHA-256.

    Args:
        destination: where to write the .ply file; None: the package's data folder
            (``FACE_MESH_PATH``) when it can be written, else ``user_face_mesh_path()``.
        archive: a local ``menpo3d-0.8.6.tar.gz``; default: download it from the package
            registry (``ARCHIVE_URL``; ``pip download`` when that fails).

    Returns:
        ``destination`` as a Path.

    Raises:
        RuntimeError: the archive could not be downloaded, or its content has another hash.
        FileFormatError: ``archive`` is not a tar archive holding the template.
    """
    target = Path(destination) if destination is not None else _writable_mesh_path()
    with tempfile.TemporaryDirectory() as folder:
        if archive is None:
            archive = _download_archive(Path(folder))
        try:
            with tarfile.open(archive) as tar:
                member = tar.extractfile(MEMBER)
                if member is None:  # a link or folder of that name
                    raise KeyError(MEMBER)
                data = member.read()
        except (tarfile.TarError, KeyError, EOFError, OSError) as error:
            if isinstance(error, FileNotFoundError):
                raise
            raise FileFormatError(
                f"{archive}: not a readable {MENPO3D} source archive holding {MEMBER} ({type(error).__name__}: {error})"
            ) from error
    digest = hashlib.sha256(data).hexdigest()
    if digest != FACE_MESH_SHA256:
        raise RuntimeError(f"{MEMBER} has SHA-256 {digest}, expected {FACE_MESH_SHA256}; not written")
    target.parent.mkdir(parents=True, exist_ok=True)
    with atomic_path(target) as tmp:
        tmp.write_bytes(data)
    return target


def _writable_mesh_path() -> Path:
    folder = FACE_MESH_PATH.parent
    existing = folder if folder.exists() else folder.parent
    return FACE_MESH_PATH if os.access(existing, os.W_OK) else user_face_mesh_path()


def _download_archive(folder: Path) -> Path:
    """The menpo3d source archive in ``folder``: fetched directly (hash-checked), else by pip."""
    archive = folder / "menpo3d-0.8.6.tar.gz"
    try:
        with urllib.request.urlopen(ARCHIVE_URL, timeout=60) as response:
            data = response.read()
    except (urllib.error.URLError, OSError) as direct_error:
        # pip may reach a mirror of the registry where a direct download cannot; it prepares the
        # archive's metadata in this environment (menpo3d's setup imports numpy).
        command = [sys.executable, "-m", "pip", "download", "--no-deps", "--no-binary", ":all:"]
        command += ["--no-build-isolation", "--quiet", "-d", str(folder), MENPO3D]
        result = subprocess.run(command, capture_output=True, text=True)
        if result.returncode != 0:
            raise RuntimeError(
                f"could not download {MENPO3D}: directly ({direct_error}) nor with pip "
                f"({result.stderr.strip()[-300:]}). Download {ARCHIVE_URL} by hand and run "
                "'rsa-mirror fetch-face-mesh --archive FILE'"
            ) from None
        return next(folder.glob("menpo3d-*.tar.gz"))
    digest = hashlib.sha256(data).hexdigest()
    if digest != ARCHIVE_SHA256:
        raise RuntimeError(f"{ARCHIVE_URL} has SHA-256 {digest}, expected {ARCHIVE_SHA256}; not used")
    archive.write_bytes(data)
    return archive


@functools.lru_cache(maxsize=2)
def load_face_mesh(path: PathLike | None = None) -> Mesh:
    """The template face, exactly mirror-symmetric, centred and scaled to the unit sphere.

    ``path`` None: ``FACE_MESH_PATH``, else ``user_face_mesh_path()``, whichever exists.

    Symmetrization: each vertex is averaged with the mirror image of its nearest mirrored
    neighbour; then the right half (faces with centroid x >= -0.5 % of the width) is kept and
    joined with its mirror image, so that x -> -x maps the mesh onto itself.

    Raises:
        FileNotFoundError: no mesh at ``path``; the message says how to fetch it.
        FileFormatError: a file that is not a triangle mesh in PLY format.
    """
    from plyfile import PlyData

    if path is None:
        found = [place for place in (FACE_MESH_PATH, user_face_mesh_path()) if place.exists()]
        if not found:
            raise FileNotFoundError(
                f"no face mesh at {FACE_MESH_PATH} or {user_face_mesh_path()}: run 'rsa-mirror fetch-face-mesh' "
                "(part of 'make')"
            )
        path = found[0]
    path = Path(path)
    if not path.exists():
        raise FileNotFoundError(f"no face mesh at {path}: run 'rsa-mirror fetch-face-mesh' (part of 'make')")
    try:
        ply = PlyData.read(io.BytesIO(path.read_bytes()))
        vertices = np.stack([ply["vertex"][k] for k in "xyz"], axis=1).astype(np.float64)
        faces = np.stack(ply["face"]["vertex_indices"]).astype(np.int64)
    except Exception as error:  # plyfile raises PlyParseError, KeyError, ValueError, ... for other files
        raise FileFormatError(
            f"{path}: not a triangle mesh in PLY format ({type(error).__name__}: {error}); fetch it again with "
            "'rsa-mirror fetch-face-mesh'"
        ) from error
    if faces.ndim != 2 or faces.shape[1] != 3 or len(vertices) == 0:
        raise FileFormatError(f"{path}: expected vertices and triangles, got faces of shape {faces.shape}")
    vertices -= (vertices.min(axis=0) + vertices.max(axis=0)) / 2
    mirrored = vertices * [-1, 1, 1]
    partner = cKDTree(mirrored).query(vertices)[1]
    vertices = (vertices + mirrored[partner]) / 2
    width = np.ptp(vertices[:, 0])
    right = faces[vertices[faces].mean(axis=1)[:, 0] >= -0.005 * width]
    half = Mesh(vertices, right, 0.7)
    mesh = Mesh.join([half, half.reflected(0)])
    return Mesh(mesh.vertices / np.linalg.norm(mesh.vertices, axis=1).max(), mesh.faces, mesh.albedo)


def face_identity(
    mesh: Mesh, rng: RandomState, *, n_bumps: int = 12, amplitude: float = 0.05, width: float = 0.3
) -> Mesh:
    """A new identity: random global proportions and smooth, left-right symmetric bumps.

    The displacement is a sum of Gaussian bumps (``n_bumps`` random centres on the face, each
    with a random 3D offset of size about ``amplitude``, spatial scale ``width``) and their
    mirror images, so a symmetric mesh stays exactly symmetric.
    """
    n_bumps = check_count("n_bumps", n_bumps, minimum=0)
    rng = check_random_state(rng)
    vertices = mesh.vertices * rng.uniform(0.9, 1.1, 3)
    centres = vertices[rng.integers(len(vertices), size=n_bumps)]
    offsets = rng.normal(0.0, amplitude, (n_bumps, 3))
    reflect = np.array([-1.0, 1.0, 1.0])
    displacement = np.zeros_like(vertices)
    for centre, offset in zip(centres, offsets, strict=True):
        for c, o in ((centre, offset), (centre * reflect, offset * reflect)):
            weight = np.exp(-np.sum((vertices - c) ** 2, axis=1) / (2 * width**2))
            displacement += weight[:, None] * o / 2
    return Mesh(vertices + displacement, mesh.faces, mesh.albedo)


def face_template(*, stacklevel: int = 2, instead: str = "faces are procedural heads instead") -> Mesh | None:
    """The real face mesh when fetched, else None (procedural heads), with a warning saying so."""
    try:
        return load_face_mesh()
    except FileNotFoundError as error:
        warnings.warn(f"{error}; {instead}", UserWarning, stacklevel=stacklevel + 1)
        return None


def face_parts(rng: np.random.Generator) -> list[Mesh]:
    """The parts of a procedural head (half a face: ``symmetric_mesh(parts, 1)`` mirrors it)."""
    width, height, depth = draw(rng, 0.7, 0.85), draw(rng, 0.95, 1.15), draw(rng, 0.8, 0.95)
    skin = draw(rng, 0.6, 0.8)
    parts = [ellipsoid((width, height, depth), albedo=skin, segments=32, rings=16)]
    eye_x, eye_y = draw(rng, 0.22, 0.32), draw(rng, 0.1, 0.25)
    eye_z = depth * np.sqrt(max(0.05, 1 - (eye_x / width) ** 2 - (eye_y / height) ** 2)) - 0.05
    parts.append(ellipsoid((0.11, 0.07, 0.05), albedo=0.15).transformed(translate=(eye_x, eye_y, eye_z)))
    parts.append(ellipsoid((0.14, 0.04, 0.05), albedo=skin * 0.6).transformed(translate=(eye_x, eye_y + 0.17, eye_z)))
    nose = draw(rng, 0.15, 0.3)
    parts.append(ellipsoid((0.1, 0.22, nose), albedo=skin).transformed(translate=(0.0, -0.05, depth - 0.05)))
    parts.append(ellipsoid((0.22, 0.05, 0.06), albedo=skin * 0.5).transformed(translate=(0.0, -0.45, depth * 0.8)))
    parts.append(ellipsoid((0.1, 0.22, 0.12), albedo=skin).transformed(translate=(width, 0.0, -0.05)))
    if rng.random() < 0.6:  # hair
        parts.append(
            ellipsoid((width * 1.05, height * 0.6, depth * 1.02), albedo=0.25).transformed(translate=(0, 0.45, -0.08))
        )
    return parts


def render_faces(
    *,
    n_identities: int = 25,
    views_deg: npt.ArrayLike = FIV_YAW_DEG,
    size: int = 227,
    equalize_luminance: bool = True,
    random_state: RandomState = None,
    verbose: bool = False,
) -> StimulusSet:
    """FIV-like face set: n_identities x views of the template face with symmetric deformations.

    Args:
        n_identities: number of identities (25 in the FIV set).
        views_deg: yaw views, left to right (default the five FIV yaw views).
        size: image size in pixels.
        equalize_luminance: match foreground mean and std across images (as the paper did).
        random_state: int or Generator; the same seed gives the same identities.
        verbose: progress bar.

    Returns:
        ``StimulusSet`` in identity-major order with descriptors ``object`` ('face_07'),
        ``category`` ('face'), ``identity``, ``view_deg`` and ``mesh`` ('menpo3d template' or
        'procedural' when the mesh file is absent).

    Raises:
        InvalidArgumentError: a count below 1, or views that are not distinct finite yaws.
    """
    n_identities, size = check_count("n_identities", n_identities), check_count("size", size)
    views_deg = check_views(views_deg)
    rng = check_random_state(random_state)
    template = face_template(instead="rendering procedural heads instead")
    source = "procedural" if template is None else "menpo3d template"
    images, masks, rows = [], [], []
    for identity in tqdm(range(n_identities), desc="faces", disable=not verbose):
        mesh = face_identity(template, rng) if template is not None else symmetric_mesh(face_parts(rng), 1)
        for view in views_deg:
            image, coverage = render_mesh(mesh, view, size=size)
            images.append(image)
            masks.append(coverage > 0.5)
            rows.append((f"face_{identity:02d}", identity, float(view)))
    objects, identities, views = (np.array(column) for column in zip(*rows, strict=True))
    descriptors = {
        "object": objects,
        "category": np.full(len(rows), "face"),
        "identity": identities,
        "view_deg": views,
        "mesh": np.full(len(rows), source),
    }
    stimuli = StimulusSet(np.stack(images), descriptors, BACKGROUND, np.stack(masks))
    return stimuli.equalize_luminance() if equalize_luminance else stimuli
