"""A contact sheet of a stimulus set.

Each function draws what an analysis already computed and returns the matplotlib ``Figure``.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import TYPE_CHECKING, Any

import matplotlib.pyplot as plt
import numpy as np

if TYPE_CHECKING:
    import numpy.typing as npt
    from matplotlib.figure import Figure

    from ..stimuli.base import StimulusSet


def plot_contact_sheet(stimuli: StimulusSet, *, n_objects: int = 9) -> Figure:
    """A contact sheet: every view of up to ``n_objects`` objects spread over the set, one row per object.

    Args:
        stimuli: ``StimulusSet`` with an ``object`` descriptor (e.g. ``render_objects``).
        n_objects: rows at most.

    Returns:
        The ``Figure``: views left to right in ascending yaw (column titles in degrees, when
        the set has ``view_deg``), each row named by its category and exemplar (or object).
    """
    descriptors = stimuli.descriptors
    objects = np.asarray(descriptors["object"])
    yaw = np.asarray(descriptors["view_deg"], dtype=float) if "view_deg" in descriptors else None
    first: list[npt.NDArray[np.intp]] = []
    for obj in dict.fromkeys(objects):
        rows = np.flatnonzero(objects == obj)
        first.append(rows if yaw is None else rows[np.argsort(yaw[rows], kind="stable")])
    chosen = first[:: max(1, len(first) // n_objects)][:n_objects]
    width = max(len(r) for r in chosen)
    figure, axes = plt.subplots(
        len(chosen), width, figsize=(1.2 * width + 1.4, 1.2 * len(chosen) + 0.4), squeeze=False, layout="constrained"
    )
    images = stimuli.images if stimuli.images.ndim == 3 else np.moveaxis(stimuli.images, 1, -1)
    for row_axes, indices in zip(axes, chosen, strict=True):
        for ax, index in zip(row_axes, indices, strict=False):
            ax.imshow(images[index], cmap="gray", vmin=0, vmax=1)
        for ax in row_axes:
            ax.set_xticks([])
            ax.set_yticks([])
            for spine in ax.spines.values():
                spine.set_visible(False)
        for ax in row_axes[len(indices) :]:
            ax.set_visible(False)
        row_axes[0].set_ylabel(_row_name(descriptors, indices[0]), fontsize=7, rotation=0, ha="right", va="center")
    if yaw is not None:
        for ax, index in zip(axes[0], chosen[0], strict=False):
            ax.set_title(f"{yaw[index]:+.4g}°" if yaw[index] else "0°", fontsize=8)
        figure.suptitle("view (yaw)", fontsize=8)
    return figure


def _row_name(descriptors: Mapping[str, Any], index: int) -> str:
    """The row name of the image at ``index``: "<category>, exemplar <n>" when the set has both, else its object."""
    if "category" in descriptors and "exemplar" in descriptors:
        return f"{descriptors['category'][index]}\nexemplar {descriptors['exemplar'][index]}"
    return str(descriptors["object"][index])
