"""Paired bootstrap tests of a model-brain comparison: every layer against every other, and against the ceiling.

The tests use the resamples the comparison already holds (``BootstrapResult.samples``, patch x
layer x resample): in each resample the two correlations were computed on the same stimuli, so
their difference is a paired sample. The rules are rsatoolbox's (``inference_util``):

- percentile test (rsatoolbox's ``bootstrap_pair_tests``): with N resamples and a the share of
  differences below 0 among those not equal to 0, p = 2 min(a, 1 - a) (N - 1) / N + 1 / N,
  two-sided; the interval is the percentile interval of the differences;
- t-test (rsatoolbox's ``t_tests`` and ``t_test_nc``): t = difference / SE with SE the bootstrap
  standard deviation of the differences (ddof 1) times sqrt(n / (n - 1)), n the number of
  stimuli, and n - 1 degrees of freedom; two-sided p and the matching t interval. The centre
  is the difference on all stimuli (``center="estimate"``, the statistic the figure shows) or,
  as rsatoolbox, the mean difference over resamples (``center="mean"``).

p-values are adjusted across the layer pairs of each patch (and, against the ceiling, across
its layers) by Benjamini-Hochberg (``scipy.stats.false_discovery_control``): the q-values.
Everything is vectorized over patches and pairs.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Protocol

import numpy as np
import numpy.typing as npt
import pandas as pd
from scipy import special, stats

from ._utils import check_option, check_share
from .errors import DataError

CENTERS = ("estimate", "mean")


class _Ceiling(Protocol):
    """What the tests read of an ``inference.CeilingResult``."""

    @property
    def lower(self) -> float: ...

    @property
    def samples(self) -> np.ndarray | None: ...


class _Comparison(Protocol):
    """What the tests read of an ``inference.BootstrapResult`` (typed here: ``inference`` imports this module)."""

    @property
    def estimate(self) -> np.ndarray: ...

    @property
    def samples(self) -> np.ndarray: ...

    @property
    def indices(self) -> np.ndarray: ...

    @property
    def brain_names(self) -> Sequence[str]: ...

    @property
    def model_names(self) -> Sequence[str]: ...

    @property
    def ceilings(self) -> Mapping[str, _Ceiling]: ...


TESTS = ("percentile", "t")


def paired_tests(
    estimate_a: npt.ArrayLike,
    estimate_b: npt.ArrayLike,
    samples_a: npt.ArrayLike,
    samples_b: npt.ArrayLike,
    *,
    n_stimuli: int,
    level: float = 0.95,
    center: str = "estimate",
) -> dict[str, np.ndarray]:
    """Two-sided paired tests of a - b, vectorized over the leading axes.

    Args:
        estimate_a: (...) values of a on all stimuli.
        estimate_b: (...) values of b, broadcast against ``estimate_a``.
        samples_a: (..., n_resamples) values of a on the resamples.
        samples_b: (..., n_resamples) values of b on the same resamples.
        n_stimuli: stimuli per resample (the SE's small-sample factor and the t's degrees of freedom).
        level: coverage of the intervals, in (0, 1).
        center: ``"estimate"`` or ``"mean"``, the t-test's centre (see the module docstring).

    Returns:
        dict of (...) arrays: ``difference`` (on all stimuli), ``mean`` and ``std`` of the
        differences over resamples, ``p`` and ``ci_low``/``ci_high`` (percentile test), ``t``,
        ``p_t`` and ``t_low``/``t_high`` (t-test). Differences that are 0 in every resample
        have p = 1.
    """
    check_option("center", center, CENTERS)
    level = check_share("level", level)
    d = np.asarray(samples_a, dtype=np.float64) - np.asarray(samples_b, dtype=np.float64)
    n_resamples = d.shape[-1]
    if n_resamples < 2:
        raise DataError(f"paired tests need at least 2 resamples, got {n_resamples}")
    below, untied = (d < 0).sum(axis=-1), n_resamples - (d == 0).sum(axis=-1)
    share = below / np.where(untied > 0, untied, 1)
    p = 2 * np.minimum(share, 1 - share) * (n_resamples - 1) / n_resamples + 1 / n_resamples
    p = np.where(untied > 0, p, 1.0)
    tail = 50 * (1 - level)
    ci_low, ci_high = np.percentile(d, [tail, 100 - tail], axis=-1)
    difference = np.asarray(estimate_a, dtype=np.float64) - np.asarray(estimate_b, dtype=np.float64)
    mean, std = d.mean(axis=-1), d.std(axis=-1, ddof=1)
    se = np.sqrt(np.maximum(std**2 * n_stimuli / (n_stimuli - 1), np.finfo(float).eps))
    centre = difference if center == "estimate" else mean
    dof = n_stimuli - 1
    t = centre / se
    half = special.stdtrit(dof, 1 - tail / 100) * se  # the t quantile (scipy.stats.t.ppf, without its overhead)
    return {
        "difference": difference,
        "mean": mean,
        "std": std,
        "p": p,
        "ci_low": ci_low,
        "ci_high": ci_high,
        "t": t,
        "p_t": 2 * special.stdtr(dof, -np.abs(t)),  # two-sided, 2 * scipy.stats.t.sf(|t|)
        "t_low": centre - half,
        "t_high": centre + half,
    }


def fdr(p: npt.ArrayLike, axis: int = -1) -> npt.NDArray[np.float64]:
    """Benjamini-Hochberg q-values of ``p`` along ``axis`` (one family per position of the other axes)."""
    p = np.asarray(p, dtype=np.float64)
    if p.shape[axis] == 0:
        return p.copy()
    return stats.false_discovery_control(p, axis=axis, method="bh")


def layer_pair_table(result: _Comparison, *, level: float = 0.95, center: str = "estimate") -> pd.DataFrame:
    """Every layer against every other, per patch: one row per (patch, layer_a, layer_b), a before b.

    Args:
        result: ``BootstrapResult``.
        level: coverage of the intervals, as in ``paired_tests``.
        center: the t-test's centre, as in ``paired_tests``.

    Returns:
        Columns patch, layer_a, layer_b, difference (r_a - r_b on all stimuli), mean, std, p, q,
        ci_low, ci_high (percentile test), t, p_t, q_t, t_low, t_high (t-test); q across the
        pairs of the patch.
    """
    n_layers = len(result.model_names)
    a, b = np.triu_indices(n_layers, k=1)
    est, samples = result.estimate, result.samples
    table = paired_tests(
        est[:, a],
        est[:, b],
        samples[:, a],
        samples[:, b],
        n_stimuli=result.indices.shape[1],
        level=level,
        center=center,
    )
    table["q"], table["q_t"] = fdr(table["p"]), fdr(table["p_t"])
    names = np.asarray(result.model_names, dtype=object)
    columns = {
        "patch": np.repeat(np.asarray(result.brain_names, dtype=object), len(a)),
        "layer_a": np.tile(names[a], len(result.brain_names)),
        "layer_b": np.tile(names[b], len(result.brain_names)),
    }
    for key in ("difference", "mean", "std", "p", "q", "ci_low", "ci_high", "t", "p_t", "q_t", "t_low", "t_high"):
        columns[key] = np.asarray(table[key]).ravel()
    return pd.DataFrame(columns)  # one constructor: adding columns one by one costs more than the tests


def ceiling_table(result: _Comparison, *, level: float = 0.95, center: str = "estimate") -> pd.DataFrame:
    """Each layer against the lower noise ceiling of each patch, on the same resamples.

    The difference is r(layer) - lower ceiling (the ceiling's mean corrected split-half
    reliability on all stimuli, and within each resample ``CeilingResult.samples``). Patches
    without a ceiling computed on the comparison's resamples are left out.

    Returns:
        Columns patch, layer, then those of ``layer_pair_table``; q across the layers of the patch.
    """
    rows = []
    for b, patch in enumerate(result.brain_names):
        ceiling = result.ceilings.get(patch)
        if ceiling is None or ceiling.samples is None:
            continue
        if ceiling.samples.shape != result.samples.shape[-1:]:
            raise DataError(
                f"the ceiling of {patch!r} has {ceiling.samples.shape[0]} resamples, the comparison "
                f"{result.samples.shape[-1]}: they must share their resamples"
            )
        table = paired_tests(
            result.estimate[b],
            ceiling.lower,
            result.samples[b],
            ceiling.samples[None],
            level=level,
            n_stimuli=result.indices.shape[1],
            center=center,
        )
        table["q"], table["q_t"] = fdr(table["p"]), fdr(table["p_t"])
        rows.append(pd.DataFrame({"patch": patch, "layer": list(result.model_names), **table}))
    columns = ["patch", "layer", "difference", "mean", "std", "p", "q", "ci_low", "ci_high", "t", "p_t", "q_t"]
    columns += ["t_low", "t_high"]
    return pd.concat(rows, ignore_index=True)[columns] if rows else pd.DataFrame(columns=columns)


def versus_best(
    result: _Comparison, *, test: str = "percentile", level: float = 0.95, center: str = "estimate"
) -> pd.DataFrame:
    """One row per (patch, layer), in ``to_frame`` order: is the layer the best, and its tests.

    The best layer of a patch has the highest r on all stimuli. Columns: ``best`` (bool),
    ``vs_best`` (r - r_best; on the best layer's own row r_best - r_next, the margin over the
    next best), ``p_vs_best``/``q_vs_best`` (that pair's test; on the best row, best against
    next best), ``p_vs_ceiling``/``q_vs_ceiling`` (against the lower ceiling, NaN without one).
    ``test``: ``"percentile"`` or ``"t"``.
    """
    check_option("test", test, TESTS)
    p_key, q_key = ("p", "q") if test == "percentile" else ("p_t", "q_t")
    pairs = layer_pair_table(result, level=level, center=center)
    ceiling = ceiling_table(result, level=level, center=center)
    rows = []
    for b, patch in enumerate(result.brain_names):
        order = np.argsort(-result.estimate[b], kind="stable")
        best = result.model_names[order[0]]
        within = pairs[pairs.patch == patch]
        for layer in result.model_names:
            other = result.model_names[order[1]] if layer == best and len(order) > 1 else best
            row = {"best": layer == best, "vs_best": np.nan, "p_vs_best": np.nan, "q_vs_best": np.nan}
            match = within[
                ((within.layer_a == layer) & (within.layer_b == other))
                | ((within.layer_a == other) & (within.layer_b == layer))
            ]
            if len(match):
                sign = 1.0 if match.layer_a.iloc[0] == layer else -1.0
                gap = sign * match.difference.iloc[0]
                row.update(vs_best=gap, p_vs_best=match[p_key].iloc[0])
                row["q_vs_best"] = match[q_key].iloc[0]
            against = ceiling[(ceiling.patch == patch) & (ceiling.layer == layer)]
            row["p_vs_ceiling"] = against[p_key].iloc[0] if len(against) else np.nan
            row["q_vs_ceiling"] = against[q_key].iloc[0] if len(against) else np.nan
            rows.append(row)
    return pd.DataFrame(rows)
