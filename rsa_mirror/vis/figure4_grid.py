"""The Figure 4 grid: the face index of fc1 and fc2 per cell, with t-intervals and each seed.

Draws what ``studies.figure4_grid`` (module ``studies.grid``) computed (its ``GridResult``) and returns the ``Figure``.
Under each cell, "n = k/N" says how many of its N networks have an index in that layer (a
layer silent on the faces has none); a cell with none says "no index" where its mean would be.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

import matplotlib.pyplot as plt
import numpy as np

if TYPE_CHECKING:
    from matplotlib.figure import Figure, SubFigure

    from .._typing import AxesSequence
    from ..studies.grid import GridResult

_LAYERS = {"fc1": "face_fc1", "fc2": "face_fc2"}
_COLORS = {"bilateral": "C0", "chiral": "C3"}


def plot_figure4_grid(
    result: GridResult,
    *,
    chance_level: float | None = None,
    level: float = 0.95,
    axes: AxesSequence | None = None,
) -> Figure | SubFigure:
    """One panel per fc layer: every cell's mean face index, its t-interval, and each network.

    Args:
        result: ``GridResult`` (its ``summary`` and ``networks``).
        chance_level: the index of a view-invariant representation, drawn as a labelled line
            (``symmetry.msvt_chance_level(n_views)``); None: no line.
        level: the interval's level, for the legend (the summary's intervals are 95%).
        axes: two Axes; default a new figure.

    Returns:
        The ``Figure``.
    """
    if axes is None:
        _, axes = plt.subplots(1, 2, figsize=(11, 4.2), sharey=True, layout="constrained")
    summary, networks = result.summary, result.networks
    cells = list(dict.fromkeys(zip(summary["geometry"], summary["regime"], strict=True)))
    x = np.arange(len(cells))
    for ax, (layer, metric) in zip(axes, _LAYERS.items(), strict=True):
        rows = summary[summary["metric"] == metric].set_index(["geometry", "regime"]).reindex(cells)
        for i, (geometry, regime) in enumerate(cells):
            color = _COLORS.get(geometry, "C7")
            mean, low, high = rows.loc[(geometry, regime), ["mean", "ci_low", "ci_high"]]
            ax.errorbar(
                i, mean, yerr=[[mean - low], [high - mean]], fmt="o", color=color, capsize=4, markersize=7, zorder=3
            )
            seeds = networks[(networks["geometry"] == geometry) & (networks["regime"] == regime)][metric]
            jitter = np.linspace(-0.12, 0.12, len(seeds)) if len(seeds) > 1 else np.zeros(len(seeds))
            ax.scatter(i + 0.25 + jitter, seeds, s=12, color=color, alpha=0.6, zorder=2)
            n = int(np.isfinite(seeds.to_numpy(dtype=float)).sum())
            ax.text(i, 0.02, f"n = {n}/{len(seeds)}", transform=ax.get_xaxis_transform(), ha="center", fontsize=6)
            if n == 0:
                ax.text(i, 0.5, "no index", transform=ax.get_xaxis_transform(), ha="center", rotation=90,
                        fontsize=7, color=color)  # fmt: skip
        if chance_level is not None:
            ax.axhline(chance_level, color="gray", linestyle=":", linewidth=1)
        ax.axhline(0, color="black", linewidth=0.5)
        ax.set_xticks(x, [f"{g}\n{r.replace('_', ' ')}" for g, r in cells], fontsize=7, rotation=30, ha="right")
        ax.set_title(f"faces in {layer}")
        ax.set_xlabel("training geometry and label regime")
    axes[0].set_ylabel("mirror-symmetric viewpoint\ntuning index (mean over faces)")
    handles = [
        plt.Line2D([], [], color="C0", marker="o", linestyle="", label=f"bilateral: mean, {level:.0%} t-interval"),
        plt.Line2D([], [], color="C3", marker="o", linestyle="", label=f"chiral: mean, {level:.0%} t-interval"),
        plt.Line2D([], [], color="gray", marker="o", markersize=4, linestyle="", alpha=0.6, label="one network (seed)"),
    ]
    if chance_level is not None:
        handles.append(plt.Line2D([], [], color="gray", linestyle=":", label=f"view-invariant ({chance_level:.3f})"))
    axes[1].legend(handles=handles, fontsize=7, loc="best")
    return axes[0].figure
