"""Figures, one function per figure type.

Each takes ``axes=None`` (or ``ax=None``), draws what an analysis already computed, and
returns the matplotlib ``Figure``. One module per figure: ``rdms``, ``figure2`` ... ``figure6``,
``figure4_grid``, ``stimuli``, ``projection`` (Figure 2—figure supplement 1), ``supplements``, ``sweep``,
``recovery``.
"""

from .figure2 import plot_msvt_by_layer, plot_msvt_categories
from .figure3 import plot_equivariance
from .figure4 import plot_control_networks, plot_training_curves
from .figure4_grid import plot_figure4_grid
from .figure5 import plot_importance_study
from .figure6 import plot_alignment, plot_shapley
from .projection import plot_projection_symmetry
from .rdms import plot_rdms, plot_view_rdms
from .recovery import plot_recovery
from .stimuli import plot_contact_sheet
from .supplements import (
    plot_category_invariance,
    plot_equivariance_distribution,
    plot_normalization,
    plot_pooling,
    plot_shift,
    plot_weight_symmetry,
)
from .sweep import plot_sweep

__all__ = [
    "plot_rdms",
    "plot_view_rdms",
    "plot_msvt_by_layer",
    "plot_msvt_categories",
    "plot_equivariance",
    "plot_control_networks",
    "plot_training_curves",
    "plot_figure4_grid",
    "plot_importance_study",
    "plot_alignment",
    "plot_shapley",
    "plot_sweep",
    "plot_contact_sheet",
    "plot_projection_symmetry",
    "plot_recovery",
    "plot_pooling",
    "plot_normalization",
    "plot_shift",
    "plot_equivariance_distribution",
    "plot_category_invariance",
    "plot_weight_symmetry",
]
