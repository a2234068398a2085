"""Figure 6: model-brain correlations with noise ceilings, and the Shapley split.

Each function draws what an analysis already computed and returns the matplotlib ``Figure``.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import TYPE_CHECKING, Any

import matplotlib.pyplot as plt
import numpy as np

from ..pair_tests import versus_best
from ._style import COMPONENT_COLORS, legend_outside

if TYPE_CHECKING:
    from matplotlib.figure import Figure, SubFigure

    from .._typing import AxesSequence
    from ..inference import BootstrapResult, CeilingResult
    from ..shapley import ShapleyResult


def plot_alignment(
    result: BootstrapResult,
    *,
    ceilings: Mapping[str, CeilingResult] | None = None,
    axes: AxesSequence | None = None,
    alpha: float = 0.05,
    test: str = "percentile",
) -> Figure | SubFigure:
    """Figure 6A: model-brain correlation per layer, one panel per brain RDM (patch).

    Args:
        result: ``BootstrapResult`` (brain RDMs x model layers).
        ceilings: patch -> ``CeilingResult`` (default ``result.ceilings``); drawn as a gray band
            from the lower to the upper bound, labelled "noise ceiling (lower–upper)".
        axes: one matplotlib Axes per brain RDM; default a new figure.
        alpha: FDR level of the paired tests against the best layer.
        test: ``"percentile"`` or ``"t"`` (``pair_tests``).

    Returns:
        The ``Figure``. Points are the correlations on all stimuli, error bars the bootstrap
        standard deviation (the paper's), the shaded band the 95% percentile interval. The best
        layer of each panel is a star; filled circles are layers not different from it (paired
        bootstrap test, q >= ``alpha``), open circles layers below it (q < ``alpha``). One
        legend, right of the last panel.
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
    tests = versus_best(result, test=test) if len(result.model_names) > 1 else None
    for b, (ax, brain) in enumerate(zip(axes, result.brain_names, strict=True)):
        if brain in ceilings:
            ceiling = ceilings[brain]
            ax.axhspan(ceiling.lower, ceiling.upper, color="0.85", label="noise ceiling (lower–upper)")
        ax.fill_between(x, low[b], high[b], color="C0", alpha=0.15, linewidth=0, label="95% interval")
        ax.errorbar(x, result.estimate[b], yerr=result.std[b], color="C0", capsize=3, label="r ± bootstrap SD")
        if tests is not None:
            rows = tests.iloc[b * len(x) : (b + 1) * len(x)]
            best = rows.best.to_numpy()
            tied = ~best & (rows.q_vs_best.to_numpy() >= alpha)
            below = ~best & ~tied
            ax.plot(x[best], result.estimate[b][best], "*", color="C0", markersize=13, label="best layer")
            ax.plot(x[tied], result.estimate[b][tied], "o", color="C0", label=f"not below best (q ≥ {alpha:g})")
            ax.plot(
                x[below], result.estimate[b][below], "o", mfc="white", color="C0", label=f"below best (q < {alpha:g})"
            )
        ax.axhline(0, color="gray", linewidth=0.6)
        ax.set_xticks(x, result.model_names, rotation=45, ha="right", fontsize=8)
        ax.set_title(brain, fontsize=10)
    built = "" if result.normalize is None else f", normalize={result.normalize}"
    axes[0].set_ylabel(f"model-brain RDM correlation\n({result.method}{built})")
    handles: list[Any] = []
    labels: list[str] = []
    for ax in axes:
        more = ax.get_legend_handles_labels()
        handles, labels = handles + more[0], labels + more[1]
    legend_outside(axes[-1], handles=handles, labels=labels)
    return axes[0].figure


def plot_shapley(result: ShapleyResult, *, axes: AxesSequence | None = None) -> Figure | SubFigure:
    """Figure 6B: Shapley contributions of each component per layer, stacked, one panel per patch.

    Args:
        result: ``ShapleyResult``.
        axes: one matplotlib Axes per brain RDM; default a new figure.

    Returns:
        The ``Figure``. Positive contributions stack upwards, negative ones downwards; the
        black marks are the full correlations (the sums), with bootstrap SD when resampled.
        Colours as the paper's caption: the reflection-invariant part yellow, the
        reflection-sensitive part purple (a pair that stays distinct with the common forms of
        colour blindness); other components (``flip_group_components``) take the default cycle.
        One legend, right of the last panel.
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
            color = COMPONENT_COLORS.get(component, f"C{c + 1}")
            name = f"reflection-{component}" if component in COMPONENT_COLORS else component
            ax.bar(x, values, bottom=base, color=color, edgecolor="0.25", linewidth=0.4, label=name)
            up, down = np.where(values >= 0, up + values, up), np.where(values < 0, down + values, down)
        spread = None if result.samples is None else result.samples[b].sum(axis=1).std(axis=-1, ddof=1)
        full = "full r" if spread is None else "full r ± bootstrap SD"
        ax.errorbar(x, result.full[b], yerr=spread, fmt="_", color="black", markersize=10, capsize=2, label=full)
        ax.axhline(0, color="gray", linewidth=0.6)
        ax.set_xticks(x, result.layer_names, rotation=45, ha="right", fontsize=8)
        ax.set_title(brain, fontsize=10)
    axes[0].set_ylabel("Shapley contribution to r")
    legend_outside(axes[-1])
    return axes[0].figure
