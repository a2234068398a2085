"""The model sweep's figure: per patch, every network's layers against their depth, with the ceiling band.

Draws what ``SweepResult.summary`` already holds and returns the matplotlib ``Figure``.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

import matplotlib.pyplot as plt

if TYPE_CHECKING:
    from matplotlib.figure import Figure, SubFigure

    from .._typing import AxesSequence
    from ..studies.sweep import SweepResult


def plot_sweep(
    result: SweepResult, *, axes: AxesSequence | None = None, alpha: float = 0.05, test: str = "percentile"
) -> Figure | SubFigure:
    """One panel per patch: r of every layer of every network, against the layer's relative depth.

    Args:
        result: ``SweepResult``.
        axes: one matplotlib Axes per patch; default a new figure.
        alpha: FDR level of the tests against the best layer of the patch.
        test: ``"percentile"`` or ``"t"`` (``pair_tests``).

    Returns:
        The ``Figure``. Each network is a line from its first preset layer (depth 0) to its
        last (depth 1), error bars the bootstrap standard deviation; the gray band is the
        patch's noise ceiling (lower to upper bound). The best layer of the patch over all
        networks is a star (named in the panel's title); open circles are layers below it
        (paired bootstrap test, q < ``alpha``), filled ones layers not shown to be below it.
    """
    table = result.summary(test=test)
    patches = list(dict.fromkeys(table.patch))
    if axes is None:
        _, axes = plt.subplots(
            1, len(patches), figsize=(4.2 * len(patches), 3.6), sharey=True, squeeze=False, layout="constrained"
        )
        axes = axes[0]
    networks = list(dict.fromkeys(table.model))
    for ax, patch in zip(axes, patches, strict=True):
        rows = table[table.patch == patch]
        ax.axhspan(rows.ceiling_lower.iloc[0], rows.ceiling_upper.iloc[0], color="0.85", label="noise ceiling")
        for k, network in enumerate(networks):
            part = rows[rows.model == network]
            x, r = part.relative_depth.to_numpy(), part.estimate.to_numpy()
            color = f"C{k}"
            ax.errorbar(x, r, yerr=part["std"].to_numpy(), color=color, capsize=2, linewidth=1, label=network)
            below = ~part.best.to_numpy() & (part.q_vs_best.to_numpy() < alpha)
            ax.plot(x[~below], r[~below], "o", color=color, markersize=4)
            ax.plot(x[below], r[below], "o", mfc="white", color=color, markersize=4)
        best = rows[rows.best].iloc[0]
        ax.plot(best.relative_depth, best.estimate, "*", color="black", markersize=12, label="best layer")
        ax.axhline(0, color="gray", linewidth=0.6)
        ax.set_xlim(-0.05, 1.05)
        ax.set_xlabel("relative layer depth (first preset layer 0, last 1)")
        ax.set_title(f"{patch}: best {best.model} {best.layer} (r = {best.estimate:.2f})", fontsize=9)
    method = table.method.iloc[0]
    axes[0].set_ylabel(f"model-brain RDM correlation ({method} r)")
    handles, labels = axes[0].get_legend_handles_labels()
    unique = dict(zip(labels, handles, strict=True))
    axes[0].legend(unique.values(), unique.keys(), fontsize=7, loc="best")
    return axes[0].figure
