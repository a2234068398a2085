"""Figure 2: the mirror-symmetric viewpoint tuning index by layer and by category.

Each function draws what an analysis already computed and returns the matplotlib ``Figure``.
Layers sit at evenly spaced ticks in network order; a layer without any index (its units all
silent) keeps its tick, marked "(n/a)", and its points are a gap.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import TYPE_CHECKING, Any, Literal

import matplotlib.pyplot as plt
import numpy as np

from ._style import draw_chance, layer_axis, legend_outside, missing_layers

if TYPE_CHECKING:
    import pandas as pd
    from matplotlib.axes import Axes
    from matplotlib.figure import Figure, SubFigure


def plot_msvt_by_layer(
    summaries: Mapping[str, pd.DataFrame],
    *,
    chance_level: float | None = None,
    ax: Axes | None = None,
    over: str = "objects",
) -> Figure | SubFigure:
    """Index across layers (Figure 2C style): one line per network or category.

    Args:
        summaries: mapping label -> DataFrame indexed by layer (in network order) with
            ``msvt_mean`` and ``msvt_sem`` (``summarize_msvt(table, by=("layer",))``).
        chance_level: draw the index of a view-invariant representation as a dashed line,
            labelled with its number of views (``msvt_chance_level(n_views)``).
        ax: matplotlib Axes to draw into; default a new figure.
        over: what the standard error is taken over, for the legend's title ("objects",
            "identities", ...; ``summarize_msvt`` averages over the table's ``object`` column).

    Returns:
        The ``Figure``: error bars are mean ± SEM over ``over`` (the legend's title says so),
        the legend sits right of the axes.
    """
    if ax is None:
        _, ax = plt.subplots(figsize=(7.2, 3.6), layout="constrained")
    layers = list(dict.fromkeys(str(layer) for summary in summaries.values() for layer in summary.index))
    means = []
    for label, summary in summaries.items():
        rows = summary.set_axis([str(layer) for layer in summary.index]).reindex(layers)
        ax.errorbar(
            np.arange(len(layers)), rows["msvt_mean"], yerr=rows["msvt_sem"], marker="o", capsize=3, label=label
        )
        means.append(rows["msvt_mean"].to_numpy())
    draw_chance(ax, chance_level)
    ax.set_ylim(-1.05, 1.05)
    layer_axis(ax, layers, missing_layers(np.column_stack(means), layers), fontsize=8)
    ax.set_ylabel("mirror-symmetric viewpoint\ntuning index")
    legend_outside(ax, fontsize=8, title=f"mean ± SEM over {over}")
    return ax.figure


def plot_msvt_categories(
    tables: Mapping[str, pd.DataFrame],
    *,
    layer_key: str = "name",
    chance_level: float | None = None,
    comparison: pd.DataFrame | Literal[False] | None = None,
    alpha: float = 0.05,
) -> Figure:
    """Figure 2C: index across layers, one line per category, one panel per network.

    With exactly two networks (e.g. trained and untrained) a third panel shows their
    difference (first minus second) per category, with an asterisk on every layer x category
    cell whose rank-sum test survives the Benjamini-Hochberg FDR (Figure 2-figure supplement
    2B, ``compare_msvt``).

    Args:
        tables: mapping label -> tidy table of ``msvt_by_object`` (columns ``layer_key``,
            ``category``, ``msvt``), layers in network order.
        layer_key: the column naming layers.
        chance_level: dashed reference line (``msvt_chance_level(n_views)``), labelled with
            its number of views.
        comparison: ``compare_msvt``'s table of the two networks (cells by ``layer_key`` and
            ``category``); default computed here with its defaults (two-sided
            ``scipy.stats.ranksums``); False for no marks.
        alpha: the FDR below which a cell's q value earns an asterisk.

    Returns:
        The ``Figure``: per panel the mean ± SEM over each category's exemplars (the
        difference panel: difference of the means ± the root sum of squares of the two
        SEMs); one legend, right of the last panel. A layer without any index keeps its tick
        ("(n/a)") and is a gap.

    Raises:
        InvalidArgumentError: a ``comparison`` given for other than two networks.
    """
    from ..errors import InvalidArgumentError
    from ..symmetry import compare_msvt, summarize_msvt

    summaries = {label: summarize_msvt(table, by=(layer_key, "category")) for label, table in tables.items()}
    panels = [(label, summary, False) for label, summary in summaries.items()]
    marks: set[tuple[Any, Any]] | None = None
    if len(panels) == 2:
        (first, a, _), (second, b, _) = panels
        difference = a[["msvt_mean"]] - b[["msvt_mean"]]
        difference["msvt_sem"] = np.sqrt(a["msvt_sem"] ** 2 + b["msvt_sem"] ** 2)
        panels.append((f"{first} minus {second}", difference, True))
        if comparison is None:
            comparison = compare_msvt(*tables.values(), by=(layer_key, "category"))
        if comparison is not False:
            surviving = comparison[comparison["q"].to_numpy() < alpha]
            marks = set(zip(surviving[layer_key], surviving["category"], strict=True))
    elif comparison is not None and comparison is not False:
        raise InvalidArgumentError(
            f"Invalid value for 'comparison': it marks the difference of two networks, and tables holds {len(panels)}"
        )
    fig, axes = plt.subplots(
        1, len(panels), figsize=(4.6 * len(panels) + 1.6, 3.8), squeeze=False, layout="constrained"
    )
    for ax, (label, summary, is_difference) in zip(axes[0], panels, strict=True):
        layers = list(dict.fromkeys(summary.index.get_level_values(0)))
        names = [str(layer) for layer in layers]
        means = []
        for category in dict.fromkeys(summary.index.get_level_values(1)):
            rows = summary.xs(category, level=1).reindex(layers)
            means.append(rows["msvt_mean"].to_numpy())
            line = ax.errorbar(
                names, rows["msvt_mean"], yerr=rows["msvt_sem"], marker="o", markersize=3, capsize=2, label=category
            )
            if marks is not None and is_difference:
                starred = [layer for layer in layers if (layer, category) in marks]
                ax.plot(
                    [str(layer) for layer in starred],
                    rows["msvt_mean"].reindex(starred) + rows["msvt_sem"].reindex(starred).fillna(0) + 0.08,
                    linestyle="none",
                    marker="*",
                    markersize=7,
                    color=line.lines[0].get_color(),
                )
        if not is_difference:
            draw_chance(ax, chance_level)
        ax.axhline(0.0, color="black", linewidth=0.5)
        layer_axis(ax, names, missing_layers(np.column_stack(means), names))
        if is_difference:
            ax.set_title(f"{label}\n(difference of means ± combined SEM)", fontsize=9)
            ax.set_ylim(-2.05, 2.05)
            ax.set_ylabel("difference of MSVT index")
        else:
            ax.set_title(f"{label}\n(mean ± SEM over exemplars)", fontsize=9)
            ax.set_ylim(-1.05, 1.05)
            ax.set_ylabel("MSVT index")
    handles: list[Any] = []
    labels: list[str] = []
    for ax in axes[0]:
        more = ax.get_legend_handles_labels()
        handles, labels = handles + more[0], labels + more[1]
    if marks is not None:
        (key,) = axes[0][-1].plot(
            [], [], linestyle="none", marker="*", color="black", label=f"rank-sum, BH FDR q < {alpha:g}"
        )
        handles, labels = handles + [key], labels + [key.get_label()]
    legend_outside(axes[0][-1], handles=handles, labels=labels, title="category")
    return fig
