"""Figure 3: invariance and equivariance per layer and transform.

Each function draws what an analysis already computed and returns the matplotlib ``Figure``.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import TYPE_CHECKING, Any

import matplotlib.pyplot as plt
import numpy as np

from .._utils import check_option
from ._style import layer_axis, legend_outside, panel_letter

if TYPE_CHECKING:
    import numpy.typing as npt
    import pandas as pd
    from matplotlib.figure import Figure, SubFigure
    from matplotlib.typing import LineStyleType

    from .._typing import AxesSequence


MEASURE_STYLES: dict[str, LineStyleType] = {"invariance": "-", "equivariance": "--"}
# Error bars: the paper's "standard deviation across images" (Figure 3's legend), or the SEM.
ERROR_BARS = {"sd": "SD", "sem": "SEM"}


def _error(rows: pd.DataFrame, error: str) -> pd.Series:
    """The error bar of each row: SD over images (sem x sqrt(n_images), i.e. the ddof=1 SD) or SEM."""
    return rows["sem"] * np.sqrt(rows["n_images"]) if error == "sd" else rows["sem"]


def _split_label(label: object) -> tuple[str, str]:
    """``"<network>, <image set>"`` (``equivariance_study``'s labels) -> (network, image set)."""
    network, _, images = str(label).rpartition(", ")
    return (network, images) if network else (str(label), "")


def plot_equivariance(
    tables: Mapping[str, pd.DataFrame], *, error: str = "sd", axes: AxesSequence | None = None
) -> Figure | SubFigure:
    """Figure 3: invariance (solid) and equivariance (dashed) across layers, one colour per transform.

    As the paper's Figure 3: one panel per (network, image set), image sets in rows (rendered
    objects, natural images, noise: panels A-B, C-D, E-F), networks in columns (trained,
    untrained), panel letters row by row. Equivariance exists only for the convolutional
    layers, so its dashed lines stop where the fully connected layers begin.

    Args:
        tables: mapping label -> table of ``measure_equivariance`` (columns layer, transform,
            measure, mean, sem, n_images); labels ``"<network>, <image set>"`` as
            ``equivariance_study`` makes them (a label without ", " is a network with an unnamed
            set).
        error: the error bars: ``"sd"``, the standard deviation over images, as the paper's
            Figure 3 ("Error bars depict the standard deviation across images"), or ``"sem"``.
        axes: matplotlib Axes to draw into: one per label (both measures in each panel), or,
            as before, an (n_labels, 2) array (invariance and equivariance side by side);
            default a new figure laid out as the paper's.

    Returns:
        The ``Figure``. Error bars as ``error`` says, named in the y label; one legend, right
        of the panels, names the transforms (colours) and measures (lines).

    Raises:
        ValueError: ``axes`` holding neither one nor two Axes per table.
    """
    check_option("error", error, tuple(ERROR_BARS))
    labels = list(tables)
    if axes is not None and np.asarray(axes).size == 2 * len(labels):
        return _plot_split(tables, np.asarray(axes).reshape(len(labels), 2), error)
    parts = [_split_label(label) for label in labels]
    if len(set(parts)) != len(parts):  # labels that do not split into distinct pairs: one row each
        parts = [(str(label), "") for label in labels]
    networks = list(dict.fromkeys(network for network, _ in parts))
    image_sets = list(dict.fromkeys(images for _, images in parts))
    if axes is None:
        _, grid = plt.subplots(
            len(image_sets),
            len(networks),
            figsize=(4.4 * len(networks) + 1.6, 3.3 * len(image_sets)),
            squeeze=False,
            sharey=True,
            layout="constrained",
        )
        places = {(n, i): grid[r][c] for r, i in enumerate(image_sets) for c, n in enumerate(networks)}
        panels = [places[part] for part in parts]
        for ax in grid.ravel():
            if ax not in panels:
                ax.set_axis_off()  # a (network, image set) pair not measured
        order = [places[n, i] for i in image_sets for n in networks if (n, i) in parts]
        host, first_column = order[min(len(networks), len(order)) - 1], set(grid[:, 0])
    else:
        panels = list(np.asarray(axes).ravel())
        if len(panels) != len(labels):
            raise ValueError(f"plot_equivariance needs one axis per table ({len(labels)}), got {len(panels)}")
        order, host, first_column = panels, panels[-1], set(panels)
    transforms = list(dict.fromkeys(t for table in tables.values() for t in table["transform"]))
    for ax, label, (network, images) in zip(panels, labels, parts, strict=True):
        table = tables[label]
        layers = list(dict.fromkeys(table["layer"]))
        names = [str(layer) for layer in layers]
        for measure, style in MEASURE_STYLES.items():
            for transform in transforms:
                rows = table[(table["measure"] == measure) & (table["transform"] == transform)].set_index("layer")
                if rows.empty:
                    continue
                rows = rows.reindex(layers)
                color = f"C{transforms.index(transform)}"
                yerr = _error(rows, error)
                ax.errorbar(names, rows["mean"], yerr=yerr, fmt=style, color=color, marker="o", markersize=3, capsize=2)
        ax.set_title(f"{network}, {images}" if images else network, fontsize=9)
        ax.set_ylim(-0.1, 1.05)
        layer_axis(ax, names)
        if ax in first_column:
            ax.set_ylabel(f"correlation r (mean ± {ERROR_BARS[error]} over images)", fontsize=8)
    for k, ax in enumerate(order):
        panel_letter(ax, chr(ord("A") + k))
    handles = [plt.Line2D([], [], color=f"C{k}", marker="o", markersize=3) for k in range(len(transforms))]
    handles += [plt.Line2D([], [], color="0.3", linestyle=style) for style in MEASURE_STYLES.values()]
    names = [*transforms, "invariance", "equivariance (conv layers)"]
    legend_outside(host, handles=handles, labels=names)
    return panels[0].figure


def _plot_split(tables: Mapping[str, pd.DataFrame], axes: npt.NDArray[Any], error: str) -> Figure | SubFigure:
    """The two-panel rows (invariance, equivariance) of each label: the layout of earlier versions."""
    for row, (label, table) in zip(axes, tables.items(), strict=True):
        layers = list(dict.fromkeys(table["layer"]))
        for panel, measure in zip(row, MEASURE_STYLES, strict=True):
            for transform in dict.fromkeys(table["transform"]):
                rows = table[(table["measure"] == measure) & (table["transform"] == transform)].set_index("layer")
                rows = rows.reindex([layer for layer in layers if layer in rows.index])
                panel.errorbar(
                    rows.index, rows["mean"], yerr=_error(rows, error), marker="o", markersize=3, capsize=2,
                    label=transform,
                )  # fmt: skip
            panel.set_title(f"{label}: {measure} (mean ± {ERROR_BARS[error]} over images)", fontsize=9)
            panel.set_ylim(-0.1, 1.05)
            panel.set_xlabel("layer")
            panel.set_ylabel(f"{measure} r")
            panel.tick_params(axis="x", labelrotation=45, labelsize=7)
        row[0].legend(fontsize=7)
    return axes[0][0].figure
