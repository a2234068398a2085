"""Pearson correlations between stimuli across z-scored units: the arithmetic under every RDM.

``pattern_correlations`` z-scores each unit and accumulates one Gram matrix product over column
chunks, so that the extra memory stays bounded (``chunk_bytes``) whatever the layer size: the
input is read once and never copied whole. It can also give only diagonal blocks (per-object
view RDMs) and z-score with statistics measured on a larger set (streamed activations).
Degenerate values (NaN, Inf, magnitudes whose squares overflow or underflow, constant
patterns) are refused with a message naming the entry, stimuli and units.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, NoReturn

import numpy as np
import numpy.typing as npt
from rsatoolbox.data import Dataset

from ._utils import format_indices
from .errors import DataError

if TYPE_CHECKING:
    from ._typing import FloatArray


def as_matrix(name: str, values: npt.ArrayLike | Dataset) -> np.ndarray:
    """View an entry as a 2-D (n_stimuli, n_units) array without copying when possible."""
    if isinstance(values, Dataset):
        values = values.measurements
    try:
        matrix = np.asarray(values)
    except ValueError:  # a ragged sequence
        raise DataError(f"activations[{name!r}] must be an array (n_stimuli, ...), got a ragged sequence") from None
    if matrix.ndim < 2:
        raise DataError(f"activations[{name!r}] must have shape (n_stimuli, ...), got shape {matrix.shape}")
    if not (np.issubdtype(matrix.dtype, np.floating) or np.issubdtype(matrix.dtype, np.integer)):
        raise DataError(f"activations[{name!r}] must be numeric, got dtype {matrix.dtype}")
    return matrix.reshape(matrix.shape[0], -1)


def pattern_correlations(
    name: str,
    values: npt.ArrayLike | Dataset,
    *,
    chunk_bytes: int,
    order: npt.ArrayLike | None = None,
    block: int | None = None,
    units: tuple[FloatArray, FloatArray] | None = None,
    flat_patterns: str = "raise",
) -> tuple[FloatArray, int]:
    """Pearson r across z-scored units between stimuli, in one pass over column chunks.

    Each chunk of units is z-scored on its own (the statistics of a unit need only its
    column), shifted per stimulus by an estimate of the stimulus' mean z-score (taken from the
    first informative chunk), and its Gram matrix accumulated. Row centring is then exact by
    algebra: c_i . c_j = z'_i . z'_j - s_i s_j / p, with s the row sums of the shifted z-scores
    z' and p the number of informative units; the shift only keeps that subtraction small, so
    float32 products lose no accuracy to it.

    ``units``, when given, is a pair of float64 arrays (mean, sd) of shape (n_units,) measured
    on a larger set than ``values`` holds (sd = inf marks a constant unit); the units are then
    z-scored with them instead of with statistics of ``values``.

    ``flat_patterns``: what to do with a stimulus whose z-scored pattern is constant across
    units (its correlation is undefined): ``"raise"``, or ``"uncorrelated"`` (r = 0 with every
    other stimulus).

    Returns (r, n_units_kept) where r is (n, n), or (n // block, block, block) for the diagonal
    blocks of the stimuli taken in ``order`` (used for per-object view RDMs); r is symmetric up
    to rounding, so callers read one triangle. Arithmetic runs
    in float32 for float16/float32 input and in float64 otherwise; statistics and the
    accumulated products are float64.
    """
    matrix = as_matrix(name, values)
    n, p = matrix.shape
    dtype = np.float32 if matrix.dtype in (np.float16, np.float32) else np.float64
    width = int(max(1, min(p, chunk_bytes // (n * np.dtype(dtype).itemsize))))
    buffer = np.empty((n, width), dtype=dtype)
    rows = None if order is None else np.asarray(order)
    gram = np.zeros((n, n) if block is None else (n // block, block, block))
    row_sums = np.zeros(n)
    shift = None
    kept = 0
    for start in range(0, p, width):
        cols = slice(start, min(start + width, p))
        chunk = buffer[:, : cols.stop - cols.start]
        source = matrix[:, cols] if rows is None else matrix[rows, cols]
        with np.errstate(over="ignore"):  # a sum that overflows is refused below
            mean = source.mean(axis=0, dtype=np.float64) if units is None else units[0][cols]
        if not np.all(np.isfinite(mean)):
            _raise_not_finite(name, matrix, cols, mean)
        # Centre with the float64 mean split into two float32 parts, so float32 data far from
        # zero keep their full precision (a float32-rounded mean would leave an offset).
        mean_high = mean.astype(dtype)
        with np.errstate(over="ignore"):  # an overflow here makes an infinite sd, refused below
            np.subtract(source, mean_high, out=chunk, casting="unsafe")
        if dtype is np.float32:
            chunk -= (mean - mean_high).astype(dtype)
        if units is None:
            sd = _standard_deviations(chunk, source, mean, name=name, start=cols.start)
        else:
            sd = units[1][cols]
        constant = np.flatnonzero(np.isinf(sd))
        with np.errstate(over="ignore", divide="ignore"):
            scale = (1.0 / sd).astype(dtype)  # 0 for constant units (sd = inf)
        if not np.all(np.isfinite(scale)):
            _raise_too_small(name, source, np.flatnonzero(~np.isfinite(scale)), cols.start, dtype)
        chunk *= scale
        informative = chunk.shape[1] - len(constant)
        kept += informative
        ones = np.ones(chunk.shape[1], dtype=dtype)
        if shift is None and informative:
            shift = ((chunk @ ones) / informative).astype(dtype)[:, None]
        if shift is not None:
            chunk -= shift
            chunk[:, constant] = 0.0
        row_sums += chunk @ ones
        if block is None:
            gram += chunk @ chunk.T
        else:
            stacked = chunk.reshape(n // block, block, -1)
            gram += stacked @ stacked.transpose(0, 2, 1)
    if kept < 2:
        raise DataError(f"activations[{name!r}]: {kept} of {p} units vary across stimuli; at least 2 are needed")
    # In place on the (n, n) matrix: at the paper's 2025 stimuli each copy would cost 31 MiB.
    sums = row_sums if block is None else row_sums.reshape(n // block, block)
    gram -= sums[..., :, None] * (sums[..., None, :] / kept)
    if not np.all(np.isfinite(gram)):
        raise DataError(
            f"activations[{name!r}]: the {np.dtype(dtype).name} arithmetic overflowed (values too large or too small "
            "in magnitude); rescale the entry (multiply it by a constant: correlation distances do not change)"
        )
    norms = np.sqrt(np.clip(np.diagonal(gram, axis1=-2, axis2=-1), 0.0, None))
    flat = norms <= 1e-6 * np.sqrt(kept)
    if np.any(flat) and flat_patterns == "raise":
        stimuli = np.flatnonzero(flat.ravel()) if rows is None else rows[np.flatnonzero(flat.ravel())]
        raise DataError(
            f"activations[{name!r}]: stimuli {format_indices(stimuli)} have the same z-score on every unit; "
            "their correlation is undefined"
        )
    r = gram
    r /= np.where(flat, 1.0, norms)[..., :, None]
    r /= np.where(flat, 1.0, norms)[..., None, :]
    np.clip(r, -1.0, 1.0, out=r)
    r[np.broadcast_to(flat[..., :, None] | flat[..., None, :], r.shape)] = 0.0  # "uncorrelated"
    diagonal = np.arange(r.shape[-1])
    r[..., diagonal, diagonal] = 1.0
    return r, kept


def _standard_deviations(
    centred: np.ndarray, source: np.ndarray, mean: FloatArray, *, name: str = "", start: int = 0
) -> FloatArray:
    """Per-unit sd of a centred chunk; inf for constant units (confirmed exactly on ``source``).

    Sums of squares that overflow, or are so small that underflow cost them precision, are
    recomputed in float64; DataError (naming the entry ``name``; ``start``: the chunk's first
    unit) if they still do.
    """
    n = len(centred)
    info, wide = np.finfo(centred.dtype), np.finfo(np.float64)
    with np.errstate(over="ignore", under="ignore"):
        squares = np.einsum("ij,ij->j", centred, centred).astype(np.float64)
        inexact = np.flatnonzero(~np.isfinite(squares) | (squares < n * info.tiny))  # n * tiny: see below
        if inexact.size and centred.dtype != np.float64:
            squares[inexact] = np.einsum("ij,ij->j", centred[:, inexact], centred[:, inexact], dtype=np.float64)
    sd = np.sqrt(squares / n)
    # A constant unit has sd == 0 up to the rounding of its mean.
    maybe_constant = np.flatnonzero(sd <= 64 * info.eps * np.abs(mean))
    candidates = source[:, maybe_constant]
    constant = maybe_constant[candidates.max(axis=0) == candidates.min(axis=0)]
    if not np.all(np.isfinite(squares)):
        _raise_too_large(name, source, np.flatnonzero(~np.isfinite(squares)), start, centred.dtype)
    # Below n * tiny some squares are subnormal: their rounding error is no longer relative.
    too_small = np.setdiff1d(np.flatnonzero(squares < n * wide.tiny), constant)
    if too_small.size:
        _raise_too_small(name, source, too_small, start, np.float64)
    sd[constant] = np.inf
    return sd


def _raise_too_large(name: str, source: np.ndarray, units: np.ndarray, start: int, dtype: npt.DTypeLike) -> NoReturn:
    """DataError: finite values of these units (columns of ``source``) overflow ``dtype`` arithmetic."""
    magnitude = np.abs(np.asarray(source[:, units], dtype=np.float64)).max()
    raise DataError(
        f"activations[{name!r}]: values up to {magnitude:.3g} in magnitude (units {format_indices(units + start)}) "
        f"are too large for {np.dtype(dtype).name} arithmetic (their sums, differences or squares overflow); "
        "rescale the entry (divide it by a constant, e.g. its largest absolute value: correlation distances do not "
        "change)"
    )


def _raise_too_small(name: str, source: np.ndarray, units: np.ndarray, start: int, dtype: npt.DTypeLike) -> NoReturn:
    """DataError: the variation of these units (columns of ``source``) underflows ``dtype`` arithmetic."""
    magnitude = np.abs(np.asarray(source[:, units], dtype=np.float64)).max()
    raise DataError(
        f"activations[{name!r}]: values of units {format_indices(units + start)} (at most {magnitude:.3g} in "
        f"magnitude) are too small for {np.dtype(dtype).name} arithmetic (their squares underflow); rescale the "
        "entry (multiply it by a constant: correlation distances do not change)"
    )


def _raise_not_finite(name: str, matrix: np.ndarray, cols: slice, mean: np.ndarray | None) -> NoReturn:
    """DataError naming the stimuli and units of a chunk with NaN/Inf (or finite values whose sum overflows).

    ``mean``: the chunk's (n_units,) column means, or None where the chunk is known to hold NaN or Inf.
    """
    bad = ~np.isfinite(np.asarray(matrix[:, cols], dtype=np.float64))
    if not bad.any() and mean is not None:
        _raise_too_large(name, matrix[:, cols], np.flatnonzero(~np.isfinite(mean)), cols.start, np.float64)
    stimuli = np.flatnonzero(bad.any(axis=1))
    units = np.flatnonzero(bad.any(axis=0)) + cols.start
    raise DataError(
        f"activations[{name!r}] contains NaN or Inf at stimuli {format_indices(stimuli)} "
        f"and units {format_indices(units)} (first chunk with such values)"
    )
