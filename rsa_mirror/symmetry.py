"""Mirror-symmetric viewpoint tuning index.

The index of Eq. 1 (Farzmahdi et al. 2024) for one view RDM, tidy per-object tables of it for
layers or patches, and the rank-sum comparison of two networks' tables (Figure 2-figure
supplement 2B); reflection invariance and equivariance of a layer (Eq. 2 and 3).

For a view RDM D (n x n, views ordered left to right) the index is the Pearson correlation
between D and D^H, D^H[j, k] = D[j, n-1-k] (columns reversed), with the central column (the
frontal view, unchanged by reflection) removed from both when n is odd; an even n has no
frontal view and nothing is removed (the authors' released code drops column n/2 whatever n
is, see ``msvt_index``). High values mean
view-selective but reflection-invariant tuning (face patch AL); view-specific tuning (ML/MF)
gives negative values.

Chance level. Because the zero diagonal of D pairs with anti-diagonal cells of D^H (and the
other way round), an RDM whose off-diagonal cells differ only by small noise (a view-invariant
representation) does not give 0 but -1/(n-1): -0.25 for the 5 FIV views, -0.125 for the
paper's 9 views (``msvt_chance_level``). "Near zero" in the paper means near this value.
"""

from __future__ import annotations

import warnings
from collections.abc import Mapping, Sequence
from typing import Any

import numpy as np
import numpy.typing as npt
import pandas as pd
from rsatoolbox.data import Dataset
from rsatoolbox.rdm import RDMs

from ._symmetry_checks import check_statistics, float_copy
from ._typing import BoolArray, FloatArray
from ._utils import check_count, check_option, check_share, format_indices
from .errors import DataError, InvalidArgumentError, InvalidTypeError
from .rdm import DEFAULT_CHUNK_BYTES, compute_view_rdms
from .stimuli.base import TRANSFORMS, transform_maps

MSVT_TESTS = ("ranksums", "mannwhitneyu")  # compare_msvt's rank-sum tests


def msvt_index(rdm: npt.ArrayLike | RDMs) -> float:
    """Mirror-symmetric viewpoint tuning index of one view RDM.

    Args:
        rdm: (n_views, n_views) dissimilarity matrix, or an rsatoolbox ``RDMs`` holding one
            RDM, its patterns ordered by view from left to right (so views j and n-1-j are
            mirror images). n_views >= 3.

    Returns:
        Pearson r between the RDM and its column-reversed copy, the central column removed
        from both when n_views is odd; in [-1, 1]. NaN (with a RuntimeWarning) when either
        vector is constant, e.g. an RDM with all dissimilarities equal.

    Even view counts: the paper removes "the frontal view (which is unaltered by reflection)",
    and only an odd count has one; with even n_views every view j has a distinct mirror view
    n-1-j, so all n columns are kept. The authors' released code drops column n//2 (counting
    from 0) for every n, which for even n removes a view right of centre from D and its
    mirror from D^H; the package does not reproduce that.

    Raises:
        InvalidTypeError: ``rdm`` is not numeric.
        DataError: not a single square RDM, fewer than 3 views, NaN/Inf, or not symmetric.
    """
    if isinstance(rdm, RDMs):
        if rdm.n_rdm != 1:
            raise DataError(f"msvt_index takes one RDM, got {rdm.n_rdm}; use msvt_by_object for many")
        rdm = rdm.get_matrices()[0]
    try:
        matrix = np.asarray(rdm, dtype=np.float64)
    except (TypeError, ValueError):
        raise InvalidTypeError(
            f"Invalid type for 'rdm': expected a numeric (n_views, n_views) matrix, got {type(rdm).__name__}"
        ) from None
    if matrix.ndim != 2 or matrix.shape[0] != matrix.shape[1]:
        raise DataError(f"rdm must be a square (n_views, n_views) matrix, got shape {matrix.shape}")
    n = matrix.shape[0]
    if n < 3:
        raise DataError(f"the mirror-symmetry index needs at least 3 views, got {n}")
    if not np.all(np.isfinite(matrix)):
        raise DataError("rdm contains NaN or Inf")
    if not np.allclose(matrix, matrix.T, rtol=1e-7, atol=1e-12 * max(1.0, np.abs(matrix).max())):
        raise DataError("rdm is not symmetric; pass a dissimilarity matrix")
    # An exact power-of-two scale to [0.5, 1) in magnitude: no products overflow or underflow,
    # and no result changes.
    matrix = np.ldexp(matrix, -np.frexp(np.abs(matrix).max())[1])
    flipped = matrix[:, ::-1]
    keep = np.arange(n) != n // 2 if n % 2 else np.ones(n, dtype=bool)
    x = matrix[:, keep].ravel()
    y = flipped[:, keep].ravel()
    x = x - x.mean()
    y = y - y.mean()
    denominator = np.sqrt((x @ x) * (y @ y))
    if denominator == 0:
        warnings.warn("msvt_index is undefined for a constant RDM; returning NaN", RuntimeWarning, stacklevel=2)
        return float("nan")
    return float(np.clip((x @ y) / denominator, -1.0, 1.0))


