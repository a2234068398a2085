"""RDM figures: the patches' RDMs (Figure 6A-like) and per-layer view RDMs (Figure 2A).

Each function draws what an analysis already computed and returns the matplotlib ``Figure``.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import TYPE_CHECKING, Any

import matplotlib.pyplot as plt
import numpy as np

if TYPE_CHECKING:
    import pandas as pd
    from matplotlib.axes import Axes
    from matplotlib.figure import Figure, SubFigure
    from rsatoolbox.rdm import RDMs

    from .._typing import AxesSequence


def plot_rdms(
    rdms: RDMs,
    *,
    titles: Sequence[str] | None = None,
    sort_by: Sequence[str] = ("view_deg", "view", "identity"),
    group_by: str | None = "view",
    axes: AxesSequence | None = None,
    cmap: str = "viridis",
) -> Figure | SubFigure:
    """Heatmaps of RDMs side by side, patterns sorted (e.g. by view, then identity).

    Args:
        rdms: rsatoolbox ``RDMs`` (n_rdm RDMs over the same patterns).
        titles: one title per RDM; default ``rdm_descriptors['name']``.
        sort_by: pattern descriptors to sort by, most significant first; those missing are
            skipped.
        group_by: pattern descriptor whose runs (after sorting) are separated by lines and
            labelled on the axes, e.g. the view; None for no groups.
        axes: sequence of n_rdm matplotlib Axes to draw into; default a new figure.
        cmap: colormap of the dissimilarities (shared scale across panels).

    Returns:
        The ``Figure``: one colorbar, one colour scale for all panels (its label says so);
        groups named by ``group_by``, with the yaw in degrees when the patterns have
        ``view_deg``.
    """
    patterns = rdms.pattern_descriptors
    keys = [np.asarray(patterns[k]) for k in reversed(sort_by) if k in patterns]
    order = np.lexsort(keys) if keys else np.arange(rdms.n_cond)
    sorted_rdms = rdms.copy()
    sorted_rdms.reorder(order)
    titles = list(titles) if titles is not None else list(rdms.rdm_descriptors.get("name", range(rdms.n_rdm)))
    if axes is None:
        _, grid = plt.subplots(1, rdms.n_rdm, figsize=(4.2 * rdms.n_rdm, 4.0), squeeze=False, layout="constrained")
        axes = grid[0]
    if len(axes) != rdms.n_rdm or len(titles) != rdms.n_rdm:
        raise ValueError(
            f"plot_rdms needs one axis and one title per RDM ({rdms.n_rdm}), got {len(axes)} and {len(titles)}"
        )
    fig = axes[0].figure
    matrices = sorted_rdms.get_matrices()
    vmin, vmax = float(matrices.min()), float(matrices.max())
    for i, ax in enumerate(axes):
        # (rsatoolbox 0.3.2's show_rdm_panel fails with AttributeError, hence plain imshow)
        image = ax.imshow(matrices[i], cmap=cmap, vmin=vmin, vmax=vmax, interpolation="none")
        ax.set_xticks([])
        ax.set_yticks([])
        ax.set_title(titles[i], fontsize=10)
        if group_by in patterns:
            labels = np.asarray(sorted_rdms.pattern_descriptors[group_by])
            starts = np.flatnonzero(np.r_[True, labels[1:] != labels[:-1]])
            ends = np.r_[starts[1:], len(labels)]
            for boundary in starts[1:] - 0.5:
                ax.axhline(boundary, color="white", linewidth=0.6)
                ax.axvline(boundary, color="white", linewidth=0.6)
            centers = (starts + ends - 1) / 2
            names = [str(label).replace("_", " ") for label in labels[starts]]
            if group_by != "view_deg" and "view_deg" in patterns:  # the yaw with the view's name
                yaw = np.asarray(sorted_rdms.pattern_descriptors["view_deg"], dtype=float)[starts]
                names = [f"{name} ({deg:+g}°)" if deg else f"{name} (0°)" for name, deg in zip(names, yaw, strict=True)]
            ax.set_xticks(centers, names, minor=True, rotation=45, ha="right", fontsize=7)
            ax.set_yticks(centers, names, minor=True, fontsize=7)
    fig.colorbar(image, ax=list(axes), shrink=0.8, label="1 - Pearson r (one scale, all panels)")
    return fig


def plot_view_rdms(
    view_rdms: RDMs,
    *,
    objects: Sequence[Any],
    layers: Sequence[Any] | None = None,
    msvt: pd.DataFrame | None = None,
    layer_key: str = "name",
    scale: str = "shared",
) -> Figure:
    """Figure 2A: per-object view RDMs across layers (rows: objects, columns: layers).

    Args:
        view_rdms: ``RDMs`` from ``compute_view_rdms`` or ``model_view_rdms``.
        objects: object names to show (``rdm_descriptors['object']`` values), one row each.
        layers: layer names (``rdm_descriptors['name']``), one column each; default all.
        msvt: optional table of ``msvt_by_object(view_rdms)``; its index is written in each
            panel's lower right corner (the figure's title says so).
        layer_key: the column of ``msvt`` naming layers.
        scale: ``"shared"``: one colour scale for every panel and one colorbar; ``"layer"``:
            one scale per column (layer), with a colorbar under each column, so that a layer
            whose dissimilarities are all small still shows its pattern.

    Returns:
        The ``Figure``. Views run left to right and top to bottom in ascending yaw (tick
        labels in degrees on the bottom row and left column).

    Raises:
        ValueError: no view RDM for a requested object and layer, or an unknown ``scale``.
    """
    from .._utils import check_option

    check_option("scale", scale, ("shared", "layer"))
    names = np.asarray(view_rdms.rdm_descriptors["name"])
    object_names = np.asarray(view_rdms.rdm_descriptors["object"])
    layers = list(dict.fromkeys(names)) if layers is None else list(layers)
    matrices = view_rdms.get_matrices()
    chosen = {}
    for obj in objects:
        for layer in layers:
            index = np.flatnonzero((names == layer) & (object_names == obj))
            if len(index) != 1:
                raise ValueError(f"no view RDM for object {obj!r} in layer {layer!r}")
            chosen[obj, layer] = matrices[index[0]]
    views = _view_labels(view_rdms)
    fig, axes = plt.subplots(
        len(objects),
        len(layers),
        figsize=(1.35 * len(layers) + 1.2, 1.4 * len(objects) + 1.0),
        squeeze=False,
        layout="constrained",
    )
    shown = np.stack(list(chosen.values()))
    for column, layer in enumerate(layers):
        column_values = np.stack([chosen[obj, layer] for obj in objects])
        vmin, vmax = (shown.min(), shown.max()) if scale == "shared" else (column_values.min(), column_values.max())
        for row, obj in enumerate(objects):
            ax = axes[row][column]
            image = ax.imshow(chosen[obj, layer], cmap="viridis", vmin=vmin, vmax=vmax, interpolation="none")
            _view_ticks(ax, views, bottom=row == len(objects) - 1, left=column == 0)
            if msvt is not None:
                value = msvt.loc[(msvt[layer_key] == layer) & (msvt["object"] == obj), "msvt"].iloc[0]
                ax.text(
                    0.97,
                    0.03,
                    f"{value:.2f}",
                    transform=ax.transAxes,
                    ha="right",
                    va="bottom",
                    color="white",
                    fontsize=7,
                )
        if scale == "layer":
            fig.colorbar(image, ax=list(axes[:, column]), location="bottom", shrink=0.9, aspect=12, label="1 - r")
    for row, obj in zip(axes, objects, strict=True):
        row[0].set_ylabel(str(obj), fontsize=8)
    for ax, layer in zip(axes[0], layers, strict=True):
        ax.set_title(str(layer), fontsize=8)
    if scale == "shared":
        fig.colorbar(image, ax=axes.ravel().tolist(), shrink=0.6, label="dissimilarity (1 - Pearson r)")
    words = "one colour scale for all panels" if scale == "shared" else "one colour scale per layer"
    corner = "; corner: MSVT index" if msvt is not None else ""
    fig.suptitle(f"View RDMs, views in degrees of yaw ({words}{corner})", fontsize=9)
    return fig


def _view_labels(rdms: RDMs) -> list[str]:
    """The views of the RDMs' patterns as tick labels: degrees when the descriptor is numeric."""
    patterns = {k: v for k, v in rdms.pattern_descriptors.items() if k != "index"}
    key = "view_deg" if "view_deg" in patterns else next(iter(patterns), None)
    if key is None:
        return [str(i) for i in range(rdms.n_cond)]
    values = np.asarray(patterns[key])
    if np.issubdtype(values.dtype, np.number):
        return [f"{v:g}" for v in values]
    return [str(v).replace("_", " ") for v in values]


def _view_ticks(ax: Axes, views: Sequence[str], *, bottom: bool, left: bool) -> None:
    """Ticks at every view; labels on every other one (the ends and the middle for 9 views)."""
    positions = np.arange(len(views))
    step = 2 if len(views) > 5 else 1
    labels = [view if k % step == 0 or k == len(views) - 1 else "" for k, view in enumerate(views)]
    ax.set_xticks(positions, labels if bottom else [], fontsize=6)
    ax.set_yticks(positions, labels if left else [], fontsize=6)
    ax.tick_params(length=2, pad=1)
