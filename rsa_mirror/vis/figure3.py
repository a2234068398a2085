"""Figure 3: invariance and equivariance per layer and transform.

Each function draws what an analysis already computed and returns the matplotlib ``Figure``.
"""

from __future__ import annotations

import matplotlib.pyplot as plt
import numpy as np


def plot_equivariance(tables, *, axes=None):
    """Figure 3: invariance and equivariance across layers for each transform.

    Args:
        tables: mapping label -> table of ``measure_equivariance`` (columns layer, transform,
            measure, mean, sem); one row of two panels (invariance, equivariance) per label.
        axes: (n_labels, 2) matplotlib Axes to draw into; default a new figure.

    Returns:
        The ``Figure``.
    """
    if axes is None:
        _, axes = plt.subplots(len(tables), 2, figsize=(9.0, 3.2 * len(tables)), squeeze=False, layout="constrained")
    axes = np.asarray(axes).reshape(len(tables), 2)
    fig = axes[0][0].figure
    for row, (label, table) in zip(axes, tables.items(), strict=True):
        layers = list(dict.fromkeys(table["layer"]))
        for panel, measure in zip(row, ("invariance", "equivariance"), strict=True):
            for transform in dict.fromkeys(table["transform"]):
                rows = table[(table["measure"] == measure) & (table["transform"] == transform)].set_index("layer")
                rows = rows.reindex([layer for layer in layers if layer in rows.index])
                panel.errorbar(
                    rows.index, rows["mean"], yerr=rows["sem"], marker="o", markersize=3, capsize=2, label=transform
                )
            panel.set_title(f"{label}: {measure}", fontsize=9)
            panel.set_ylim(-0.1, 1.05)
            panel.tick_params(axis="x", labelrotation=45, labelsize=7)
        row[0].legend(fontsize=7)
    return fig