def msvt_chance_level(n_views: int) -> float:
    """Index of a view-invariant representation: -1 / (n_views - 1).

    Derivation: with the central column removed (odd n) the two vectors have N = n(n-1) cells,
    of which n-1 are zeros in each (the diagonal of D; the anti-diagonal of D^H), never at the
    same cell. If all other cells equal the same value d plus noise much smaller than d, the
    covariance is -d^2 (n-1)^2 / N^2 and each variance d^2 (n-1)(N-n+1) / N^2, so
    r = -(n-1) / (N - n + 1) = -1 / (n-1). Even n (no column removed) gives the same.

    Raises:
        InvalidArgumentError: ``n_views`` is not an integer >= 3.
    """
    n_views = check_count("n_views", n_views, minimum=3)
    return -1.0 / (n_views - 1)


def msvt_by_object(
    activations: Mapping[str, npt.ArrayLike | Dataset] | Dataset | RDMs,
    *,
    descriptors: Mapping[str, npt.ArrayLike] | None = None,
    object_key: str = "object",
    view_key: str = "view_deg",
    chunk_bytes: int = DEFAULT_CHUNK_BYTES,
) -> pd.DataFrame:
    """Index per object and per layer (or patch), as a tidy table.

    Units are z-scored over the whole set, then each object's view RDM is formed
    (``compute_view_rdms``) and its index computed (``msvt_index``).

    Args:
        activations: mapping name -> array (n_stimuli, ...) or rsatoolbox ``Dataset``, as in
            ``compute_rdms``; or an ``RDMs`` of per-object view RDMs already computed by
            ``compute_view_rdms``.
        descriptors: per-stimulus descriptors; must hold ``object_key`` and ``view_key``.
        object_key: descriptor naming the object (exemplar; ``identity`` for faces).
        view_key: descriptor holding the yaw in degrees.
        chunk_bytes: working-buffer size for the RDM computation.

    Returns:
        DataFrame with one row per (name, object): ``name``, ``object_key``, every descriptor
        constant within an object (e.g. ``category``), ``n_units``, ``msvt`` and
        ``views_left_out`` (views without a mirror view, e.g. "up, down", that the index
        leaves out; empty when none).

    Raises:
        DataError: as in ``compute_view_rdms`` and ``msvt_index``.
    """
    if isinstance(activations, RDMs):
        view_rdms = activations
    else:
        view_rdms = compute_view_rdms(
            activations, descriptors=descriptors, object_key=object_key, view_key=view_key, chunk_bytes=chunk_bytes
        )
    table = pd.DataFrame({k: v for k, v in view_rdms.rdm_descriptors.items() if k != "index"})
    table["msvt"] = [msvt_index(matrix) for matrix in view_rdms.get_matrices()]
    table["views_left_out"] = ", ".join(view_rdms.descriptors.get("views_left_out", []))
    return table


def summarize_msvt(table: pd.DataFrame, *, by: str | Sequence[str] = ("name",)) -> pd.DataFrame:
    """Mean, standard error of the mean and count of the index over objects.

    Args:
        table: output of ``msvt_by_object``.
        by: columns to group by, e.g. ``("name", "category")`` for the paper's Figure 2C.

    Returns:
        DataFrame indexed by ``by`` with columns ``msvt_mean``, ``msvt_sem`` (ddof=1; NaN for
        a single object), ``n_objects`` and, when ``table`` has it, ``views_left_out``;
        groups keep their order of first appearance.

    Raises:
        InvalidTypeError: ``table`` is not a DataFrame.
        InvalidArgumentError: ``table`` lacks the ``msvt`` column, or a column of ``by``.
    """
    if not isinstance(table, pd.DataFrame):
        raise InvalidTypeError(
            f"Invalid type for 'table': expected a DataFrame (msvt_by_object's), got {type(table).__name__}"
        )
    columns = ", ".join(map(str, table.columns))
    if "msvt" not in table:
        raise InvalidArgumentError(
            f"Invalid value for 'table': expected msvt_by_object's table, with an 'msvt' column, got columns {columns}"
        )
    by = [by] if isinstance(by, str) else list(by)
    missing = [column for column in by if column not in table]
    if missing or not by:
        raise InvalidArgumentError(
            f"Invalid value for 'by': expected one or more columns of table ({columns}), got {by} (missing: {missing})"
        )
    grouped = table.groupby(by, sort=False)
    summary = pd.DataFrame(
        {
            "msvt_mean": grouped["msvt"].mean(),
            "msvt_sem": grouped["msvt"].sem(ddof=1),
            "n_objects": grouped["msvt"].count(),
        }
    )
    if "views_left_out" in table:
        summary["views_left_out"] = grouped["views_left_out"].first()
    return summary


