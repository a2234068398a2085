"""The statistics of the Figure 4 grid (``figure4_grid``): per-cell intervals, planned tests, mirror match.

- ``t_interval``: mean and 95% t-interval over seeds;
- ``permutation_p``: exact two-sided permutation test of the difference of two groups' means
  (``scipy.stats.permutation_test``, every split of the pooled values: 252 for 5 + 5);
- ``planned_tests``: the plan's comparisons (``PLANNED_COMPARISONS``) of the face fc1 and fc2
  index, Benjamini-Hochberg q over all of them (``pair_tests.fdr``);
- ``mirror_match``: the mirror test of each training category in both geometries.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from math import comb
from typing import TYPE_CHECKING, Any

import numpy as np
import pandas as pd
from scipy import stats

from ..pair_tests import fdr
from ..stimuli.mesh import render_mesh
from ..stimuli.objects import CATEGORIES, build_object

if TYPE_CHECKING:
    import numpy.typing as npt

    from .._typing import FloatArray
    from ..stimuli.mesh import Mesh

# (cell a, cell b): the difference a - b of the mean face index is tested, in fc1 and in fc2.
PLANNED_COMPARISONS = (
    (("bilateral", "original"), ("chiral", "original")),
    (("bilateral", "original"), ("bilateral", "mirror_sensitive")),
    (("chiral", "mirror_invariant"), ("chiral", "original")),
    (("bilateral", "mirror_invariant"), ("bilateral", "original")),
    (("bilateral", "mirror_sensitive"), ("bilateral", "class_split")),
    (("chiral", "mirror_sensitive"), ("chiral", "class_split")),
)
TESTED_METRICS = {"fc1": "face_fc1", "fc2": "face_fc2"}
MATCH_CATEGORIES = ("car", "boat", "chair", "airplane", "animal", "tool")  # the training categories


def t_interval(values: npt.ArrayLike, level: float = 0.95) -> tuple[float, float, float, int]:
    """(mean, low, high, n) of the finite ``values``: mean -+ t_{(1+level)/2, n-1} sd / sqrt(n); NaN bounds if n < 2."""
    finite = np.asarray(values, dtype=float)
    finite = finite[np.isfinite(finite)]
    n = len(finite)
    if n == 0:
        return np.nan, np.nan, np.nan, 0
    mean = float(finite.mean())
    if n < 2:
        return mean, np.nan, np.nan, n
    half = stats.t.ppf((1 + level) / 2, n - 1) * finite.std(ddof=1) / np.sqrt(n)
    return mean, float(mean - half), float(mean + half), n


def cell_summary(networks: pd.DataFrame, metrics: Iterable[str]) -> pd.DataFrame:
    """Per (geometry, regime) and metric: ``mean``, ``ci_low``, ``ci_high`` (95% t), ``n`` over seeds."""
    rows = []
    for (geometry, regime), group in networks.groupby(["geometry", "regime"], sort=False):
        for metric in metrics:
            mean, low, high, n = t_interval(group[metric])
            rows.append((geometry, regime, metric, mean, low, high, n))
    return pd.DataFrame(rows, columns=["geometry", "regime", "metric", "mean", "ci_low", "ci_high", "n"])


def permutation_p(a: npt.ArrayLike, b: npt.ArrayLike) -> tuple[float, int]:
    """(p, number of splits): exact two-sided permutation test of mean(a) - mean(b).

    Every assignment of the pooled values to groups of len(a) and len(b) is enumerated
    (``scipy.stats.permutation_test``, ``permutation_type="independent"``,
    ``n_resamples=inf``); p is the share of splits whose difference is at least as extreme
    (scipy's two-sided rule: twice the smaller tail, at most 1; with equal group sizes the
    null distribution is symmetric and this equals the share with |difference| >= |observed|).
    NaN with fewer than two values in a group.
    """
    first, second = (np.asarray(x, dtype=float) for x in (a, b))
    first, second = first[np.isfinite(first)], second[np.isfinite(second)]
    if len(first) < 2 or len(second) < 2:
        return np.nan, 0
    result = stats.permutation_test(
        (first, second),
        lambda x, y, axis: np.mean(x, axis=axis) - np.mean(y, axis=axis),
        permutation_type="independent",
        alternative="two-sided",
        n_resamples=np.inf,
        vectorized=True,
    )
    return float(result.pvalue), comb(len(first) + len(second), len(first))


def planned_tests(
    networks: pd.DataFrame,
    comparisons: Iterable[tuple[tuple[str, str], tuple[str, str]]] = PLANNED_COMPARISONS,
) -> pd.DataFrame:
    """The planned comparisons of the face fc1 and fc2 index, with BH q over every test with a p."""
    rows: list[tuple[Any, ...]] = []
    for layer, metric in TESTED_METRICS.items():
        for cell_a, cell_b in comparisons:
            a, b = (_values(networks, cell, metric) for cell in (cell_a, cell_b))
            p, splits = permutation_p(a, b)
            mean_a, mean_b = np.nanmean(a) if len(a) else np.nan, np.nanmean(b) if len(b) else np.nan
            rows.append((layer, " ".join(cell_a), " ".join(cell_b), mean_a, mean_b, mean_a - mean_b))
            rows[-1] += (int(np.isfinite(a).sum()), int(np.isfinite(b).sum()), splits, p)
    columns = ["layer", "cell_a", "cell_b", "mean_a", "mean_b", "difference", "n_a", "n_b", "n_splits", "p"]
    table = pd.DataFrame(rows, columns=columns)
    table["q"] = np.nan
    tested = table["p"].notna()
    if tested.any():
        table.loc[tested, "q"] = fdr(table.loc[tested, "p"].to_numpy())
    return table


def _values(networks: pd.DataFrame, cell: Sequence[str], metric: str) -> FloatArray:
    rows = networks[(networks.geometry == cell[0]) & (networks.regime == cell[1])]
    return rows[metric].to_numpy(dtype=float)


def mirror_r(mesh: Mesh, yaw_deg: float, *, size: int = 64) -> float:
    """The mirror test of one mesh: Pearson r of its image at +yaw with the flipped image at -yaw."""
    plus, _ = render_mesh(mesh, yaw_deg, size=size)
    minus, _ = render_mesh(mesh, -yaw_deg, size=size)
    return float(np.corrcoef(plus.ravel(), minus[:, ::-1].ravel())[0, 1])


def mirror_match(
    categories: Iterable[str] = MATCH_CATEGORIES,
    *,
    n_exemplars: int = 5,
    yaws_deg: Iterable[float] = (22.5, 45.0, 67.5),
    size: int = 64,
    random_state: int = 0,
) -> pd.DataFrame:
    """The mirror test of each category's exemplars, bilateral and chiral.

    Exemplar e of a category is built from ``default_rng([random_state, category index, e])``
    (as ``render_objects`` does) in both geometries, so the chiral form is the half of the
    bilateral one; r is averaged over ``yaws_deg`` per exemplar.

    Returns:
        DataFrame: ``category``, ``geometry``, ``r_mean``, ``r_min``, ``r_max`` (over exemplars), ``n``.
    """
    rows = []
    for category in categories:
        for geometry in ("bilateral", "chiral"):
            r = []
            for exemplar in range(n_exemplars):
                rng = np.random.default_rng([random_state, CATEGORIES.index(category), exemplar])
                mesh = build_object(category, rng, geometry=geometry)
                r.append(np.mean([mirror_r(mesh, yaw, size=size) for yaw in yaws_deg]))
            rows.append((category, geometry, float(np.mean(r)), float(np.min(r)), float(np.max(r)), n_exemplars))
    return pd.DataFrame(rows, columns=["category", "geometry", "r_mean", "r_min", "r_max", "n"])
