"""Figure 5: importance maps, insertion, deletion and shuffled images, and the units' tuning.

Each function draws what an analysis already computed and returns the matplotlib ``Figure``.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import TYPE_CHECKING, Any

import matplotlib.pyplot as plt
import numpy as np

from ._style import legend_outside, panel_letter

if TYPE_CHECKING:
    from matplotlib.figure import Figure, SubFigure

    from .._typing import RandomState
    from ..stimuli.base import StimulusSet
    from ..studies.figure5 import ImportanceResult


ROWS = ("importance map", "deletion", "insertion", "shuffled")
CURVES = {"original": "k-", "deletion": "C3-", "insertion": "C0-", "shuffled": "C2--"}


def plot_importance_study(
    result: ImportanceResult,
    stimuli: StimulusSet,
    *,
    objects: Sequence[Any] | None = None,
    views: Sequence[float] | None = None,
    random_state: RandomState = 0,
) -> Figure:
    """Figure 5 from an ``ImportanceResult``, in the paper's layout.

    Panels A, B, ... (one per example object): rows of images over the object's views, the
    best mirror-symmetric unit's importance map over each view (with its colorbar), deletion
    images (its most important share hidden, the study's shuffle threshold, 25% by default),
    insertion images (only that share shown) and the insertion images shuffled; on the right
    the unit's tuning on each set, relative to its response to a blank image (response minus
    blank response; the dashed zero line is the blank image). Last row: (C) correlation of the
    best units' tuning on insertion / deletion images (the most / least important share of the
    foreground shown) with their original tuning across shares, median ± SD over objects as in
    the paper, and on the right axis the insertion - deletion difference, mean ± SEM; (D) the
    index on the population's insertion vs shuffled images, one point per object, with the
    variance explained.

    The deletion and insertion images are remade from the unit's map as the study made them
    (``image_edits.insertion_deletion``, same ranking and share); the shuffled row is one draw
    of ``shuffle_components`` seeded by ``random_state`` (the study does not keep its images),
    while the tuning drawn is the study's, on its own draw.

    Args:
        result: ``ImportanceResult``.
        stimuli: the ``StimulusSet`` the study ran on.
        objects: example objects (default the first two).
        views: yaw views shown for each example (default all the object's views).
        random_state: seed of the shuffled row's draw.

    Returns:
        The ``Figure``.
    """
    from ..image_edits import insertion_deletion, shuffle_components
    from ..stimuli.base import gray_images

    objects = list(result.maps)[:2] if objects is None else list(objects)
    images, background, _ = gray_images(stimuli)
    foreground = stimuli.foreground if hasattr(stimuli, "foreground") else np.abs(images - background) > 1 / 512
    names = np.asarray(stimuli.descriptors["object"])
    yaw = np.asarray(stimuli.descriptors["view_deg"], dtype=float)
    shuffled_at = result.tuning.loc[result.tuning.images == "shuffled", "threshold"]
    q = float(shuffled_at.iloc[0]) if len(shuffled_at) else 0.25
    shown = {"original": 0.0, "insertion": q, "deletion": round(1 - q, 10), "shuffled": q}
    all_views = [np.sort(yaw[names == obj]) for obj in objects]
    columns = max(len(v) for v in all_views) if views is None else len(views)
    fig = plt.figure(figsize=(1.05 * columns + 5.2, 4.3 * len(objects) + 3.0), layout="constrained")
    parts = np.asarray(fig.subfigures(len(objects) + 1, 1, height_ratios=[4.3] * len(objects) + [3.0]))
    rng = np.random.default_rng(random_state)
    for letter, part, obj in zip("ABCDEFGHIJKLMNOPQRSTUVWX", parts, objects, strict=False):
        rows = np.flatnonzero(names == obj)
        rows = rows[np.argsort(yaw[rows])]
        picks = range(len(rows)) if views is None else [int(np.argmin(np.abs(yaw[rows] - v))) for v in views]
        maps = result.unit_maps[obj]
        grid = part.add_gridspec(len(ROWS), columns + 1, width_ratios=[1.0] * columns + [3.4])
        cells = np.array([[part.add_subplot(grid[r, c]) for c in range(columns)] for r in range(len(ROWS))])
        low, high = float(np.min(maps)), float(np.max(maps))
        for c, k in enumerate(picks):
            image = images[rows[k]]
            insertion, deletion, kept = insertion_deletion(
                image, maps[k], foreground[rows[k]], q, background=background, ranking=result.ranking
            )
            shuffled = shuffle_components(image, kept, background=background, random_state=rng)
            cells[0, c].imshow(image, cmap="gray", vmin=0, vmax=1)
            overlay = cells[0, c].imshow(maps[k], cmap="inferno", alpha=0.55, vmin=low, vmax=high)
            for r, shown_image in enumerate((deletion, insertion, shuffled), start=1):
                cells[r, c].imshow(shown_image, cmap="gray", vmin=0, vmax=1)
            cells[0, c].set_title(f"{yaw[rows[k]]:+.4g}°" if yaw[rows[k]] else "0°", fontsize=8)
        for ax in cells.ravel():
            ax.set_xticks([])
            ax.set_yticks([])
            for spine in ax.spines.values():
                spine.set_visible(False)
        words = (
            "importance map",
            f"deletion\n(top {q:.0%} hidden)",
            f"insertion\n(top {q:.0%} only)",
            "shuffled\ninsertion",
        )
        for ax, word in zip(cells[:, 0], words, strict=True):
            ax.set_ylabel(word, fontsize=7)
        for ax in cells[:, len(picks) :].ravel():
            ax.set_visible(False)  # an object with fewer views than the widest
        part.colorbar(
            overlay, ax=list(cells[0]), location="left", shrink=1.0, aspect=6, label="importance\n(RISE, a.u.)"
        )
        chart = part.add_subplot(grid[:, -1])
        tuning = result.tuning[result.tuning.object == obj]
        for kind, style in CURVES.items():
            curve = tuning[(tuning.images == kind) & np.isclose(tuning.threshold, shown[kind])]
            chart.plot(curve.view_deg, curve.response - result.blank[obj], style, marker="o", markersize=3, label=kind)
        chart.axhline(0.0, color="0.5", ls="--", lw=0.8, label="blank image")
        chart.set_title(f"{obj}: unit {result.units[obj][0]} of {result.layer}", fontsize=8)
        chart.set_xlabel("view (yaw, deg)", fontsize=8)
        chart.set_ylabel("response - response to blank", fontsize=8)
        chart.tick_params(labelsize=7)
        legend_outside(chart)
        panel_letter(part, letter)
    _plot_shares_and_shuffle(result, parts[-1], letters="ABCDEFGHIJKLMNOPQRSTUVWXYZ"[len(objects) : len(objects) + 2])
    return fig


def _plot_shares_and_shuffle(result: ImportanceResult, part: SubFigure, *, letters: str) -> None:
    """Panels C (insertion / deletion r across shares) and D (index, insertion vs shuffled)."""
    c, d = part.subplots(1, 2, width_ratios=(1.4, 1.0))
    stats = result.similarity.groupby("threshold")[["r_insertion", "r_deletion"]].agg(["median", "std"])
    for kind, color in (("r_insertion", "C0"), ("r_deletion", "C3")):
        c.errorbar(
            stats.index,
            stats[(kind, "median")],
            yerr=stats[(kind, "std")],
            color=color,
            marker="o",
            capsize=2,
            label=f"{kind[2:]} (median ± SD over objects)",
        )
    difference = (result.similarity.r_insertion - result.similarity.r_deletion).groupby(result.similarity.threshold)
    right = c.twinx()
    right.errorbar(
        difference.mean().index, difference.mean(), yerr=difference.sem(), color="0.5", ls=":", marker=".", capsize=2
    )
    right.set_ylabel("insertion - deletion\n(mean ± SEM)", fontsize=7, color="0.4")
    c.plot([], [], color="0.5", ls=":", marker=".", label="insertion - deletion (right axis)")
    c.set_xlabel("share of foreground shown")
    c.set_ylabel("r with original tuning")
    c.legend(fontsize=7, loc="upper center", bbox_to_anchor=(0.5, -0.22), ncol=2, frameon=False)
    pivot = result.msvt.pivot_table(index="object", columns="images", values="msvt")
    pivot = pivot.reindex(columns=["insertion", "shuffled"])  # an index NaN on every object leaves no column
    d.scatter(pivot["insertion"], pivot["shuffled"], s=12, label="one object")
    d.plot([-1, 1], [-1, 1], color="0.6", ls="--", lw=0.8, label="identity")
    r = np.corrcoef(pivot["insertion"], pivot["shuffled"])[0, 1] if len(pivot) > 2 else np.nan
    words = f"explained variance {r**2:.2f}" if np.isfinite(r) else "explained variance: n/a (< 3 objects)"
    d.text(0.03, 0.97, words, transform=d.transAxes, ha="left", va="top", fontsize=8)
    d.set_xlabel("MSVT index, insertion images")
    d.set_ylabel("MSVT index, shuffled images")
    d.set(xlim=(-1.05, 1.05), ylim=(-1.05, 1.05), aspect="equal")
    d.legend(fontsize=7, loc="lower right")
    for ax, letter in zip((c, d), letters, strict=True):
        panel_letter(ax, letter)
