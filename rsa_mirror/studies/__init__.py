"""One function per figure and the demo: building blocks in, a result out, no files written.

The command line (``rsa-mirror``), the examples and the README call these. The studies that
run networks need torch (``pip install rsa_mirror[models]``) and load on first use.
"""

from .._utils import lazy_exports as _lazy_exports
from .figure6 import AlignmentResult, alignment_study, brain_alignment, rendered_faces
from .patches import PatchResult, patch_study

_LAZY = {
    "MsvtResult": ".figure2",
    "msvt_study": ".figure2",
    "EquivarianceResult": ".figure3",
    "equivariance_study": ".figure3",
    "figure3_images": ".figure3",
    "ControlExperiment": ".figure4",
    "ControlResult": ".figure4",
    "control_experiment": ".figure4",
    "control_msvt": ".figure4",
    "control_network_study": ".figure4",
    "faces_in_fc": ".figure4",
    "ImportanceResult": ".figure5",
    "importance_network": ".figure5",
    "importance_study": ".figure5",
    "DemoResult": ".demo",
    "demo_networks": ".demo",
    "demo_study": ".demo",
}
__getattr__, __dir__ = _lazy_exports(__name__, _LAZY)

__all__ = [
    "AlignmentResult",
    "ControlExperiment",
    "ControlResult",
    "DemoResult",
    "EquivarianceResult",
    "ImportanceResult",
    "MsvtResult",
    "PatchResult",
    "alignment_study",
    "brain_alignment",
    "control_experiment",
    "control_msvt",
    "control_network_study",
    "demo_networks",
    "demo_study",
    "equivariance_study",
    "faces_in_fc",
    "figure3_images",
    "importance_network",
    "importance_study",
    "msvt_study",
    "patch_study",
    "rendered_faces",
]
