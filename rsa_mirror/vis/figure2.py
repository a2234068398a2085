"""Figure 2: the mirror-symmetric viewpoint tuning index by layer and by category.

Each function draws what an analysis already computed and returns the matplotlib ``Figure``.
"""

from __future__ import annotations

import matplotlib.pyplot as plt
import numpy as np


def plot_msvt_by_layer(summaries, *, chance_level=None, ax=None):
    """Index across layers (Figure 2C style): one line per network or category.

    Args:
        summaries: mapping label -> DataFrame indexed by layer (in network order) with
            ``msvt_mean`` and ``msvt_sem`` (``summarize_msvt(table, by=("layer",))``).
        chance_level: draw the index of a view-invariant representation as a dashed line.
        ax: matplotlib Axes to draw into; default a new figure.

    Returns:
        The ``Figure``.
    """
    if ax is None:
        _, ax = plt.subplots(figsize=(6.0, 3.6), layout="constrained")
    for label, summary in summaries.items():
        layers = [str(layer) for layer in summary.index]
        ax.errorbar(layers, summary["msvt_mean"], yerr=summary["msvt_sem"], marker="o", capsize=3, label=label)
    if chance_level is not None:
        ax.axhline(chance_level, color="gray", linestyle="--", linewidth=1, label="view-invariant (chance)")
    ax.set_ylim(-1.05, 1.05)
    ax.set_xlabel("layer")
    ax.set_ylabel("mirror-symmetric viewpoint\ntuning index")
    ax.legend(fontsize=8, loc="lower right")
    return ax.figure


def plot_msvt_categories(tables, *, layer_key="name", chance_level=None, comparison=None, alpha=0.05):
    """Figure 2C: index across layers, one line per category, one panel per network.

    With exactly two networks (e.g. trained and untrained) a third panel shows their
    difference (first minus second) per category, with an asterisk on every layer x category
    cell whose rank-sum test survives the Benjamini-Hochberg FDR (Figure 2-figure supplement
    2B, ``compare_msvt``).

    Args:
        tables: mapping label -> tidy table of ``msvt_by_object`` (columns ``layer_key``,
            ``category``, ``msvt``), layers in network order.
        layer_key: the column naming layers.
        chance_level: dashed reference line (``msvt_chance_level(n_views)``).
        comparison: ``compare_msvt``'s table of the two networks (cells by ``layer_key`` and
            ``category``); default computed here with its defaults (two-sided
            ``scipy.stats.ranksums``); False for no marks.
        alpha: the FDR below which a cell's q value earns an asterisk.

    Returns:
        The ``Figure``.

    Raises:
        InvalidArgumentError: a ``comparison`` given for other than two networks.
    """
    from ..errors import InvalidArgumentError
    from ..symmetry import compare_msvt, summarize_msvt

    summaries = {label: summarize_msvt(table, by=(layer_key, "category")) for label, table in tables.items()}
    panels = list(summaries.items())
    marks = None
    if len(panels) == 2:
        (first, a), (second, b) = panels
        difference = a[["msvt_mean"]] - b[["msvt_mean"]]
        difference["msvt_sem"] = np.sqrt(a["msvt_sem"] ** 2 + b["msvt_sem"] ** 2)
        panels.append((f"{first} minus {second}", difference))
        if comparison is None:
            comparison = compare_msvt(*tables.values(), by=(layer_key, "category"))
        if comparison is not False:
            surviving = comparison[comparison["q"].to_numpy() < alpha]
            marks = set(zip(surviving[layer_key], surviving["category"], strict=True))
    elif comparison is not None and comparison is not False:
        raise InvalidArgumentError(
            f"Invalid value for 'comparison': it marks the difference of two networks, and tables holds {len(panels)}"
        )
    fig, axes = plt.subplots(1, len(panels), figsize=(5.0 * len(panels), 3.8), squeeze=False, layout="constrained")
    for ax, (label, summary) in zip(axes[0], panels, strict=True):
        layers = list(dict.fromkeys(summary.index.get_level_values(0)))
        for category in dict.fromkeys(summary.index.get_level_values(1)):
            rows = summary.xs(category, level=1).reindex(layers)
            line = ax.errorbar(
                layers, rows["msvt_mean"], yerr=rows["msvt_sem"], marker="o", markersize=3, capsize=2, label=category
            )
            if marks is not None and "minus" in label:
                starred = [layer for layer in layers if (layer, category) in marks]
                ax.plot(
                    starred,
                    rows["msvt_mean"].reindex(starred) + rows["msvt_sem"].reindex(starred).fillna(0) + 0.08,
                    linestyle="none",
                    marker="*",
                    markersize=7,
                    color=line.lines[0].get_color(),
                )
        if chance_level is not None and "minus" not in label:
            ax.axhline(chance_level, color="gray", linestyle="--", linewidth=1)
        ax.axhline(0.0, color="black", linewidth=0.5)
        ax.set_title(label, fontsize=9)
        ax.set_ylim(-1.05, 1.05) if "minus" not in label else ax.set_ylim(-2.05, 2.05)
        ax.tick_params(axis="x", labelrotation=45, labelsize=7)
        ax.set_ylabel("MSVT index" if "minus" not in label else "difference")
        if marks is not None and "minus" in label:
            (key,) = ax.plot(
                [], [], linestyle="none", marker="*", color="black", label=f"rank-sum, BH FDR q < {alpha:g}"
            )
            ax.legend(handles=[key], fontsize=7, loc="lower right")
    axes[0][0].legend(fontsize=7, ncol=2)
    return fig