def compare_msvt(
    first: pd.DataFrame,
    second: pd.DataFrame,
    *,
    by: str | Sequence[str] = ("name", "category"),
    test: str = "ranksums",
    alternative: str = "two-sided",
    alpha: float = 0.05,
) -> pd.DataFrame:
    """Figure 2-figure supplement 2B: one network's index against another's, per layer and category.

    For every group of ``by`` (a layer x category cell) the per-object indices of ``first``
    (e.g. the trained network) are compared with those of ``second`` (its untrained twin) by a
    Wilcoxon rank-sum test over exemplars, and the p values of all cells are adjusted together
    by the Benjamini-Hochberg false discovery rate (``scipy.stats.false_discovery_control``).
    Objects whose index is NaN (a constant RDM) are left out of their cell.

    Args:
        first: ``msvt_by_object`` table (columns ``by`` and ``msvt``), e.g. of the trained
            network.
        second: a table of the same cells, e.g. of the untrained network; its objects need not
            be the same ones.
        by: the columns naming a cell; ``("layer", "category")`` for the studies' tables.
        test: ``"ranksums"`` (``scipy.stats.ranksums``: the normal approximation of the rank
            sum, no tie correction; the statistic is z) or ``"mannwhitneyu"``
            (``scipy.stats.mannwhitneyu``: exact for small samples without ties, else normal
            with tie and continuity corrections; the statistic is U of ``first``).
        alternative: ``"two-sided"``, ``"greater"`` (``first`` above ``second``) or ``"less"``.
        alpha: the false discovery rate that marks a cell ``significant``.

    Returns:
        DataFrame with one row per cell, in ``first``'s order: the ``by`` columns, ``n_first``,
        ``n_second`` (objects with a finite index), ``mean_first``, ``mean_second``,
        ``median_first``, ``median_second``, ``difference`` (mean_first - mean_second),
        ``statistic``, ``p``, ``q`` (BH-adjusted across every cell with a p value) and
        ``significant`` (q < alpha). A cell with no finite index on one side has NaN p and q.

    Raises:
        InvalidTypeError: a table that is not a DataFrame.
        InvalidArgumentError: a table without ``msvt`` or a ``by`` column; an unknown ``test``
            or ``alternative``; ``alpha`` outside (0, 1).
        DataError: cells present in one table only (named).
    """
    from scipy import stats

    check_option("test", test, MSVT_TESTS)
    check_option("alternative", alternative, ("two-sided", "greater", "less"))
    alpha = check_share("alpha", alpha)
    by = [by] if isinstance(by, str) else list(by)
    groups: list[dict[tuple[Any, ...], FloatArray]] = []
    for name, table in (("first", first), ("second", second)):
        try:
            summarize_msvt(table, by=by)  # the same checks of the table and of ``by``
        except (InvalidTypeError, InvalidArgumentError) as error:
            raise type(error)(str(error).replace("'table'", repr(name))) from None
        groups.append(
            {
                key if isinstance(key, tuple) else (key,): g["msvt"].to_numpy(float)
                for key, g in table.groupby(by, sort=False)
            }
        )
    only: list[str] = []
    for label, mine, other in (("first", *groups), ("second", *groups[::-1])):
        if set(mine) - set(other):
            only.append(f"{label} alone has {', '.join(map(str, sorted(set(mine) - set(other), key=str)[:5]))}")
    if only:
        raise DataError(f"the two tables must hold the same {' x '.join(by)} cells: {'; '.join(only)}")
    run = stats.ranksums if test == "ranksums" else stats.mannwhitneyu
    rows: list[tuple[Any, ...]] = []
    for key, a in groups[0].items():
        a, b = a[np.isfinite(a)], groups[1][key][np.isfinite(groups[1][key])]
        statistic = p = np.nan
        if len(a) and len(b):
            statistic, p = run(a, b, alternative=alternative)
        means = [v.mean() if len(v) else np.nan for v in (a, b)]
        medians = [np.median(v) if len(v) else np.nan for v in (a, b)]
        rows.append((*key, len(a), len(b), *means, *medians, means[0] - means[1], float(statistic), float(p)))
    columns = [*by, "n_first", "n_second", "mean_first", "mean_second", "median_first", "median_second"]
    table = pd.DataFrame(rows, columns=[*columns, "difference", "statistic", "p"])
    tested = np.isfinite(table["p"].to_numpy())
    q = np.full(len(table), np.nan)
    if tested.any():
        q[tested] = stats.false_discovery_control(table["p"].to_numpy()[tested], method="bh")
    table["q"] = q
    table["significant"] = tested & (np.nan_to_num(q, nan=1.0) < alpha)
    return table


