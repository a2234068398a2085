"""Correlations of RDMs over stimulus resamples, all samples in a few matrix products.

The vectorized core of ``inference`` and ``shapley``. A resample drawn with counts c (c_i = how
often stimulus i was drawn) is the set of the original upper-triangle cells (i, j), i < j, each
repeated c_i * c_j times (cells pairing a stimulus with a copy of itself removed), so every
bootstrap correlation is a weighted correlation over the original cells: samples are chunks of
matrix products, never a Python loop over samples x RDM pairs (Kendall's tau-a, which has no
such form, goes through rsatoolbox per sample). The chunking never depends on the number of
workers, so results are bit-identical whatever ``n_jobs`` or joblib backend runs them.

Degenerate cases follow one rule: an RDM with no variance over the cells of a sample carries
no information about which stimuli differ, and its correlation is 0, never NaN; so does a
resample that drew one stimulus only (it keeps no cell).
"""

from __future__ import annotations

from typing import Any

import joblib
import numpy as np
import numpy.typing as npt
from rsatoolbox.rdm import RDMs
from threadpoolctl import threadpool_limits

from .errors import DataError, InvalidArgumentError, InvalidTypeError

METHODS = ("pearson", "spearman", "tau-a")
# about this many float64 values per working array (samples x cells); 4 M = 32 MiB
_CHUNK_VALUES = 4 * 2**20
_CHUNK_SAMPLES = 250  # resamples per task: four tasks at n_bootstrap=1000


def compare(
    models: np.ndarray, brains: np.ndarray, indices: np.ndarray, method: str, n_jobs: int | None, verbose: bool = False
) -> tuple[np.ndarray, np.ndarray]:
    """(estimate (n_brain, n_model), samples (n_brain, n_model, n_resamples)) of RDM vectors (n_rdm, n_cells).

    ``indices`` (n_resamples, n_stimuli), checked; with no rows, ``samples`` is empty.
    """
    n = indices.shape[1]
    per_sample = models.shape[1] * (1 if method == "pearson" else 1 + len(models) + len(brains))
    with threadpool_limits(1, user_api="blas"):  # for the tasks run in threads of this process
        estimate = _correlate_samples(np.ones((1, n), dtype=np.int64), models, brains, method)[0]
        parts = joblib.Parallel(n_jobs=n_jobs, verbose=10 if verbose else 0)(
            joblib.delayed(_correlate_samples)(resample_counts(indices[chunk], n), models, brains, method)
            for chunk in chunks(len(indices), per_sample)
        )
    samples = np.concatenate(parts).transpose(1, 2, 0) if parts else np.empty((len(brains), len(models), 0))
    # one memory layout whatever ran the parts (pickled parts come back C-ordered, local ones as
    # computed), so that means and SDs over resamples, whose summation order follows it, match too
    return estimate, np.ascontiguousarray(samples)


def check_indices(indices: npt.ArrayLike, n: int) -> npt.NDArray[np.int64]:
    """``indices`` as a new int64 (n_resamples >= 2, n) array of 0-based stimulus numbers, else raise."""
    expected = f"an integer array of shape (n_resamples >= 2, {n}), {n} being the number of stimuli"
    try:
        array = np.asarray(indices)
    except ValueError:
        raise InvalidArgumentError(f"Invalid value for 'indices': expected {expected}, got a ragged sequence") from None
    if array.ndim != 2 or len(array) < 2 or array.shape[1] != n or not np.issubdtype(array.dtype, np.integer):
        raise InvalidArgumentError(
            f"Invalid value for 'indices': expected {expected}, got a {array.dtype} array of shape {array.shape}"
        )
    bad = np.argwhere((array < 0) | (array >= n))
    if len(bad):
        resample, position = bad[0]
        raise InvalidArgumentError(
            f"Invalid value for 'indices': stimulus numbers must lie in [0, {n - 1}] (0-based), "
            f"got {array[resample, position]} (resample {resample}, position {position})"
        )
    return array.astype(np.int64)


