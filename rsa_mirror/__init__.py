"""rsa_mirror: RSA of mirror-symmetric viewpoint tuning in face patches and CNNs.

Reproduces the analyses of Farzmahdi et al., eLife 2024, on rsatoolbox Datasets and RDMs.
"""

from .rdm import compute_rdms, compute_view_rdms
from .symmetry import msvt_by_object, msvt_chance_level, msvt_index, summarize_msvt

__version__ = "0.1.0"

__all__ = [
    "compute_rdms",
    "compute_view_rdms",
    "msvt_by_object",
    "msvt_chance_level",
    "msvt_index",
    "summarize_msvt",
    "__version__",
]
