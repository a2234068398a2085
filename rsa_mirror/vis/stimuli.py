"""A contact sheet of a stimulus set.

Each function draws what an analysis already computed and returns the matplotlib ``Figure``.
"""

from __future__ import annotations

import matplotlib.pyplot as plt
import numpy as np


def plot_contact_sheet(stimuli, *, n_objects=9):
    """A contact sheet: every view of up to ``n_objects`` objects spread over the set, one row per object.

    Args:
        stimuli: ``StimulusSet`` with an ``object`` descriptor (e.g. ``render_objects``).
        n_objects: rows at most.
    """
    objects = stimuli.descriptors["object"]
    first = [np.flatnonzero(objects == obj) for obj in dict.fromkeys(objects)]
    rows = first[:: max(1, len(first) // n_objects)][:n_objects]
    figure, axes = plt.subplots(len(rows), len(rows[0]), figsize=(1.2 * len(rows[0]), 1.2 * len(rows)), squeeze=False)
    for row_axes, indices in zip(axes, rows, strict=True):
        for ax, index in zip(row_axes, indices, strict=True):
            ax.imshow(stimuli.images[index], cmap="gray", vmin=0, vmax=1)
            ax.set_axis_off()
    return figure
