"""Representational dissimilarity matrices.

The one place where activations (or recorded responses) become rsatoolbox ``RDMs``.

Dissimilarity is 1 - Pearson r across units, after every unit has been z-scored across the
stimuli of the evaluated set (METHODS.md, "Representational dissimilarity"). Units with zero
variance carry no information and are dropped (never turned into NaN); the number of units
kept is recorded in ``rdm_descriptors['n_units']``.

The work is a z-score followed by one Gram matrix product, done over column chunks so that the
extra memory stays bounded (``chunk_bytes``) whatever the layer size: the input is read once
and never copied whole.
"""

from __future__ import annotations

from collections.abc import Mapping

import numpy as np
from rsatoolbox.data import Dataset
from rsatoolbox.rdm import RDMs
from scipy.spatial.distance import squareform
from tqdm.auto import tqdm

from ._utils import check_count, check_option, format_indices
from .errors import DataError, InvalidTypeError

DEFAULT_CHUNK_BYTES = 32 * 2**20


def compute_rdms(
    activations, *, descriptors=None, chunk_bytes=DEFAULT_CHUNK_BYTES, flat_patterns="raise", verbose=False
) -> RDMs:
    """Correlation-distance RDMs, one per layer or patch.

    Args:
        activations: mapping name -> array of shape (n_stimuli, ...) (layer activations, any
            unit shape, flattened per stimulus; float16/32/64 or integers; a NumPy memmap
            works and is read in chunks) or -> rsatoolbox ``Dataset`` (its measurements,
            (n_stimuli, n_channels)). A single ``Dataset`` is taken as one entry named by its
            ``descriptors['name']`` (or ``'dataset'``). All entries must have the same
            n_stimuli.
        descriptors: mapping descriptor name -> sequence of n_stimuli values (e.g. identity,
            view_deg, category, object), stored as the RDMs' pattern descriptors. When
            omitted and the entries are Datasets, their (identical) ``obs_descriptors`` are used.
        chunk_bytes: size in bytes of the working buffer (n_stimuli x chunk of units); the
            peak extra memory is about this plus two n_stimuli x n_stimuli float64 matrices.
        flat_patterns: a stimulus whose z-scored pattern is the same on every unit (e.g. a
            frontal view in the reflection-sensitive part of a representation, which is
            exactly zero) has no defined correlation: ``"raise"`` (default) or
            ``"uncorrelated"`` (dissimilarity 1 to every other stimulus).
        verbose: show a progress bar over the entries.

    Returns:
        ``RDMs`` with one (n_stimuli x n_stimuli) float64 RDM per entry, in the mapping's order;
        ``rdm_descriptors``: ``name`` and ``n_units`` (units kept after dropping zero-variance
        ones); ``dissimilarity_measure='correlation'``.

    Raises:
        DataError: fewer than 3 stimuli, stimuli counts that differ between entries, an entry
            that is not a numeric (n_stimuli, ...) array, NaN or Inf values (the message names
            the entry, stimuli and units), values too large or too small in magnitude for the
            arithmetic (float64: about 1e154 and above, or 1e-154 and below, where squares
            overflow or underflow; the message names the entry, units and magnitude), fewer than
            2 units with non-zero variance, descriptors of the wrong length, or (with
            ``flat_patterns="raise"``) a stimulus whose z-scored pattern is constant across units.
        InvalidTypeError: ``activations`` is not a non-empty mapping, or ``descriptors`` not a
            mapping.
        InvalidArgumentError: ``flat_patterns`` or ``chunk_bytes`` cannot be used.
    """
    check_option("flat_patterns", flat_patterns, ("raise", "uncorrelated"))
    check_count("chunk_bytes", chunk_bytes, minimum=1)
    entries = _as_entries(activations)
    n_stimuli = _common_n_stimuli(entries)
    patterns = _pattern_descriptors(entries, descriptors, n_stimuli)
    vectors = np.empty((len(entries), n_stimuli * (n_stimuli - 1) // 2))
    n_units = []
    for i, (name, matrix) in enumerate(tqdm(entries.items(), desc="RDMs", disable=not verbose)):
        r, kept = _correlations(name, matrix, chunk_bytes=chunk_bytes, flat_patterns=flat_patterns)
        dissimilarity = np.subtract(1.0, r, out=r)
        vectors[i] = squareform(dissimilarity, checks=False)  # upper triangle, row by row
        n_units.append(kept)
    return RDMs(
        vectors,
        dissimilarity_measure="correlation",
        rdm_descriptors={"name": list(entries), "n_units": n_units},
        pattern_descriptors=patterns,
    )


def compute_view_rdms(
    activations,
    *,
    descriptors=None,
    object_key="object",
    view_key="view_deg",
    chunk_bytes=DEFAULT_CHUNK_BYTES,
    verbose=False,
) -> RDMs:
    """Per-object view RDMs (the n_views x n_views matrices of the mirror-symmetry index).

    Units are z-scored over the whole set (all objects, all views), then for each object the
    dissimilarity (1 - Pearson r across units) between its views is computed. Only the
    per-object blocks are formed, so the cost is linear in the number of stimuli.

    Args:
        activations: as in ``compute_rdms``.
        descriptors: as in ``compute_rdms``; must contain ``object_key`` and ``view_key``.
        object_key: descriptor naming the object (exemplar, or identity for faces).
        view_key: descriptor holding the yaw in degrees; every object must have each view once
            and all objects the same views. Views without a mirror view in the set (NaN yaw,
            such as up/down; 180; a yaw whose negative was not shown) are left out, and named
            in ``descriptors['views_left_out']``; the units are then z-scored over the
            stimuli kept.
        chunk_bytes: working-buffer size, as in ``compute_rdms``.
        verbose: show a progress bar over the entries.

    Returns:
        ``RDMs`` with n_entries x n_objects RDMs of shape (n_views, n_views), views sorted left
        to right (ascending yaw). ``rdm_descriptors``: ``name``, ``n_units``, ``object_key`` and
        every other descriptor that is constant within each object (e.g. ``category``).
        ``pattern_descriptors``: ``view_key``. ``descriptors['views_left_out']``: the labels
        (``view`` descriptor, else yaw) of the views left out, empty when none.

    Raises:
        DataError: as in ``compute_rdms``, and a design that is not complete (a descriptor
            missing, fewer than 3 mirror-paired views, an object without each view once).
    """
    check_count("chunk_bytes", chunk_bytes, minimum=1)
    entries = _as_entries(activations)
    n_stimuli = _common_n_stimuli(entries)
    patterns = _pattern_descriptors(entries, descriptors, n_stimuli)
    left_out, kept = _unpaired_views(patterns, object_key, view_key)
    if kept is not None:
        entries = {name: _as_matrix(name, matrix)[kept] for name, matrix in entries.items()}
        patterns = {key: values[kept] for key, values in patterns.items()}
    order, objects, views = _object_view_order(patterns, object_key, view_key, left_out)
    correlations, n_units = {}, {}
    for name, matrix in tqdm(entries.items(), desc="view RDMs", disable=not verbose):
        correlations[name], n_units[name] = _correlations(
            name, matrix, chunk_bytes=chunk_bytes, order=order, block=len(views)
        )
    return _assemble_view_rdms(correlations, n_units, patterns, order, objects, views, view_key, left_out)


def _unpaired_views(patterns, object_key, view_key):
    """The views without a mirror view, and the rows to keep (None when every view is paired).

    Views are named by a ``view`` descriptor when there is one (e.g. 'up', 'down'), else by
    their yaw.
    """
    if view_key not in patterns or object_key not in patterns:
        return [], None
    paired = mirror_paired(patterns[view_key])
    if paired.all():
        return [], None
    names = np.asarray(patterns.get("view", patterns[view_key]))[~paired]
    return [str(v) for v in dict.fromkeys(names.tolist())], np.flatnonzero(paired)


def _assemble_view_rdms(correlations, n_units, patterns, order, objects, views, view_key, left_out=()) -> RDMs:
    """RDMs of per-object view correlations (name -> (n_objects, n_views, n_views) in ``order``)."""
    n_objects, n_views = len(objects), len(views)
    upper = np.triu_indices(n_views, k=1)
    vectors = [1.0 - r[:, upper[0], upper[1]] for r in correlations.values()]
    rdm_descriptors = {
        "name": [name for name in correlations for _ in range(n_objects)],
        "n_units": [n_units[name] for name in correlations for _ in range(n_objects)],
    }
    first_rows = order.reshape(n_objects, n_views)[:, 0]
    for key, values in patterns.items():
        values = np.asarray(values)
        per_object = values[order].reshape(n_objects, n_views)
        if key != view_key and key != "index" and np.all(per_object == per_object[:, :1]):
            rdm_descriptors[key] = list(values[first_rows]) * len(correlations)
    return RDMs(
        np.concatenate(vectors),
        dissimilarity_measure="correlation",
        descriptors={"views_left_out": list(left_out)},
        rdm_descriptors=rdm_descriptors,
        pattern_descriptors={view_key: list(views)},
    )


def _as_entries(activations) -> dict:
    if isinstance(activations, Dataset):
        activations = {activations.descriptors.get("name", "dataset"): activations}
    if not isinstance(activations, Mapping) or not activations:
        raise InvalidTypeError(
            "Invalid type for 'activations': expected a non-empty mapping name -> array (n_stimuli, ...) or "
            f"rsatoolbox Dataset, got {type(activations).__name__}"
        )
    return dict(activations)


def _as_matrix(name, values) -> np.ndarray:
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


def _common_n_stimuli(entries) -> int:
    counts = {name: np.shape(v.measurements if isinstance(v, Dataset) else v)[0] for name, v in entries.items()}
    if len(set(counts.values())) != 1:
        raise DataError(f"all activations must have the same number of stimuli, got {counts}")
    n = next(iter(counts.values()))
    if n < 3:
        raise DataError(f"an RDM needs at least 3 stimuli, got {n}")
    return n


def _pattern_descriptors(entries, descriptors, n_stimuli) -> dict:
    if descriptors is None:
        datasets = [v for v in entries.values() if isinstance(v, Dataset)]
        if not datasets:
            return {}
        descriptors = datasets[0].obs_descriptors
        for other in datasets[1:]:
            if set(other.obs_descriptors) != set(descriptors) or not all(
                _same_values(other.obs_descriptors[k], descriptors[k]) for k in descriptors
            ):
                raise DataError("the Datasets' obs_descriptors differ; pass descriptors= explicitly")
    if not isinstance(descriptors, Mapping):
        raise InvalidTypeError(
            f"Invalid type for 'descriptors': expected a mapping name -> {n_stimuli} values (one per stimulus), "
            f"got {type(descriptors).__name__}"
        )
    patterns = {}
    for key, values in descriptors.items():
        values = np.asarray(values)
        if values.shape[:1] != (n_stimuli,):
            got = values.shape[0] if values.ndim else "a scalar"
            raise DataError(f"descriptors[{key!r}] must have {n_stimuli} values (one per stimulus), got {got}")
        patterns[key] = values.copy()
    return patterns


def _same_values(a, b) -> bool:
    """Equal descriptor arrays, NaN equal to NaN (up/down views have no yaw)."""
    a, b = np.asarray(a), np.asarray(b)
    if a.dtype.kind in "fc" and b.dtype.kind in "fc":
        return np.array_equal(a, b, equal_nan=True)
    return np.array_equal(a, b)


def mirror_paired(view_deg) -> np.ndarray:
    """Which stimuli show a view whose mirror view is in the set too.

    Args:
        view_deg: (n_stimuli,) yaw in degrees; NaN for views off the yaw circle.

    Returns:
        (n_stimuli,) bool: the yaw is finite and its negative occurs too (the frontal view 0
        is its own mirror view). Up/down (NaN), back (180 without -180) and a yaw whose mirror
        view was not shown are False.
    """
    yaw = np.asarray(view_deg, dtype=float)
    present = yaw[np.isfinite(yaw)]
    return np.isfinite(yaw) & np.isin(-yaw, present)


def _object_view_order(patterns, object_key, view_key, left_out=()):
    """Row order grouping stimuli by object, views ascending; checks the design is complete."""
    for key in (object_key, view_key):
        if key not in patterns:
            raise DataError(f"descriptors need {key!r} for per-object view RDMs; available: {sorted(patterns)}")
    objects_per_row = patterns[object_key]
    views_per_row = patterns[view_key].astype(float)
    if not np.all(np.isfinite(views_per_row)):
        bad = np.flatnonzero(~np.isfinite(views_per_row))
        raise DataError(
            f"{view_key!r} is NaN/Inf for stimuli {format_indices(bad)} (views off the yaw circle, e.g. up/down): "
            "select the yaw views first"
        )
    objects = list(dict.fromkeys(objects_per_row.tolist()))
    views = np.unique(views_per_row)
    if len(views) < 3:
        dropped = f" (left out for want of a mirror view: {', '.join(left_out)})" if left_out else ""
        raise DataError(
            f"the mirror-symmetry index needs at least 3 mirror-paired views, got {views.tolist()}{dropped}"
        )
    if not np.allclose(views, -views[::-1]):
        raise DataError(f"views must come in mirror pairs (+v and -v) to be reflected, got {views.tolist()}")
    order = []
    for obj in objects:
        rows = np.flatnonzero(objects_per_row == obj)
        if len(rows) != len(views) or not np.array_equal(np.sort(views_per_row[rows]), views):
            raise DataError(
                f"object {obj!r} must have each of the views {views.tolist()} once, got {views_per_row[rows].tolist()}"
            )
        order.append(rows[np.argsort(views_per_row[rows], kind="stable")])
    return np.concatenate(order), objects, views


def _correlations(name, values, *, chunk_bytes, order=None, block=None, units=None, flat_patterns="raise"):
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
    matrix = _as_matrix(name, values)
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


def _standard_deviations(centred, source, mean, *, name="", start=0):
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


def _raise_too_large(name, source, units, start, dtype):
    """DataError: finite values of these units (columns of ``source``) overflow ``dtype`` arithmetic."""
    magnitude = np.abs(np.asarray(source[:, units], dtype=np.float64)).max()
    raise DataError(
        f"activations[{name!r}]: values up to {magnitude:.3g} in magnitude (units {format_indices(units + start)}) "
        f"are too large for {np.dtype(dtype).name} arithmetic (their sums, differences or squares overflow); "
        "rescale the entry (divide it by a constant, e.g. its largest absolute value: correlation distances do not "
        "change)"
    )


def _raise_too_small(name, source, units, start, dtype):
    """DataError: the variation of these units (columns of ``source``) underflows ``dtype`` arithmetic."""
    magnitude = np.abs(np.asarray(source[:, units], dtype=np.float64)).max()
    raise DataError(
        f"activations[{name!r}]: values of units {format_indices(units + start)} (at most {magnitude:.3g} in "
        f"magnitude) are too small for {np.dtype(dtype).name} arithmetic (their squares underflow); rescale the "
        "entry (multiply it by a constant: correlation distances do not change)"
    )


def _raise_not_finite(name, matrix, cols, mean):
    """DataError naming the stimuli and units of a chunk with NaN/Inf (or finite values whose sum overflows)."""
    bad = ~np.isfinite(np.asarray(matrix[:, cols], dtype=np.float64))
    if not bad.any():
        _raise_too_large(name, matrix[:, cols], np.flatnonzero(~np.isfinite(mean)), cols.start, np.float64)
    stimuli = np.flatnonzero(bad.any(axis=1))
    units = np.flatnonzero(bad.any(axis=0)) + cols.start
    raise DataError(
        f"activations[{name!r}] contains NaN or Inf at stimuli {format_indices(stimuli)} "
        f"and units {format_indices(units)} (first chunk with such values)"
    )
