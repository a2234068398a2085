"""Mirror-symmetric viewpoint tuning index.

The index of Eq. 1 (Farzmahdi et al. 2024) for one view RDM, and tidy per-object tables of
it for layers or patches.

For a view RDM D (n x n, views ordered left to right) the index is the Pearson correlation
between D and D^H, D^H[j, k] = D[j, n-1-k] (columns reversed), with the central column (the
frontal view, unchanged by reflection) removed from both when n is odd. High values mean
view-selective but reflection-invariant tuning (face patch AL); view-specific tuning (ML/MF)
gives negative values.

Chance level. Because the zero diagonal of D pairs with anti-diagonal cells of D^H (and the
other way round), an RDM whose off-diagonal cells differ only by small noise (a view-invariant
representation) does not give 0 but -1/(n-1): -0.25 for the 5 FIV views, -0.125 for the
paper's 9 views (``msvt_chance_level``). "Near zero" in the paper means near this value.
"""

from __future__ import annotations

import warnings

import numpy as np
import pandas as pd
from rsatoolbox.rdm import RDMs

from .rdm import DEFAULT_CHUNK_BYTES, compute_view_rdms


def msvt_index(rdm) -> float:
    """Mirror-symmetric viewpoint tuning index of one view RDM.

    Args:
        rdm: (n_views, n_views) dissimilarity matrix, or an rsatoolbox ``RDMs`` holding one
            RDM, its patterns ordered by view from left to right (so views j and n-1-j are
            mirror images). n_views >= 3.

    Returns:
        Pearson r between the RDM and its column-reversed copy, the central column removed
        from both when n_views is odd; in [-1, 1]. NaN (with a RuntimeWarning) when either
        vector is constant, e.g. an RDM with all dissimilarities equal.

    Raises:
        ValueError: not a single square RDM, fewer than 3 views, NaN/Inf, or not symmetric.
    """
    if isinstance(rdm, RDMs):
        if rdm.n_rdm != 1:
            raise ValueError(f"msvt_index takes one RDM, got {rdm.n_rdm}; use msvt_by_object for many")
        rdm = rdm.get_matrices()[0]
    matrix = np.asarray(rdm, dtype=np.float64)
    if matrix.ndim != 2 or matrix.shape[0] != matrix.shape[1]:
        raise ValueError(f"rdm must be a square (n_views, n_views) matrix, got shape {matrix.shape}")
    n = matrix.shape[0]
    if n < 3:
        raise ValueError(f"the mirror-symmetry index needs at least 3 views, got {n}")
    if not np.all(np.isfinite(matrix)):
        raise ValueError("rdm contains NaN or Inf")
    if not np.allclose(matrix, matrix.T, rtol=1e-7, atol=1e-12 * max(1.0, np.abs(matrix).max())):
        raise ValueError("rdm is not symmetric; pass a dissimilarity matrix")
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


def msvt_chance_level(n_views) -> float:
    """Index of a view-invariant representation: -1 / (n_views - 1).

    Derivation: with the central column removed (odd n) the two vectors have N = n(n-1) cells,
    of which n-1 are zeros in each (the diagonal of D; the anti-diagonal of D^H), never at the
    same cell. If all other cells equal the same value d plus noise much smaller than d, the
    covariance is -d^2 (n-1)^2 / N^2 and each variance d^2 (n-1)(N-n+1) / N^2, so
    r = -(n-1) / (N - n + 1) = -1 / (n-1). Even n (no column removed) gives the same.
    """
    if n_views < 3:
        raise ValueError(f"the mirror-symmetry index needs at least 3 views, got {n_views}")
    return -1.0 / (n_views - 1)


def msvt_by_object(
    activations, *, descriptors=None, object_key="object", view_key="view_deg", chunk_bytes=DEFAULT_CHUNK_BYTES
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
        constant within an object (e.g. ``category``), ``n_units`` and ``msvt``.
    """
    if isinstance(activations, RDMs):
        view_rdms = activations
    else:
        view_rdms = compute_view_rdms(
            activations, descriptors=descriptors, object_key=object_key, view_key=view_key, chunk_bytes=chunk_bytes
        )
    table = pd.DataFrame({k: v for k, v in view_rdms.rdm_descriptors.items() if k != "index"})
    table["msvt"] = [msvt_index(matrix) for matrix in view_rdms.get_matrices()]
    return table


def summarize_msvt(table, *, by=("name",)) -> pd.DataFrame:
    """Mean, standard error of the mean and count of the index over objects.

    Args:
        table: output of ``msvt_by_object``.
        by: columns to group by, e.g. ``("name", "category")`` for the paper's Figure 2C.

    Returns:
        DataFrame indexed by ``by`` with columns ``msvt_mean``, ``msvt_sem`` (ddof=1; NaN for
        a single object) and ``n_objects``; groups keep their order of first appearance.
    """
    grouped = table.groupby(list(by), sort=False)["msvt"]
    return pd.DataFrame({"msvt_mean": grouped.mean(), "msvt_sem": grouped.sem(ddof=1), "n_objects": grouped.count()})
