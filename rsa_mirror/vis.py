"""Figures, one function per figure type.

Each takes ``axes=None`` (or ``ax=None``), draws what an analysis already computed, and
returns the matplotlib ``Figure``.
"""

from __future__ import annotations

import matplotlib.pyplot as plt
import numpy as np


def plot_rdms(
    rdms, *, titles=None, sort_by=("view_deg", "view", "identity"), group_by="view", axes=None, cmap="viridis"
):
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
        The ``Figure``.
    """
    patterns = rdms.pattern_descriptors
    keys = [np.asarray(patterns[k]) for k in reversed(sort_by) if k in patterns]
    order = np.lexsort(keys) if keys else np.arange(rdms.n_cond)
    sorted_rdms = rdms.copy()
    sorted_rdms.reorder(order)
    titles = list(titles) if titles is not None else list(rdms.rdm_descriptors.get("name", range(rdms.n_rdm)))
    if axes is None:
        fig, axes = plt.subplots(1, rdms.n_rdm, figsize=(4.2 * rdms.n_rdm, 4.0), squeeze=False, layout="constrained")
        axes = axes[0]
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
            ax.set_xticks(centers, names, minor=True, rotation=45, ha="right", fontsize=7)
            ax.set_yticks(centers, names, minor=True, fontsize=7)
    fig.colorbar(image, ax=list(axes), shrink=0.8, label="dissimilarity (1 - Pearson r)")
    return fig


def plot_msvt_by_layer(summaries, *, chance_level=None, ax=None):
    """Index across layers (Figure 2C style): one line per network or category.

    Args:
        summaries: mapping label -> DataFrame indexed by layer (in network order) with
            ``msvt_mean`` and ``msvt_sem`` (``summarize_msvt(table, by=("layer",))``).
        chance_level: draw the index of a view-invariant representation as a dashed line.
        ax: matplotlib Axes to draw into; default a new figure.

    Returns:
        The ``Figure``.
    """
    if ax is None:
        _, ax = plt.subplots(figsize=(6.0, 3.6), layout="constrained")
    for label, summary in summaries.items():
        layers = [str(layer) for layer in summary.index]
        ax.errorbar(layers, summary["msvt_mean"], yerr=summary["msvt_sem"], marker="o", capsize=3, label=label)
    if chance_level is not None:
        ax.axhline(chance_level, color="gray", linestyle="--", linewidth=1, label="view-invariant (chance)")
    ax.set_ylim(-1.05, 1.05)
    ax.set_xlabel("layer")
    ax.set_ylabel("mirror-symmetric viewpoint\ntuning index")
    ax.legend(fontsize=8, loc="lower right")
    return ax.figure


def plot_msvt_categories(tables, *, layer_key="name", chance_level=None):
    """Figure 2C: index across layers, one line per category, one panel per network.

    With exactly two networks (e.g. trained and untrained) a third panel shows their
    difference (first minus second) per category.

    Args:
        tables: mapping label -> tidy table of ``msvt_by_object`` (columns ``layer_key``,
            ``category``, ``msvt``), layers in network order.
        layer_key: the column naming layers.
        chance_level: dashed reference line (``msvt_chance_level(n_views)``).

    Returns:
        The ``Figure``.
    """
    from .symmetry import summarize_msvt

    summaries = {label: summarize_msvt(table, by=(layer_key, "category")) for label, table in tables.items()}
    panels = list(summaries.items())
    if len(panels) == 2:
        (first, a), (second, b) = panels
        difference = a[["msvt_mean"]] - b[["msvt_mean"]]
        difference["msvt_sem"] = np.sqrt(a["msvt_sem"] ** 2 + b["msvt_sem"] ** 2)
        panels.append((f"{first} minus {second}", difference))
    fig, axes = plt.subplots(1, len(panels), figsize=(5.0 * len(panels), 3.8), squeeze=False, layout="constrained")
    for ax, (label, summary) in zip(axes[0], panels, strict=True):
        layers = list(dict.fromkeys(summary.index.get_level_values(0)))
        for category in dict.fromkeys(summary.index.get_level_values(1)):
            rows = summary.xs(category, level=1).reindex(layers)
            ax.errorbar(
                layers, rows["msvt_mean"], yerr=rows["msvt_sem"], marker="o", markersize=3, capsize=2, label=category
            )
        if chance_level is not None and "minus" not in label:
            ax.axhline(chance_level, color="gray", linestyle="--", linewidth=1)
        ax.axhline(0.0, color="black", linewidth=0.5)
        ax.set_title(label, fontsize=9)
        ax.set_ylim(-1.05, 1.05) if "minus" not in label else ax.set_ylim(-2.05, 2.05)
        ax.tick_params(axis="x", labelrotation=45, labelsize=7)
        ax.set_ylabel("MSVT index" if "minus" not in label else "difference")
    axes[0][0].legend(fontsize=7, ncol=2)
    return fig


def plot_equivariance(tables, *, axes=None):
    """Figure 3: invariance and equivariance across layers for each transform.

    Args:
        tables: mapping label -> table of ``measure_equivariance`` (columns layer, transform,
            measure, mean, sem); one row of two panels (invariance, equivariance) per label.
        axes: (n_labels, 2) matplotlib Axes to draw into; default a new figure.

    Returns:
        The ``Figure``.
    """
    if axes is None:
        _, axes = plt.subplots(len(tables), 2, figsize=(9.0, 3.2 * len(tables)), squeeze=False, layout="constrained")
    axes = np.asarray(axes).reshape(len(tables), 2)
    fig = axes[0][0].figure
    for row, (label, table) in zip(axes, tables.items(), strict=True):
        layers = list(dict.fromkeys(table["layer"]))
        for panel, measure in zip(row, ("invariance", "equivariance"), strict=True):
            for transform in dict.fromkeys(table["transform"]):
                rows = table[(table["measure"] == measure) & (table["transform"] == transform)].set_index("layer")
                rows = rows.reindex([layer for layer in layers if layer in rows.index])
                panel.errorbar(
                    rows.index, rows["mean"], yerr=rows["sem"], marker="o", markersize=3, capsize=2, label=transform
                )
            panel.set_title(f"{label}: {measure}", fontsize=9)
            panel.set_ylim(-0.1, 1.05)
            panel.tick_params(axis="x", labelrotation=45, labelsize=7)
        row[0].legend(fontsize=7)
    return fig


def plot_view_rdms(view_rdms, *, objects, layers=None, msvt=None, layer_key="name"):
    """Figure 2A: per-object view RDMs across layers (rows: objects, columns: layers).

    Args:
        view_rdms: ``RDMs`` from ``compute_view_rdms`` or ``model_view_rdms``.
        objects: object names to show (``rdm_descriptors['object']`` values), one row each.
        layers: layer names (``rdm_descriptors['name']``), one column each; default all.
        msvt: optional table of ``msvt_by_object(view_rdms)``; its index is written in each
            panel's corner.
        layer_key: the column of ``msvt`` naming layers.

    Returns:
        The ``Figure``.
    """
    names = np.asarray(view_rdms.rdm_descriptors["name"])
    object_names = np.asarray(view_rdms.rdm_descriptors["object"])
    layers = list(dict.fromkeys(names)) if layers is None else list(layers)
    matrices = view_rdms.get_matrices()
    fig, axes = plt.subplots(
        len(objects), len(layers), figsize=(1.3 * len(layers), 1.4 * len(objects)), squeeze=False, layout="constrained"
    )
    for row, obj in zip(axes, objects, strict=True):
        for ax, layer in zip(row, layers, strict=True):
            index = np.flatnonzero((names == layer) & (object_names == obj))
            if len(index) != 1:
                raise ValueError(f"no view RDM for object {obj!r} in layer {layer!r}")
            ax.imshow(matrices[index[0]], cmap="viridis", interpolation="none")
            ax.set_xticks([])
            ax.set_yticks([])
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
        row[0].set_ylabel(str(obj), fontsize=8)
    for ax, layer in zip(axes[0], layers, strict=True):
        ax.set_title(str(layer), fontsize=8)
    return fig


def plot_alignment(result, *, ceilings=None, axes=None):
    """Figure 6A: model-brain correlation per layer, one panel per brain RDM (patch).

    Args:
        result: ``BootstrapResult`` (brain RDMs x model layers).
        ceilings: patch -> ``CeilingResult`` (default ``result.ceilings``); drawn as a gray band
            from the lower to the upper bound.
        axes: one matplotlib Axes per brain RDM; default a new figure.

    Returns:
        The ``Figure``. Points are the correlations on all stimuli, error bars the bootstrap
        standard deviation (the paper's), the shaded band the 95% percentile interval.
    """
    ceilings = result.ceilings if ceilings is None else ceilings
    n_brain = len(result.brain_names)
    if axes is None:
        _, axes = plt.subplots(
            1, n_brain, figsize=(3.6 * n_brain, 3.4), sharey=True, squeeze=False, layout="constrained"
        )
        axes = axes[0]
    low, high = result.interval(0.95)
    x = np.arange(len(result.model_names))
    for b, (ax, brain) in enumerate(zip(axes, result.brain_names, strict=True)):
        if brain in ceilings:
            ceiling = ceilings[brain]
            ax.axhspan(ceiling.lower, ceiling.upper, color="0.85", label="noise ceiling")
        ax.fill_between(x, low[b], high[b], color="C0", alpha=0.15, linewidth=0, label="95% interval")
        ax.errorbar(
            x, result.estimate[b], yerr=result.std[b], marker="o", color="C0", capsize=3, label="r ± bootstrap SD"
        )
        ax.axhline(0, color="gray", linewidth=0.6)
        ax.set_xticks(x, result.model_names, rotation=45, ha="right", fontsize=8)
        ax.set_title(brain, fontsize=10)
    axes[0].set_ylabel(f"model-brain RDM correlation ({result.method})")
    axes[0].legend(fontsize=7, loc="best")
    return axes[0].figure


def plot_shapley(result, *, axes=None):
    """Figure 6B: Shapley contributions of each component per layer, stacked, one panel per patch.

    Args:
        result: ``ShapleyResult``.
        axes: one matplotlib Axes per brain RDM; default a new figure.

    Returns:
        The ``Figure``. Positive contributions stack upwards, negative ones downwards; the
        black marks are the full correlations (the sums), with bootstrap SD when resampled.
    """
    n_brain = len(result.brain_names)
    if axes is None:
        _, axes = plt.subplots(
            1, n_brain, figsize=(3.6 * n_brain, 3.4), sharey=True, squeeze=False, layout="constrained"
        )
        axes = axes[0]
    x = np.arange(len(result.layer_names))
    for b, (ax, brain) in enumerate(zip(axes, result.brain_names, strict=True)):
        up, down = np.zeros(len(x)), np.zeros(len(x))
        for c, component in enumerate(result.component_names):
            values = result.values[b, :, c]
            base = np.where(values >= 0, up, down)
            ax.bar(x, values, bottom=base, color=f"C{c + 1}", label=component)
            up, down = np.where(values >= 0, up + values, up), np.where(values < 0, down + values, down)
        spread = None if result.samples is None else result.samples[b].sum(axis=1).std(axis=-1, ddof=1)
        ax.errorbar(x, result.full[b], yerr=spread, fmt="_", color="black", markersize=10, capsize=2, label="full r")
        ax.axhline(0, color="gray", linewidth=0.6)
        ax.set_xticks(x, result.layer_names, rotation=45, ha="right", fontsize=8)
        ax.set_title(brain, fontsize=10)
    axes[0].set_ylabel("Shapley contribution to r")
    axes[0].legend(fontsize=7, loc="best")
    return axes[0].figure


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
