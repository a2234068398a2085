"""rsa_mirror: RSA of mirror-symmetric viewpoint tuning in face patches and CNNs.

Reproduces the analyses of Farzmahdi et al., eLife 2024, on rsatoolbox Datasets and RDMs.
The names that need torch (``extract_activations``, ``model_view_rdms``,
``measure_equivariance``, ``load_model``) are imported on first use, so ``import rsa_mirror``
for recordings alone does not pay torch's import (about 3 s and 0.9 GB of memory).
"""

import importlib

from .rdm import compute_rdms, compute_view_rdms
from .stimuli import StimulusSet, load_stimuli
from .symmetry import equivariance, invariance, msvt_by_object, msvt_chance_level, msvt_index, summarize_msvt

__version__ = "0.1.0"

_NEEDS_TORCH = {
    "extract_activations": ".activations",
    "measure_equivariance": ".activations",
    "model_view_rdms": ".activations",
    "load_model": ".models",
}

__all__ = [
    "StimulusSet",
    "compute_rdms",
    "compute_view_rdms",
    "equivariance",
    "extract_activations",
    "invariance",
    "load_model",
    "load_stimuli",
    "measure_equivariance",
    "model_view_rdms",
    "msvt_by_object",
    "msvt_chance_level",
    "msvt_index",
    "summarize_msvt",
    "__version__",
]


def __getattr__(name):
    if name in _NEEDS_TORCH:
        return getattr(importlib.import_module(_NEEDS_TORCH[name], __name__), name)
    raise AttributeError(f"module 'rsa_mirror' has no attribute {name!r}")
