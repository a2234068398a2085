"""Figure 4: control networks' index per layer, and their training curves.

Each function draws what an analysis already computed and returns the matplotlib ``Figure``.
"""

from __future__ import annotations

from collections.abc import Collection, Mapping
from typing import TYPE_CHECKING

import matplotlib.pyplot as plt
import numpy as np

from ._style import draw_chance, layer_axis, legend_outside, missing_layers

if TYPE_CHECKING:
    import pandas as pd
    from matplotlib.figure import Figure, SubFigure

    from .._typing import AxesSequence


def plot_control_networks(
    tables: Mapping[str, pd.DataFrame],
    *,
    dashed: Collection[str] = (),
    chance_level: float | None = None,
    axes: AxesSequence | None = None,
) -> Figure | SubFigure:
    """Figure 4: index across layers per category, one panel per trained network (regime).

    Args:
        tables: mapping label -> ``control_msvt`` table (``layer``, ``category``, ``msvt``;
            several seeds may be stacked, their mean is drawn with the SEM over objects and
            seeds as a band).
        dashed: labels drawn with dashed lines (the mirror-sensitive networks).
        chance_level: dashed gray reference (``msvt_chance_level(n_views)``), labelled with
            its number of views.
        axes: one Axes per table; default a new figure.

    Returns:
        The ``Figure``: lines are the mean over a category's objects (and seeds), bands ± the
        SEM over them (the legend's title says so); the legend sits right of the last panel.
        A layer without any index (all units silent) keeps its tick, "(n/a)", and is a gap.
    """
    if axes is None:
        _, axes = plt.subplots(
            1, len(tables), figsize=(3.8 * len(tables) + 1.6, 3.6), sharey=True, squeeze=False, layout="constrained"
        )
        axes = axes[0]
    for ax, (label, table) in zip(axes, tables.items(), strict=True):
        layers = list(dict.fromkeys(table["layer"]))
        names = [str(layer) for layer in layers]
        seeds = table["seed"].nunique() if "seed" in table else 1
        means = []
        for c, (category, rows) in enumerate(table.groupby("category", sort=False)):
            stats = rows.groupby("layer", sort=False)["msvt"].agg(["mean", "sem"]).reindex(layers)
            means.append(stats["mean"].to_numpy())
            style = "--" if label in dashed else "-"
            ax.plot(names, stats["mean"], style, marker="o", markersize=3, color=f"C{c}", label=category)
            ax.fill_between(
                names, stats["mean"] - stats["sem"], stats["mean"] + stats["sem"], color=f"C{c}", alpha=0.15
            )
        draw_chance(ax, chance_level, linestyle=":")
        ax.set_ylim(-1.05, 1.05)
        ax.set_title(label if seeds == 1 else f"{label} ({seeds} seeds)", fontsize=9)
        layer_axis(ax, names, missing_layers(np.column_stack(means), names), fontsize=8)
    axes[0].set_ylabel("mirror-symmetric viewpoint\ntuning index")
    over = "objects" if all("seed" not in t or t["seed"].nunique() == 1 for t in tables.values()) else "objects, seeds"
    legend_outside(axes[-1], title=f"mean ± SEM over {over} (band)")
    return axes[0].figure


def plot_training_curves(
    histories: Mapping[str, pd.DataFrame], *, axes: AxesSequence | None = None
) -> Figure | SubFigure:
    """Loss and validation accuracy per epoch, one line per network.

    Args:
        histories: mapping label -> ``TrainResult.history``.
        axes: two Axes (loss, accuracy); default a new figure.

    Returns:
        The ``Figure``.
    """
    if axes is None:
        _, axes = plt.subplots(1, 2, figsize=(8.0, 3.2), layout="constrained")
    for k, (label, history) in enumerate(histories.items()):
        axes[0].plot(history["epoch"], history["train_loss"], color=f"C{k}", label=f"{label} (train)")
        axes[0].plot(history["epoch"], history["val_loss"], "--", color=f"C{k}", label=f"{label} (validation)")
        axes[1].plot(history["epoch"], history["val_accuracy"], color=f"C{k}", label=label)
    axes[0].set_xlabel("epoch")
    axes[0].set_ylabel("cross-entropy loss")
    axes[1].set_xlabel("epoch")
    axes[1].set_ylabel("validation accuracy")
    axes[0].legend(fontsize=6)
    return axes[0].figure
