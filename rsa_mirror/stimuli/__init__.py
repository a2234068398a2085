"""Stimulus sets, numpy only: ``StimulusSet``, loaders, meshes, the nine object categories, faces."""

from .base import TRANSFORMS, StimulusSet, transform_maps
from .faces import FACE_MESH_PATH, FIV_YAW_DEG, face_identity, fetch_face_mesh, load_face_mesh, render_faces
from .io import MAT_LAYOUTS, load_stimuli
from .mesh import BACKGROUND, Mesh, box, cylinder, ellipsoid, render_mesh, smooth_bumps, symmetric_mesh, torus
from .objects import CATEGORIES, GEOMETRIES, PAPER_VIEWS_DEG, SYMMETRY_PLANES, build_object, render_objects
from .photos import NATURAL_SCENES, natural_images, noise_images

__all__ = [
    "BACKGROUND",
    "CATEGORIES",
    "FACE_MESH_PATH",
    "FIV_YAW_DEG",
    "GEOMETRIES",
    "MAT_LAYOUTS",
    "Mesh",
    "NATURAL_SCENES",
    "PAPER_VIEWS_DEG",
    "SYMMETRY_PLANES",
    "StimulusSet",
    "TRANSFORMS",
    "box",
    "build_object",
    "cylinder",
    "ellipsoid",
    "face_identity",
    "fetch_face_mesh",
    "load_face_mesh",
    "load_stimuli",
    "natural_images",
    "noise_images",
    "render_faces",
    "render_mesh",
    "render_objects",
    "smooth_bumps",
    "symmetric_mesh",
    "torus",
    "transform_maps",
]