def invariance(
    original: npt.ArrayLike,
    transformed: npt.ArrayLike,
    transform: str,
    *,
    spatial: bool | None = None,
    statistics: Sequence[Sequence[npt.ArrayLike]] | None = None,
) -> FloatArray:
    """Eq. 2 per image: Pearson r across units between f(x) and f(g(x)).

    Each unit is z-scored within each set (over the originals, and over the transformed
    images), so that an exactly invariant or equivariant map scores 1; units constant in either
    set are left out. For spatial maps the positions that ``transform`` maps onto
    themselves are left out too (the central column for ``hflip``, row for ``vflip``, pixel
    for ``rot90``, when that size is odd), since there f(x) and f(g(x)) agree trivially for
    the identity map. Even sizes have no such position (``hflip`` sends column j of W to
    W-1-j, never j itself; ``rot90`` of an even square moves every pixel), so no row or column
    is dropped: a 224-pixel VGG map keeps all its positions, a 13-pixel AlexNet conv5 map
    loses its central column (13 of 169 positions per channel) for ``hflip``.

    Args:
        original: activations f(x), (n_images, ...); (n, C, H, W) for convolutional maps.
        transformed: activations f(g(x)) of the transformed images, same shape.
        transform: ``"hflip"``, ``"vflip"`` or ``"rot90"``.
        spatial: whether the last two axes are a visual map; default: arrays of 4 dimensions.
        statistics: ((mean, sd) of the originals, (mean, sd) of the transformed images), each
            of the unit shape, when measured on more images than given here (streaming); sd =
            inf marks constant units. Default: ``unit_statistics`` of the arrays given.

    Returns:
        (n_images,) correlations; their mean is the paper's invariance.
    """
    a, b, informative_a, informative_b = _zscored_pair(original, transformed, transform, statistics)
    keep = kept_units("invariance", transform, informative_a, informative_b, spatial=_is_spatial(a, spatial))
    return _rowwise_pearson(a[:, keep], b[:, keep])


def equivariance(
    original: npt.ArrayLike,
    transformed: npt.ArrayLike,
    transform: str,
    *,
    statistics: Sequence[Sequence[npt.ArrayLike]] | None = None,
) -> FloatArray:
    """Eq. 3 per image: Pearson r across units between f(g(x)) and g(f(x)).

    The same z-scoring as ``invariance``; g acts on the (H, W) axes of the z-scored maps of
    the original images, so the identity map scores exactly 1 for every transform. Positions
    that g maps onto themselves (odd sizes only, as in ``invariance``; even-sized maps keep
    every row and column), and units constant in either set, are left out.

    For ``rot90`` this is Eq. 3, r(f(g(x)), g(f(x))) with g the same 90-degree rotation on both
    sides. The authors' released code rotates the transformed maps once more in the same
    direction, so for the identity map it measures r(f(x), rot180 f(x)) instead of 1 (a value
    that depends on the images, near 0 for noise); the package keeps the equation.

    Args:
        original: convolutional maps f(x), (n_images, C, H, W).
        transformed: f(g(x)), same shape.
        transform: ``"hflip"``, ``"vflip"`` or ``"rot90"``.
        statistics: as in ``invariance``.

    Returns:
        (n_images,) correlations; their mean is the paper's equivariance.
    """
    if np.ndim(original) != 4:
        raise DataError(f"equivariance needs convolutional maps (n, C, H, W), got shape {np.shape(original)}")
    a, b, informative_a, informative_b = _zscored_pair(original, transformed, transform, statistics)
    keep = kept_units("equivariance", transform, informative_a, informative_b)
    return _rowwise_pearson(b[:, keep], transform_maps(a, transform)[:, keep])


