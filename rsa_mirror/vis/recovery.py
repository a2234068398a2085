"""The recovery study: how often Figure 6's alignment finds the layer a simulated patch is read out from."""

from __future__ import annotations

from typing import TYPE_CHECKING

import matplotlib.pyplot as plt

if TYPE_CHECKING:
    import pandas as pd
    from matplotlib.axes import Axes
    from matplotlib.figure import Figure, SubFigure


def plot_recovery(summary: pd.DataFrame, *, ax: Axes | None = None) -> Figure | SubFigure:
    """Recovery rate and not-different rate against the noise level, one line per source layer.

    Args:
        summary: ``RecoveryResult.summary()`` (several source layers may be stacked):
            ``source_layer``, ``noise_sd``, ``recovery_rate``, ``not_different_rate``, ``chance``.
        ax: an Axes; default a new figure.

    Returns:
        The ``Figure``.
    """
    if ax is None:
        _, ax = plt.subplots(figsize=(4.8, 3.4), layout="constrained")
    for c, (layer, rows) in enumerate(summary.groupby("source_layer", sort=False)):
        ax.plot(rows["noise_sd"], rows["recovery_rate"], "-o", color=f"C{c}", label=f"{layer}: best layer")
        ax.plot(rows["noise_sd"], rows["not_different_rate"], ":s", color=f"C{c}", label=f"{layer}: not different")
    ax.axhline(summary["chance"].iloc[0], color="gray", linestyle="--", linewidth=1, label="chance")
    ax.set_xscale("symlog", linthresh=0.5)
    ax.set_ylim(-0.05, 1.05)
    ax.set_xlabel("noise SD / signal SD")
    ax.set_ylabel("share of seeds")
    ax.legend(fontsize=7)
    return ax.figure
