"""Figure 5: importance maps, insertion, deletion and shuffled images, and the units' tuning.

Each function draws what an analysis already computed and returns the matplotlib ``Figure``.
"""

from __future__ import annotations

import matplotlib.pyplot as plt
import numpy as np


def plot_importance_study(result, stimuli, *, objects=None, views=(-90.0, 0.0, 90.0)):
    """Figure 5 from an ``ImportanceResult``.

    Top rows (A/B), one per example object: the importance map of its best mirror-symmetric
    unit over a few views, and the unit's tuning on original images, insertion images showing
    its most important 25% of the foreground (the study's shuffle threshold), deletion images
    hiding that 25%, and the shuffled insertion images (dashed: its response to a blank
    image). Bottom row: (C) correlation of the best
    units' tuning on insertion / deletion images (the most / least important share of the
    foreground shown) with their original tuning across shares
    (median ± SD over objects, as in the paper; the insertion - deletion difference, mean ±
    SEM, on the right axis); (D) the layer's index on the population's insertion vs shuffled
    images across objects, with the variance explained.

    Args:
        result: ``ImportanceResult``.
        stimuli: the ``StimulusSet`` the study ran on.
        objects: example objects (default the first two).
        views: yaw views shown for each example.

    Returns:
        The ``Figure``.
    """
    objects = list(result.maps)[:2] if objects is None else list(objects)
    names = np.asarray(stimuli.descriptors["object"])
    yaw = np.asarray(stimuli.descriptors["view_deg"], dtype=float)
    columns = len(views) + 1
    fig, axes = plt.subplots(
        len(objects) + 1, columns, figsize=(2.6 * columns, 2.5 * (len(objects) + 1)), squeeze=False
    )
    shuffled_at = result.tuning.loc[result.tuning.images == "shuffled", "threshold"]
    q = float(shuffled_at.iloc[0]) if len(shuffled_at) else 0.25
    for row, obj in zip(axes[:-1], objects, strict=True):
        rows = np.flatnonzero(names == obj)
        rows = rows[np.argsort(yaw[rows])]
        for ax, view in zip(row[:-1], views, strict=True):
            k = int(np.argmin(np.abs(yaw[rows] - view)))
            image = stimuli.images[rows[k]]
            ax.imshow(image if image.ndim == 2 else image.mean(0), cmap="gray", vmin=0, vmax=1)
            ax.imshow(result.unit_maps[obj][k], cmap="inferno", alpha=0.5)
            ax.set_title(f"{obj}, {yaw[rows[k]]:+.0f}°", fontsize=8)
            ax.set_axis_off()
        tuning = result.tuning[result.tuning.object == obj]
        shown = {"original": 0.0, "insertion": q, "deletion": round(1 - q, 10), "shuffled": q}
        for kind, style in (("original", "k-"), ("insertion", "C0-"), ("deletion", "C3--"), ("shuffled", "C2:")):
            curve = tuning[(tuning.images == kind) & np.isclose(tuning.threshold, shown[kind])]
            row[-1].plot(curve.view_deg, curve.response, style, marker="o", markersize=3, label=kind)
        row[-1].axhline(result.blank[obj], color="0.5", ls="--", lw=0.8)  # response to a blank image
        row[-1].set_title(f"unit {result.units[obj][0]}, top {q:.0%}", fontsize=8)
        row[-1].set_xlabel("view (deg)", fontsize=8)
    axes[0, -1].legend(fontsize=6)
    c, d = axes[-1, 0], axes[-1, 1]
    by_threshold = result.similarity.groupby("threshold")
    stats = by_threshold[["r_insertion", "r_deletion"]].agg(["median", "std"])
    for kind, color in (("r_insertion", "C0"), ("r_deletion", "C3")):
        c.errorbar(
            stats.index, stats[(kind, "median")], yerr=stats[(kind, "std")], color=color, marker="o", label=kind[2:]
        )
    difference = (result.similarity.r_insertion - result.similarity.r_deletion).groupby(result.similarity.threshold)
    right = c.twinx()
    right.errorbar(difference.mean().index, difference.mean(), yerr=difference.sem(), color="0.5", ls=":", marker=".")
    right.set_ylabel("insertion - deletion", fontsize=7, color="0.4")
    c.set_xlabel("share of foreground shown")
    c.set_ylabel("r with original tuning")
    c.legend(fontsize=7)
    pivot = result.msvt.pivot_table(index="object", columns="images", values="msvt")
    d.scatter(pivot["insertion"], pivot["shuffled"], s=12)
    r = np.corrcoef(pivot["insertion"], pivot["shuffled"])[0, 1] if len(pivot) > 2 else np.nan
    d.set_title(f"explained variance {r**2:.2f}" if np.isfinite(r) else "", fontsize=8)
    d.set_xlabel("index, insertion images")
    d.set_ylabel("index, shuffled images")
    for ax in axes[-1, 2:]:
        ax.set_axis_off()
    fig.tight_layout()
    return fig
