"""Figure 2—figure supplement 1: symmetry of the 2-D projections, and the pixel-level index.

Each function draws what an analysis already computed and returns the matplotlib ``Figure``.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

import matplotlib.pyplot as plt
import numpy as np

from ._style import draw_chance, legend_outside

if TYPE_CHECKING:
    from matplotlib.figure import Figure, SubFigure

    from .._typing import AxesSequence
    from ..projection_symmetry import ProjectionSymmetryResult


def plot_projection_symmetry(
    result: ProjectionSymmetryResult,
    *,
    key: str = "category",
    chance_level: float | None = None,
    axes: AxesSequence | None = None,
) -> Figure | SubFigure:
    """Best reflection-axis score per view (left) and the pixel-level index (right), per category.

    Args:
        result: ``ProjectionSymmetryResult`` (``rsa_mirror.projection_symmetry``).
        key: descriptor grouping the lines and bars (default ``category``).
        chance_level: dashed reference in the right panel (``msvt_chance_level(n_views)``),
            labelled with its number of views.
        axes: two matplotlib Axes to draw into; default a new figure.

    Returns:
        The ``Figure``: bars are the mean index over each group's objects ± SEM; the left
        panel's legend sits right of it, off the lines.
    """
    if axes is None:
        _, axes = plt.subplots(1, 2, figsize=(10.0, 3.6), layout="constrained", width_ratios=(1.3, 1))
    left, right = axes
    by_view = result.by_view(key=key)
    views = np.asarray(by_view.columns, dtype=float)
    for label, row in by_view.iterrows():
        left.plot(views, row.to_numpy(), marker="o", markersize=3, label=str(label))
    left.set_xticks(views, [f"{v:g}" for v in views], rotation=45)
    left.set_ylim(-0.05, 1.05)
    left.set_xlabel("view (yaw, degrees)")
    left.set_ylabel("image vs its reflection, r\n(best vertical axis)")
    legend_outside(left, title=key)
    summary = result.pixel_index(key=key)
    positions = np.arange(len(summary))
    right.bar(positions, summary["msvt_mean"], yerr=summary["msvt_sem"].fillna(0.0), capsize=2, color="0.6")
    right.set_xticks(positions, [str(label) for label in summary.index], rotation=45, ha="right")
    if chance_level is not None:
        draw_chance(right, chance_level)
        right.legend(fontsize=7, loc="upper right")
    right.axhline(0.0, color="black", linewidth=0.5)
    right.set_ylim(-1.05, 1.05)
    right.set_ylabel("MSVT index of the pixels\n(mean ± SEM over objects)")
    return left.figure