def resample_counts(indices: np.ndarray, n: int) -> npt.NDArray[np.int64]:
    """(n_samples, n) how often each stimulus was drawn in each resample."""
    offsets = indices + n * np.arange(len(indices))[:, None]
    return np.bincount(offsets.ravel(), minlength=n * len(indices)).reshape(len(indices), n)


def pair_weights(counts: npt.ArrayLike) -> npt.NDArray[np.float64]:
    """(n_samples, n_cells) weight c_i c_j of each upper-triangle cell (i < j, row by row).

    Built cell-major (a transposed view is returned) so that each stimulus's block of cells is
    one contiguous write; BLAS takes the transposed layout as it is.
    """
    counts = np.ascontiguousarray(np.asarray(counts, dtype=np.float64).T)  # (n, n_samples)
    n = len(counts)
    weights = np.empty((n * (n - 1) // 2, counts.shape[1]))
    start = 0
    for i in range(n - 1):  # cells (i, i+1..n-1): one product per stimulus, not per sample
        np.multiply(counts[i + 1 :], counts[i], out=weights[start : start + n - 1 - i])
        start += n - 1 - i
    return weights.T


def chunks(n_samples: int, values_per_sample: int) -> list[slice]:
    """Slices of at most ``_CHUNK_SAMPLES`` samples and about ``_CHUNK_VALUES`` values.

    The slicing never depends on the number of workers, so results are bit-identical whatever
    ``n_jobs`` or backend runs them.
    """
    step = max(1, min(_CHUNK_VALUES // max(1, values_per_sample), _CHUNK_SAMPLES))
    return [slice(start, min(start + step, n_samples)) for start in range(0, n_samples, step)]


def _correlate_samples(counts: np.ndarray, models: np.ndarray, brains: np.ndarray, method: str) -> np.ndarray:
    """(n_samples, n_brain, n_model) weighted correlations for resamples with these counts.

    BLAS runs on one thread: its sums then do not depend on the thread count, so results are
    bit-identical under any joblib backend. The limit is process-wide; ``_compare`` sets it in
    the calling thread for the whole run, which covers tasks run in threads of that process
    (joblib's threading backend, an in-process Dask cluster); this one covers a task run in a
    worker process (loky, Dask worker processes, whose BLAS Dask starts on one thread).
    """
    with threadpool_limits(1, user_api="blas"):
        return _correlate(counts, models, brains, method)


def _correlate(counts: np.ndarray, models: np.ndarray, brains: np.ndarray, method: str) -> np.ndarray:
    if method == "tau-a":
        return _tau_a_samples(counts, models, brains)
    weights = pair_weights(counts)
    if method == "spearman":  # ranks of the expanded resample, per sample
        models, brains = _weighted_ranks(weights, models), _weighted_ranks(weights, brains)
    else:
        models, brains = np.broadcast_to(models, (1, *models.shape)), np.broadcast_to(brains, (1, *brains.shape))
    return _weighted_pearson(weights, models, brains)


def _weighted_pearson(weights: np.ndarray, x: np.ndarray, y: np.ndarray) -> np.ndarray:
    """Weighted Pearson r of every row of y with every row of x, per sample.

    Args:
        weights: (n_samples, n_cells) non-negative.
        x: (n_samples or 1, n_x, n_cells).
        y: (n_samples or 1, n_y, n_cells).

    Returns:
        (n_samples, n_y, n_x); 0 where either side has no variance under the weights.
    """
    total = _total(weights)
    w = weights[:, None, :]
    x = x - x.mean(axis=-1, keepdims=True)  # centring first keeps the one-pass moments exact
    y = y - y.mean(axis=-1, keepdims=True)
    if len(x) == 1 and len(y) == 1:  # the same vectors in every sample: one matrix product
        x, y = x[0], y[0]
        pairs = (y[:, None, :] * x[None, :, :]).reshape(-1, x.shape[1])
        sums = (np.concatenate([x, y, x * x, y * y, pairs]) @ weights.T).T / total
        mean_x, mean_y, square_x, square_y, cross = np.split(sums, np.cumsum([len(x), len(y)] * 2), axis=1)
        cross = cross.reshape(len(weights), len(y), len(x)) * total[:, :, None]
    else:
        mean_x, mean_y = (w * x).sum(-1) / total, (w * y).sum(-1) / total
        square_x, square_y = (w * x * x).sum(-1) / total, (w * y * y).sum(-1) / total
        cross = np.matmul(w * y, np.swapaxes(x, 1, 2))
    cov = cross / total[:, :, None] - mean_y[:, :, None] * mean_x[:, None, :]
    return _safe_ratio(cov, (square_y - mean_y**2, square_y), (square_x - mean_x**2, square_x), outer=True)


def paired_weighted_pearson(weights: np.ndarray, pairs: np.ndarray) -> npt.NDArray[np.float64]:
    """(n_samples, n_pairs) weighted Pearson r within each pair; ``pairs`` (n_pairs, 2, n_cells)."""
    pairs = pairs - pairs.mean(axis=2, keepdims=True)
    total = _total(weights)
    a, b = pairs[:, 0], pairs[:, 1]
    mean_a, mean_b = weights @ a.T / total, weights @ b.T / total
    square_a, square_b = weights @ (a * a).T / total, weights @ (b * b).T / total
    cov = weights @ (a * b).T / total - mean_a * mean_b
    return _safe_ratio(cov, (square_a - mean_a**2, square_a), (square_b - mean_b**2, square_b))


def _total(weights: np.ndarray) -> np.ndarray:
    """(n_samples, 1) total weight of each sample's cells; 1 where it has none (one stimulus drawn).

    A sample without cells then has zero means and variances, so its correlations are 0 by the
    rule for RDMs without variance, not 0 / 0.
    """
    total = weights.sum(axis=1)[:, None]
    return np.where(total > 0, total, 1.0)


def _safe_ratio(
    cov: np.ndarray,
    moments_a: tuple[np.ndarray, np.ndarray],
    moments_b: tuple[np.ndarray, np.ndarray],
    outer: bool = False,
) -> np.ndarray:
    """Correlation cov / sqrt(var_a var_b) from (variance, mean square) pairs; 0 where a variance vanishes.

    A variance counts as zero at or below 1e-12 of the mean square (rounding of a constant
    vector). ``outer``: a is (n_samples, n_a), b (n_samples, n_b) and cov (n_samples, n_a, n_b).
    """
    (var_a, square_a), (var_b, square_b) = moments_a, moments_b
    flat_a, flat_b = var_a <= 1e-12 * square_a, var_b <= 1e-12 * square_b
    var_a, var_b = np.where(flat_a, 1.0, var_a), np.where(flat_b, 1.0, var_b)
    if outer:
        var_a, var_b, flat_a, flat_b = var_a[:, :, None], var_b[:, None, :], flat_a[:, :, None], flat_b[:, None, :]
    r = cov / np.sqrt(var_a * var_b)
    return np.clip(np.where(flat_a | flat_b, 0.0, r), -1.0, 1.0)


def _weighted_ranks(weights: np.ndarray, vectors: np.ndarray) -> np.ndarray:
    """(n_samples, n_vectors, n_cells) average rank of each cell in each expanded resample.

    A cell of value v has rank L + (G + 1) / 2, with L the weight of cells below v and G the
    weight of cells equal to v (its own copies and ties): ``scipy.stats.rankdata`` of the
    expanded vector. The sort is done once per vector; the samples are vectorized.
    """
    ranks = np.empty((len(weights), *vectors.shape))
    for row, values in enumerate(vectors):
        order = np.argsort(values, kind="stable")
        new_value = np.r_[True, values[order][1:] != values[order][:-1]]
        group_weight = np.add.reduceat(weights[:, order], np.flatnonzero(new_value), axis=1)
        group_rank = np.cumsum(group_weight, axis=1) - (group_weight - 1) / 2
        ranks[:, row, order] = group_rank[:, np.cumsum(new_value) - 1]
    return ranks


def _tau_a_samples(counts: np.ndarray, models: np.ndarray, brains: np.ndarray) -> np.ndarray:
    """Kendall's tau-a of rsatoolbox per resample (no weighted closed form): (n_samples, n_brain, n_model)."""
    from rsatoolbox.rdm import compare

    n = counts.shape[1]
    model_rdms, brain_rdms = RDMs(models), RDMs(brains)
    out = np.empty((len(counts), len(brains), len(models)))
    for s, c in enumerate(counts):
        sample = np.repeat(np.arange(n), c)
        m = model_rdms.subsample_pattern("index", sample)
        b = brain_rdms.subsample_pattern("index", sample)
        out[s] = np.nan_to_num(compare(m, b, method="tau-a"), nan=0.0).T
    return out


def spearman_brown(r: npt.ArrayLike) -> npt.NDArray[np.float64]:
    """2r / (1 + r), clipped to [-1, 1] (below r = -1/3 the formula leaves that range)."""
    r = np.clip(r, -1 + 1e-12, 1.0)
    return np.clip(2 * r / (1 + r), -1.0, 1.0)


def rdm_vectors(name: str, rdms: RDMs) -> npt.NDArray[np.float64]:
    """The RDMs' upper triangles as float64 (n_rdm, n_cells); InvalidTypeError or DataError naming ``name``."""
    if not isinstance(rdms, RDMs):
        raise InvalidTypeError(f"Invalid type for {name!r}: expected rsatoolbox RDMs, got {type(rdms).__name__}")
    vectors = np.asarray(rdms.get_vectors(), dtype=np.float64)
    bad = np.flatnonzero(~np.isfinite(vectors).all(axis=1))
    if bad.size:
        raise DataError(f"{name} holds NaN or Inf in RDM(s) {bad.tolist()}")
    return vectors


def check_n_jobs(n_jobs: int | None) -> int | None:
    """``n_jobs`` if it is None or a non-zero integer (joblib's convention), else InvalidArgumentError."""
    if n_jobs is not None and (
        isinstance(n_jobs, (bool, np.bool_)) or not isinstance(n_jobs, (int, np.integer)) or n_jobs == 0
    ):
        raise InvalidArgumentError(
            f"Invalid value for 'n_jobs': expected None or a non-zero integer (-1: every CPU), got {n_jobs!r}"
        )
    return n_jobs


def rdm_names(rdms: RDMs) -> list[str]:
    """The RDMs' ``name`` descriptors as strings (their positions when unnamed)."""
    names = rdms.rdm_descriptors.get("name")
    return [str(v) for v in names] if names is not None else [str(i) for i in range(rdms.n_rdm)]


def pattern_dict(rdms: RDMs) -> dict[str, Any]:
    """The RDMs' pattern descriptors without rsatoolbox's ``index``."""
    return {k: v for k, v in rdms.pattern_descriptors.items() if k != "index"}


def common_stimuli(model_rdms: RDMs, brain_rdms: RDMs) -> int:
    """The stimulus count of two RDM sets, which must share their stimuli and their order; else DataError."""
    if model_rdms.n_cond != brain_rdms.n_cond:
        raise DataError(
            f"model RDMs cover {model_rdms.n_cond} stimuli and brain RDMs {brain_rdms.n_cond}: "
            "they must be the same stimuli"
        )
    for key in ("identity", "view_deg", "object", "stimulus"):
        a, b = model_rdms.pattern_descriptors.get(key), brain_rdms.pattern_descriptors.get(key)
        if a is not None and b is not None and not np.array_equal(np.asarray(a), np.asarray(b)):
            first = int(np.flatnonzero(np.asarray(a) != np.asarray(b))[0])
            raise DataError(
                f"stimulus order differs between model and brain RDMs: {key!r} of stimulus {first} is "
                f"{np.asarray(a)[first]!r} vs {np.asarray(b)[first]!r}; reorder one of them"
            )
    return model_rdms.n_cond