def kept_units(
    measure: str, transform: str, informative_a: BoolArray, informative_b: BoolArray, *, spatial: bool = True
) -> BoolArray:
    """Boolean mask of the unit shape: the units Eq. 2 (``"invariance"``) or Eq. 3 (``"equivariance"``) use.

    ``informative_a`` / ``informative_b``: boolean arrays of the unit shape, False for the units
    constant over the originals / the transformed images. Invariance keeps the units informative
    in both sets, off the fixed points of ``transform`` for spatial maps; equivariance compares
    f(g(x)) with g(f(x)), so it keeps g(informative_a) & informative_b off the fixed points.
    """
    if measure == "equivariance":
        return (
            transform_maps(informative_a, transform)
            & informative_b
            & _off_fixed_points(informative_a.shape[-2:], transform)
        )
    keep = informative_a & informative_b
    return keep & _off_fixed_points(keep.shape[-2:], transform) if spatial else keep


def _zscored_pair(
    original: npt.ArrayLike,
    transformed: npt.ArrayLike,
    transform: str,
    statistics: Sequence[Sequence[npt.ArrayLike]] | None = None,
) -> tuple[FloatArray, FloatArray, BoolArray, BoolArray]:
    """Each set z-scored (a copy), by its own statistics unless ``statistics`` gives them."""
    check_option("transform", transform, TRANSFORMS)
    a, b = float_copy("original", original), float_copy("transformed", transformed)
    if a.shape != b.shape:
        raise DataError(f"original and transformed activations differ in shape: {a.shape} vs {b.shape}")
    if a.ndim < 2:
        raise DataError(f"activations must have shape (n_images, ...), got {a.shape}")
    for name, values in (("original", a), ("transformed", b)):
        if not np.all(np.isfinite(values)):
            bad = np.flatnonzero(~np.isfinite(values.reshape(len(values), -1)).all(axis=1))
            raise DataError(f"{name} activations hold NaN or Inf for images {format_indices(bad)}")
    if statistics is None:
        pairs = [unit_statistics(values) for values in (a, b)]
    else:
        pairs = check_statistics(statistics, a.shape[1:])
    for values, (mean, sd) in zip((a, b), pairs, strict=True):
        values -= mean
        values /= sd  # inf for constant units: their z-scores become 0 and they are masked out
    return a, b, np.isfinite(pairs[0][1]), np.isfinite(pairs[1][1])


def unit_statistics(values: npt.ArrayLike) -> tuple[FloatArray, FloatArray]:
    """(mean, sd) of each unit over the first axis; sd = inf for units that never change."""
    values = np.asarray(values)
    sd = values.std(axis=0, dtype=np.float64)
    sd[values.max(axis=0) == values.min(axis=0)] = np.inf
    return values.mean(axis=0, dtype=np.float64), sd


def _is_spatial(array: np.ndarray, spatial: bool | None) -> bool:
    return array.ndim == 4 if spatial is None else bool(spatial)


def _off_fixed_points(shape: tuple[int, ...], transform: str) -> BoolArray:
    """(H, W) mask, False where ``transform`` maps a position onto itself.

    Only odd sizes have such positions: column W//2 (``hflip``, odd W), row H//2 (``vflip``,
    odd H), pixel (H//2, W//2) (``rot90``, odd square). Even sizes drop nothing.
    """
    height, width = shape
    keep = np.ones((height, width), dtype=bool)
    if transform == "hflip" and width % 2:
        keep[:, width // 2] = False
    elif transform == "vflip" and height % 2:
        keep[height // 2, :] = False
    elif transform == "rot90" and height % 2 and width % 2:
        keep[height // 2, width // 2] = False
    return keep


def _rowwise_pearson(a: np.ndarray, b: np.ndarray) -> FloatArray:
    a = a.reshape(len(a), -1)
    b = b.reshape(len(b), -1)
    a = a - a.mean(axis=1, keepdims=True)
    b = b - b.mean(axis=1, keepdims=True)
    return np.einsum("ij,ij->i", a, b) / np.sqrt(np.einsum("ij,ij->i", a, a) * np.einsum("ij,ij->i", b, b))
