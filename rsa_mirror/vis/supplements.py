"""The supplementary figures: pooling, normalization, position, invariance per image and category, weights.

Each function draws a result of ``studies.supplements`` or ``studies.supplements_reflection``
and returns the matplotlib ``Figure``; the caption of each error bar is in the axis title or
legend.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import TYPE_CHECKING, Any, cast

import matplotlib.pyplot as plt
import numpy as np

from ._style import layer_axis, missing_layers

if TYPE_CHECKING:
    import numpy.typing as npt
    import pandas as pd
    from matplotlib.axes import Axes
    from matplotlib.collections import PolyCollection
    from matplotlib.figure import Figure, SubFigure

    from .._typing import AxesSequence
    from ..studies.supplements import NormalizationResult, PoolingResult, ShiftResult
    from ..studies.supplements_reflection import (
        CategoryInvarianceResult,
        EquivarianceDistributionResult,
        WeightSymmetryResult,
    )


def _panels(n: int, *, width: float = 4.2, height: float = 3.4, axes: AxesSequence | None = None) -> list[Axes]:
    if axes is None:
        _, axes = plt.subplots(1, n, figsize=(width * n, height), squeeze=False, layout="constrained")
    return list(np.asarray(axes).ravel())


def _errorbar_lines(
    ax: Axes,
    table: pd.DataFrame,
    *,
    x: str,
    hue: str | Sequence[str],
    value: str = "msvt",
    label_format: str = "{}",
) -> None:
    """Mean ± SEM over rows of ``value`` per ``x`` (in order of appearance), one line per ``hue``.

    Every ``x`` keeps its tick; one with no finite value on any line reads "(n/a)" (a gap).
    """
    xs = list(dict.fromkeys(table[x]))
    names, means = [str(v) for v in xs], []
    for key, rows in table.groupby(hue, sort=False):
        stats = rows.groupby(x, sort=False)[value].agg(["mean", "sem"]).reindex(xs)
        means.append(stats["mean"].to_numpy())
        name = label_format.format(*key) if isinstance(key, tuple) else label_format.format(key)
        ax.errorbar(names, stats["mean"], yerr=stats["sem"], marker="o", markersize=3, capsize=2, label=name)
    layer_axis(ax, names, missing_layers(np.column_stack(means), names), note="n/a: no finite value")


def _violins(ax: Axes, groups: Sequence[npt.ArrayLike], positions: npt.NDArray[Any], color: str, label: str) -> None:
    """Violins of the values in ``groups`` at ``positions``, with the median (dot) and quartiles (bar)."""
    finite = [np.asarray(g, dtype=float)[np.isfinite(g)] for g in groups]
    shown = [(p, g) for p, g in zip(positions, finite, strict=True) if len(g) > 1]
    if shown:
        parts = ax.violinplot([g for _, g in shown], [p for p, _ in shown], widths=0.35, showextrema=False)
        for body in cast("list[PolyCollection]", parts["bodies"]):
            body.set_facecolor(color)
            body.set_alpha(0.3)
    q1, median, q3 = (np.array([np.percentile(g, q) if len(g) else np.nan for g in finite]) for q in (25, 50, 75))
    ax.vlines(positions, q1, q3, color=color, linewidth=2)
    ax.scatter(positions, median, color=color, s=10, zorder=3, label=label)


def _violins_by_layer(
    ax: Axes,
    rows: pd.DataFrame,
    layers: Sequence[Any],
    hue: str,
    *,
    width: float,
    note: str = "n/a: no finite value",
) -> None:
    """Violins of ``r`` per layer, one color per value of ``hue``, side by side; a zero line.

    A layer with no finite value keeps its tick, "(n/a)", explained by ``note``.
    """
    hues = list(dict.fromkeys(rows[hue]))
    finite = np.zeros(len(layers), dtype=bool)
    for k, value in enumerate(hues):
        chosen = rows[rows[hue] == value]
        groups = [chosen.loc[chosen["layer"] == layer, "r"].to_numpy() for layer in layers]
        finite |= [bool(np.isfinite(g).any()) for g in groups]
        _violins(ax, groups, np.arange(len(layers)) + (k - (len(hues) - 1) / 2) * width, f"C{k}", value)
    layer_axis(
        ax,
        [str(layer) for layer in layers],
        [str(lay) for lay, f in zip(layers, finite, strict=True) if not f],
        note=note,
    )
    ax.axhline(0.0, color="gray", linestyle="--", linewidth=0.5)


def plot_pooling(
    result: PoolingResult, *, network: str | None = None, axes: AxesSequence | None = None
) -> Figure | SubFigure:
    """Figure 2—figure supplement 6: each object's index after global average pooling against the fc layer's.

    Args:
        result: ``PoolingResult``.
        network: which network (default the first).
        axes: one Axes per pooled representation; default a new figure.

    Returns:
        The ``Figure``; one point per object, colored by category, the diagonal dashed.
    """
    network = next(iter(result.networks)) if network is None else network
    wide = result.paired(network)
    fc = wide.columns[-1]
    pooled = [c for c in wide.columns if "GAP" in str(c)]
    axes = _panels(len(pooled), width=3.6, height=3.6, axes=axes)
    categories = list(dict.fromkeys(wide.index.get_level_values("category")))
    for ax, column in zip(axes, pooled, strict=True):
        for c, category in enumerate(categories):
            rows = wide.xs(category, level="category")
            ax.scatter(rows[column], rows[fc], s=14, color=f"C{c}", alpha=0.8, label=category)
        ax.plot([-1, 1], [-1, 1], "--", color="gray", linewidth=1)
        ax.set(xlim=(-1.05, 1.05), ylim=(-1.05, 1.05), aspect="equal")
        ax.set_xlabel(f"MSVT index, {column}")
        ax.set_ylabel(f"MSVT index, {fc}")
        ax.set_title(f"{network}: one point per object", fontsize=9)
    axes[0].legend(fontsize=7, ncol=2, loc="lower right")
    return axes[0].figure


def plot_normalization(result: NormalizationResult, *, axes: AxesSequence | None = None) -> Figure | SubFigure:
    """Figure 2—figure supplement 7: index across layers per category, z-scored units vs raw patterns.

    Args:
        result: ``NormalizationResult``.
        axes: one Axes per (network, normalization); default a new figure.

    Returns:
        The ``Figure``; mean ± SEM over each category's objects.
    """
    groups = list(result.table.groupby(["network", "normalize"], sort=False))
    axes = _panels(len(groups), axes=axes)
    for ax, ((network, normalize), rows) in zip(axes, groups, strict=True):
        _errorbar_lines(ax, rows, x="layer", hue="category")
        words = "units z-scored" if normalize == "zscore" else "raw patterns (no z-scoring)"
        ax.set_title(f"{network}: {words}", fontsize=9)
        ax.set(ylim=(-1.05, 1.05), xlabel="layer", ylabel="MSVT index (mean ± SEM over objects)")
    axes[0].legend(fontsize=7, ncol=2)
    return axes[0].figure


def plot_shift(
    result: ShiftResult, *, categories: Sequence[str] | None = None, axes: AxesSequence | None = None
) -> Figure | SubFigure:
    """Figure 2—figure supplement 8: index across layers for each offset of the objects.

    Args:
        result: ``ShiftResult``.
        categories: the categories averaged (default all).
        axes: one Axes per network; default a new figure.

    Returns:
        The ``Figure``; mean ± SEM over objects, one line per offset.
    """
    table = result.table if categories is None else result.table[result.table["category"].isin(list(categories))]
    groups = list(table.groupby("network", sort=False))
    axes = _panels(len(groups), axes=axes)
    for ax, (network, rows) in zip(axes, groups, strict=True):
        _errorbar_lines(ax, rows, x="layer", hue=["shift_y", "shift_x"], label_format="shift {} px down, {} px right")
        which = "all categories" if categories is None else ", ".join(categories)
        ax.set_title(f"{network} ({which})", fontsize=9)
        ax.set(ylim=(-1.05, 1.05), xlabel="layer", ylabel="MSVT index (mean ± SEM over objects)")
    axes[0].legend(fontsize=7)
    return axes[0].figure


def plot_equivariance_distribution(
    result: EquivarianceDistributionResult, *, axes: AxesSequence | None = None
) -> Figure | SubFigure:
    """Figure 3—figure supplement 1: per-image invariance and equivariance, violins per layer.

    Args:
        result: ``EquivarianceDistributionResult``.
        axes: (n_network_image_sets, 2) Axes (invariance, equivariance); default a new figure.

    Returns:
        The ``Figure``; violins of the images' r, dot = median, bar = interquartile range,
        one color per transform.
    """
    groups = list(result.table.groupby(["network", "images"], sort=False))
    if axes is None:
        _, axes = plt.subplots(len(groups), 2, figsize=(10.0, 3.2 * len(groups)), squeeze=False, layout="constrained")
    axes = np.asarray(axes).reshape(len(groups), 2)
    for row, ((network, images), rows) in zip(axes, groups, strict=True):
        layers = list(dict.fromkeys(rows["layer"]))
        for ax, measure in zip(row, ("invariance", "equivariance"), strict=True):
            part = rows[rows["measure"] == measure]
            note = "n/a: not measured (no spatial maps)" if measure == "equivariance" else "n/a: no finite value"
            _violins_by_layer(ax, part, layers, "transform", width=0.28, note=note)
            ax.set(ylim=(-1.05, 1.05), xlabel="layer", ylabel=f"{measure} r per image")
            ax.set_title(f"{network}, {images}: {measure} (median, IQR)", fontsize=9)
        row[0].legend(fontsize=7)
    return axes[0][0].figure


def plot_category_invariance(
    result: CategoryInvarianceResult, *, axes: AxesSequence | None = None
) -> Figure | SubFigure:
    """Figure 3—figure supplement 2: horizontal-reflection invariance per category, one panel per layer.

    Args:
        result: ``CategoryInvarianceResult``.
        axes: one Axes per layer; default a new figure.

    Returns:
        The ``Figure``; mean ± SEM over each category's images, one line per network.
    """
    groups = list(result.table.groupby("layer", sort=False))
    axes = _panels(len(groups), axes=axes)
    for ax, (layer, rows) in zip(axes, groups, strict=True):
        _errorbar_lines(ax, rows, x="category", hue="network", value="r")
        ax.set_title(f"{layer}: {rows['transform'].iloc[0]} invariance", fontsize=9)
        ax.set(ylim=(-0.1, 1.05), xlabel="category", ylabel="invariance r (mean ± SEM over images)")
    axes[0].legend(fontsize=7)
    return axes[0].figure


def plot_weight_symmetry(result: WeightSymmetryResult, *, axes: AxesSequence | None = None) -> Figure | SubFigure:
    """Figure 5—figure supplement 1: each unit's weights correlated with their reflection, per layer.

    Args:
        result: ``WeightSymmetryResult``.
        axes: one Axes per transform; default a new figure.

    Returns:
        The ``Figure``; violins over units, dot = median, bar = interquartile range, one color
        per network.
    """
    groups = list(result.table.groupby("transform", sort=False))
    axes = _panels(len(groups), width=5.0, axes=axes)
    for ax, (transform, rows) in zip(axes, groups, strict=True):
        _violins_by_layer(ax, rows, list(dict.fromkeys(rows["layer"])), "network", width=0.38)
        ax.set(ylim=(-1.05, 1.05), xlabel="layer", ylabel=f"r(weights, {transform} of weights)")
        ax.set_title(f"{transform}: one value per unit (median, IQR)", fontsize=9)
        ax.legend(fontsize=7)
    return axes[0].figure
