"""rsa_mirror: RSA of mirror-symmetric viewpoint tuning in face patches and CNNs.

Reproduces the analyses of Farzmahdi et al., eLife 2024, on rsatoolbox Datasets and RDMs. The
stages are folders: ``stimuli`` (image sets, numpy only), ``networks`` (everything that needs
torch), the analyses (``rdm``, ``symmetry``, ``inference``, ``shapley``, ``mirror_units``,
``importance``, ``image_edits``), ``studies`` (one function per figure) and ``vis``. The names
that need torch (``load_model``, ``extract_activations``, ``model_view_rdms``, ...) are
imported on first use, so ``import rsa_mirror`` for recordings alone needs neither torch nor
its import time (about 3 s and 0.9 GB of memory); without the ``[models]`` extra they say how
to install it.
"""

from ._utils import lazy_exports as _lazy_exports
from ._version import __version__
from .image_edits import insertion_deletion, shuffle_components
from .inference import BootstrapResult, CeilingResult, bootstrap_compare, leave_one_out_ceiling, split_half_ceiling
from .mirror_units import count_mirror_units, select_mirror_units
from .projection_symmetry import ProjectionSymmetryResult, pixel_msvt, projection_symmetry, reflection_symmetry
from .rdm import compute_rdms, compute_view_rdms, mirror_paired
from .shapley import ShapleyResult, flip_group_components, mirror_components, shapley_decomposition, shapley_weights
from .stimuli import StimulusSet, load_stimuli, natural_images, noise_images, render_faces, render_objects
from .studies import AlignmentResult, PatchResult, alignment_study, brain_alignment, patch_study
from .symmetry import (
    compare_msvt,
    equivariance,
    invariance,
    msvt_by_object,
    msvt_chance_level,
    msvt_index,
    summarize_msvt,
)

_LAZY = {  # torch-backed: pip install rsa_mirror[models]
    "LoadedModel": ".networks.models",
    "load_model": ".networks.models",
    "extract_activations": ".networks.activations",
    "measure_equivariance": ".networks.activations",
    "model_view_rdms": ".networks.activations",
    "stream_activations": ".networks.activations",
    "unit_responses": ".networks.forward",
    "TrainResult": ".networks.training",
    "load_network": ".networks.files",
    "load_shipped_network": ".networks.files",
    "train": ".networks.training",
    "train_many": ".networks.training_many",
    "rise_maps": ".importance",
    "ImportanceResult": ".studies.figure5",
    "importance_study": ".studies.figure5",
}
__getattr__, __dir__ = _lazy_exports(__name__, _LAZY)

__all__ = [
    "AlignmentResult",
    "BootstrapResult",
    "CeilingResult",
    "ImportanceResult",
    "LoadedModel",
    "PatchResult",
    "ProjectionSymmetryResult",
    "ShapleyResult",
    "StimulusSet",
    "TrainResult",
    "__version__",
    "alignment_study",
    "bootstrap_compare",
    "brain_alignment",
    "compare_msvt",
    "compute_rdms",
    "compute_view_rdms",
    "count_mirror_units",
    "equivariance",
    "extract_activations",
    "flip_group_components",
    "importance_study",
    "insertion_deletion",
    "invariance",
    "leave_one_out_ceiling",
    "load_model",
    "load_network",
    "load_shipped_network",
    "load_stimuli",
    "measure_equivariance",
    "mirror_components",
    "mirror_paired",
    "model_view_rdms",
    "msvt_by_object",
    "msvt_chance_level",
    "msvt_index",
    "natural_images",
    "noise_images",
    "patch_study",
    "pixel_msvt",
    "projection_symmetry",
    "render_faces",
    "reflection_symmetry",
    "render_objects",
    "rise_maps",
    "select_mirror_units",
    "shapley_decomposition",
    "shapley_weights",
    "shuffle_components",
    "split_half_ceiling",
    "stream_activations",
    "summarize_msvt",
    "train",
    "train_many",
    "unit_responses",
]
