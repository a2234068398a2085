"""RDMs of z-scored units recomputed within every stimulus resample (Figure 6, ``normalize="zscore"``).

With z-scored units an RDM entry depends on every stimulus of the set (through the units' means
and standard deviations), so resampling the cells of the full RDM is not recomputing the RDM on
the sample (by up to 0.03 in r per resample). This module recomputes it exactly: within each
resample every unit is z-scored over the drawn stimuli (repeats counted as drawn, units
constant on them dropped), the stimuli are correlated across units, and the resample's cells
are weighted c_i c_j as in ``resampling`` (copies of one stimulus removed).

All resamples of a chunk share one matrix product per block of units: with w_su = 1 / var_su
the inverse variance of unit u in resample s, the Gram matrix of the z-scored patterns is
sum_u w_su x_iu x_ju minus mean terms, i.e. (pair products of the units) @ w^T. Cost: about
n_stimuli^2 / 2 x n_units x n_resamples multiply-adds, in float64.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import TYPE_CHECKING

import joblib
import numpy as np
import numpy.typing as npt
from threadpoolctl import threadpool_limits

from .correlations import _raise_not_finite as raise_not_finite
from .correlations import as_matrix
from .errors import DataError
from .rdm import compute_rdms
from .resampling import (
    _correlate,
    _weighted_pearson,
    _weighted_ranks,
    pair_weights,
    resample_counts,
    spearman_brown,
)

if TYPE_CHECKING:
    from rsatoolbox.data import Dataset

_PAIR_VALUES = 2**22  # values of the pair-product buffer (n_cells x units of one block): 32 MiB
_SAMPLES = 250  # resamples per task; fixed, so results do not depend on the number of workers
# A unit whose variance within a resample is at most this share of its mean square there is
# checked exactly for being constant on the drawn stimuli (a constant unit reaches ~1e-16).
_CONSTANT_CANDIDATE = 1e-9


def zscored_sample_rdms(
    name: str, values: npt.ArrayLike | Dataset, counts: npt.ArrayLike, *, flat_patterns: str = "raise"
) -> npt.NDArray[np.float64]:
    """1 - Pearson r between stimuli after z-scoring the units over each resample's drawn stimuli.

    Args:
        name: the entry's label, named in errors.
        values: (n_stimuli, ...) activations or responses (flattened per stimulus).
        counts: (n_resamples, n_stimuli) how often each stimulus was drawn.
        flat_patterns: as in ``compute_rdms``, for a drawn stimulus whose z-scored pattern is
            constant across units.

    Returns:
        (n_resamples, n_cells) float64 dissimilarities of the upper-triangle cells (i < j, row by
        row). Cells of stimuli not drawn hold values that carry weight 0. A resample in which
        fewer than 2 units vary over the drawn stimuli has a constant RDM (its correlations are
        0 by the rule of ``resampling``).

    Raises:
        DataError: NaN or Inf in ``values``, or (``flat_patterns="raise"``) a flat pattern.
    """
    matrix = as_matrix(name, values)
    n, p = matrix.shape
    counts = np.asarray(counts, dtype=np.float64)
    drawn = counts > 0
    n_cells = n * (n - 1) // 2
    lower, upper = np.triu_indices(n, k=1)
    gram, diag = np.zeros((n_cells, len(counts))), np.zeros((n, len(counts)))
    cross, row_sums = np.zeros((n, len(counts))), np.zeros((n, len(counts)))
    offset, kept = np.zeros(len(counts)), np.zeros(len(counts))
    width = max(1, _PAIR_VALUES // max(1, n_cells))
    products = np.empty((n_cells, min(width, p)))
    for start in range(0, p, width):
        cols = slice(start, min(start + width, p))
        block = np.asarray(matrix[:, cols], dtype=np.float64)
        if not np.isfinite(block).all():
            raise_not_finite(name, matrix, cols, None)
        block = block[:, np.ptp(block, axis=0) > 0]  # units constant on every stimulus never count
        if not block.shape[1]:
            continue
        block -= block.mean(axis=0)  # the set's mean: the sample means below stay small
        mean, square = counts @ block / n, counts @ (block * block) / n  # (n_resamples, units)
        variance = square - mean * mean
        constant = _constant_on_drawn(block, drawn, variance <= _CONSTANT_CANDIDATE * square)
        scale = np.where(constant, 0.0, 1.0 / np.sqrt(np.where(constant, 1.0, variance)))
        weight = scale * scale
        pairs = products[:, : block.shape[1]]
        cell = 0
        for i in range(n - 1):  # one product per stimulus, as in pair_weights
            np.multiply(block[i + 1 :], block[i], out=pairs[cell : cell + n - 1 - i])
            cell += n - 1 - i
        gram += pairs @ weight.T
        diag += (block * block) @ weight.T
        cross += block @ (weight * mean).T
        offset += (weight * mean * mean).sum(axis=1)
        row_sums += block @ scale.T - (scale * mean).sum(axis=1)
        kept += (~constant).sum(axis=1)
    return 1.0 - _correlations(gram, diag, cross, offset, row_sums, kept, drawn, lower, upper, name, flat_patterns)


def _constant_on_drawn(block: np.ndarray, drawn: np.ndarray, candidates: np.ndarray) -> np.ndarray:
    """(n_resamples, units) True where a candidate unit takes one value on all drawn stimuli (exact)."""
    constant = np.zeros_like(candidates)
    columns = np.flatnonzero(candidates.any(axis=0))
    step = max(1, _PAIR_VALUES // max(1, drawn.size))
    for start in range(0, len(columns), step):
        sub = columns[start : start + step]
        values = block[:, sub][None]  # (1, n, q)
        high = np.where(drawn[:, :, None], values, -np.inf).max(axis=1)
        low = np.where(drawn[:, :, None], values, np.inf).min(axis=1)
        constant[:, sub] = candidates[:, sub] & (high == low)
    return constant


def _correlations(
    gram: np.ndarray,
    diag: np.ndarray,
    cross: np.ndarray,
    offset: np.ndarray,
    row_sums: np.ndarray,
    kept: np.ndarray,
    drawn: np.ndarray,
    lower: np.ndarray,
    upper: np.ndarray,
    name: str,
    flat_patterns: str,
) -> np.ndarray:
    """(n_resamples, n_cells) Pearson r across the kept units from the accumulated sums."""
    safe_kept = np.where(kept > 0, kept, 1.0)
    cells = gram - cross[lower] - cross[upper] + offset - row_sums[lower] * row_sums[upper] / safe_kept
    norms = diag - 2 * cross + offset - row_sums * row_sums / safe_kept
    norms = np.sqrt(np.clip(norms, 0.0, None))  # (n, n_resamples)
    flat = norms <= 1e-6 * np.sqrt(safe_kept)
    few_units = kept < 2
    if flat_patterns == "raise" and np.any(flat & drawn.T & ~few_units):
        stimulus, resample = np.argwhere(flat & drawn.T & ~few_units)[0]
        raise DataError(
            f"activations[{name!r}]: stimulus {stimulus} has the same z-score on every unit within resample "
            f"{resample}; its correlation is undefined"
        )
    r = cells / np.where(flat, 1.0, norms)[lower] / np.where(flat, 1.0, norms)[upper]
    r = np.clip(r, -1.0, 1.0)
    r[flat[lower] | flat[upper]] = 0.0
    r[:, few_units] = 0.0
    return r.T


def compare_zscored(
    models: Mapping[str, npt.ArrayLike],
    brains: Mapping[str, npt.ArrayLike | Dataset],
    indices: np.ndarray,
    method: str,
    n_jobs: int | None,
    *,
    flat_patterns: str = "raise",
    verbose: bool = False,
) -> tuple[np.ndarray, np.ndarray]:
    """Like ``resampling.compare`` on entries of activations, the RDMs recomputed within each resample.

    Args:
        models: mapping name -> (n_stimuli, ...) activations.
        brains: mapping name -> (n_stimuli, n_neurons) responses (or rsatoolbox ``Dataset``).
        indices: (n_resamples, n_stimuli) checked resamples.
        method: ``"pearson"`` or ``"spearman"``.
        n_jobs: joblib workers over chunks of resamples.
        flat_patterns: as in ``compute_rdms``.
        verbose: joblib progress messages.

    Returns:
        (estimate (n_brain, n_model) on all stimuli, samples (n_brain, n_model, n_resamples)).
    """
    model_vectors = compute_rdms(dict(models), normalize="zscore", flat_patterns=flat_patterns).dissimilarities
    brain_vectors = compute_rdms(dict(brains), normalize="zscore", flat_patterns=flat_patterns).dissimilarities
    n = indices.shape[1]
    with threadpool_limits(1, user_api="blas"):
        estimate = _correlate(np.ones((1, n), dtype=np.int64), model_vectors, brain_vectors, method)[0]
        parts = joblib.Parallel(n_jobs=n_jobs, verbose=10 if verbose else 0)(
            joblib.delayed(_zscored_chunk)(
                resample_counts(indices[start : start + _SAMPLES], n), models, brains, method, flat_patterns
            )
            for start in range(0, len(indices), _SAMPLES)
        )
    samples = np.concatenate(parts).transpose(1, 2, 0) if parts else np.empty((len(brains), len(models), 0))
    return estimate, samples


def _zscored_chunk(
    counts: np.ndarray,
    models: Mapping[str, npt.ArrayLike],
    brains: Mapping[str, npt.ArrayLike | Dataset],
    method: str,
    flat_patterns: str,
) -> np.ndarray:
    """(n_samples, n_brain, n_model) correlations of the recomputed RDMs of one chunk of resamples."""
    with threadpool_limits(1, user_api="blas"):
        weights = pair_weights(counts)
        brain = np.stack([zscored_sample_rdms(k, v, counts, flat_patterns=flat_patterns) for k, v in brains.items()], 1)
        if method == "spearman":
            brain = _sample_ranks(weights, brain)
        out = np.empty((len(counts), brain.shape[1], len(models)))
        for m, (name, values) in enumerate(models.items()):
            model = zscored_sample_rdms(name, values, counts, flat_patterns=flat_patterns)[:, None]
            if method == "spearman":
                model = _sample_ranks(weights, model)
            out[:, :, m] = _weighted_pearson(weights, model, brain)[:, :, 0]
        return out


def _sample_ranks(weights: np.ndarray, vectors: np.ndarray) -> np.ndarray:
    """(n_samples, n_vectors, n_cells) weighted ranks of vectors that differ per sample."""
    return np.stack([_weighted_ranks(weights[s : s + 1], vectors[s])[0] for s in range(len(weights))])


def zscored_split_half_samples(
    halves: Sequence[tuple[np.ndarray, ...]], indices: np.ndarray
) -> npt.NDArray[np.float64]:
    """(n_resamples,) mean over splits of the Spearman-Brown corrected r of recomputed half RDMs.

    ``halves``: list over splits of pairs of (n_stimuli, n_half) responses; ``indices``: checked
    (n_resamples, n_stimuli) resamples.
    """
    n = indices.shape[1]
    parts = []
    for start in range(0, len(indices), _SAMPLES):
        counts = resample_counts(indices[start : start + _SAMPLES], n)
        weights = pair_weights(counts)
        total = np.zeros(len(counts))
        with threadpool_limits(1, user_api="blas"):
            for first, second in halves:
                a = zscored_sample_rdms("half 1", first, counts)[:, None]
                b = zscored_sample_rdms("half 2", second, counts)[:, None]
                total += spearman_brown(_weighted_pearson(weights, a, b)[:, 0, 0])
        parts.append(total / len(halves))
    return np.concatenate(parts)
