"""Figure 4: control networks' index per layer, and their training curves.

Each function draws what an analysis already computed and returns the matplotlib ``Figure``.
"""

from __future__ import annotations

import matplotlib.pyplot as plt


def plot_control_networks(tables, *, dashed=(), chance_level=None, axes=None):
    """Figure 4: index across layers per category, one panel per trained network (regime).

    Args:
        tables: mapping label -> ``control_msvt`` table (``layer``, ``category``, ``msvt``;
            several seeds may be stacked, their mean is drawn with the SEM over objects and
            seeds as a band).
        dashed: labels drawn with dashed lines (the mirror-sensitive networks).
        chance_level: dashed gray reference (``msvt_chance_level(n_views)``).
        axes: one Axes per table; default a new figure.

    Returns:
        The ``Figure``.
    """
    if axes is None:
        _, axes = plt.subplots(
            1, len(tables), figsize=(3.8 * len(tables), 3.4), sharey=True, squeeze=False, layout="constrained"
        )
        axes = axes[0]
    for ax, (label, table) in zip(axes, tables.items(), strict=True):
        layers = list(dict.fromkeys(table["layer"]))
        for c, (category, rows) in enumerate(table.groupby("category", sort=False)):
            stats = rows.groupby("layer", sort=False)["msvt"].agg(["mean", "sem"]).reindex(layers)
            style = "--" if label in dashed else "-"
            ax.plot(layers, stats["mean"], style, marker="o", markersize=3, color=f"C{c}", label=category)
            ax.fill_between(
                layers, stats["mean"] - stats["sem"], stats["mean"] + stats["sem"], color=f"C{c}", alpha=0.15
            )
        if chance_level is not None:
            ax.axhline(chance_level, color="gray", linestyle=":", linewidth=1)
        ax.set_ylim(-1.05, 1.05)
        ax.set_title(label, fontsize=9)
        ax.tick_params(axis="x", labelrotation=45)
    axes[0].set_ylabel("mirror-symmetric viewpoint\ntuning index")
    axes[-1].legend(fontsize=7, loc="lower right", ncol=2)
    return axes[0].figure


def plot_training_curves(histories, *, axes=None):
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
