"""Representational dissimilarity matrices.

The one place where activations (or recorded responses) become rsatoolbox ``RDMs``.

Dissimilarity is 1 - Pearson r across units. By default every unit is first z-scored across
the stimuli of the evaluated set, as the paper states for Figures 2-4 (METHODS.md,
"Representational dissimilarity"); units with zero variance then carry no information and are
dropped (never turned into NaN). ``normalize="none"`` correlates the raw patterns over all
units, as Figure 6 does. The number of units used is recorded in
``rdm_descriptors['n_units']``.

The work is a z-score followed by one Gram matrix product, done over column chunks so that the
extra memory stays bounded (``chunk_bytes``) whatever the layer size: the input is read once
and never copied whole.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import TYPE_CHECKING, Any, TypeAlias

import numpy as np
from rsatoolbox.data import Dataset
from rsatoolbox.rdm import RDMs
from scipy.spatial.distance import squareform
from tqdm.auto import tqdm

from ._utils import check_count, check_option, format_indices
from .correlations import _raise_not_finite as raise_not_finite
from .correlations import as_matrix, pattern_correlations
from .errors import DataError, InvalidTypeError

if TYPE_CHECKING:
    import numpy.typing as npt

    from ._typing import BoolArray, FloatArray, IntArray

#: What ``compute_rdms`` reads: name -> activations (n_stimuli, ...) or rsatoolbox ``Dataset``.
_Entries: TypeAlias = "Mapping[str, npt.ArrayLike | Dataset]"

DEFAULT_CHUNK_BYTES = 32 * 2**20
NORMALIZATIONS = ("zscore", "none")


def compute_rdms(
    activations: _Entries | Dataset,
    *,
    descriptors: Mapping[str, npt.ArrayLike] | None = None,
    normalize: str = "zscore",
    chunk_bytes: int = DEFAULT_CHUNK_BYTES,
    flat_patterns: str = "raise",
    verbose: bool = False,
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
        normalize: ``"zscore"`` (default: each unit z-scored over the stimuli, units without
            variance dropped; the paper's rule for Figures 2-4) or ``"none"`` (the raw patterns
            over all units, plain 1 - Pearson r; Figure 6's RDMs, where every entry depends on
            its two stimuli only, so that resampling stimuli resamples the cells).
        chunk_bytes: size in bytes of the working buffer (n_stimuli x chunk of units); the
            peak extra memory is about this plus two n_stimuli x n_stimuli float64 matrices.
        flat_patterns: a stimulus whose (z-scored) pattern is the same on every unit (e.g. a
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
            2 units with non-zero variance (with ``normalize="none"``: fewer than 2 units),
            descriptors of the wrong length, or (with
            ``flat_patterns="raise"``) a stimulus whose z-scored pattern is constant across units.
        InvalidTypeError: ``activations`` is not a non-empty mapping, or ``descriptors`` not a
            mapping.
        InvalidArgumentError: ``normalize``, ``flat_patterns`` or ``chunk_bytes`` cannot be used.
    """
    check_option("normalize", normalize, NORMALIZATIONS)
    check_option("flat_patterns", flat_patterns, ("raise", "uncorrelated"))
    check_count("chunk_bytes", chunk_bytes, minimum=1)
    entries = _as_entries(activations)
    n_stimuli = _common_n_stimuli(entries)
    patterns = _pattern_descriptors(entries, descriptors, n_stimuli)
    vectors = np.empty((len(entries), n_stimuli * (n_stimuli - 1) // 2))
    n_units: list[int] = []
    for i, (name, matrix) in enumerate(tqdm(entries.items(), desc="RDMs", disable=not verbose)):
        if normalize == "zscore":
            r, kept = pattern_correlations(name, matrix, chunk_bytes=chunk_bytes, flat_patterns=flat_patterns)
        else:
            r, kept = _plain_correlations(name, matrix, chunk_bytes, flat_patterns)
        dissimilarity = np.subtract(1.0, r, out=r)
        vectors[i] = squareform(dissimilarity, checks=False)  # upper triangle, row by row
        n_units.append(kept)
    return RDMs(
        vectors,
        dissimilarity_measure="correlation",
        rdm_descriptors={"name": list(entries), "n_units": n_units},
        pattern_descriptors=patterns,
    )


def _plain_correlations(
    name: str, values: npt.ArrayLike | Dataset, chunk_bytes: int, flat_patterns: str
) -> tuple[FloatArray, int]:
    """(Pearson r across all units between stimuli, n_units) of the raw patterns, in float64.

    Two passes over column chunks: the stimuli's means across units, then the Gram matrix of the
    patterns centred on them (raw activations are far from zero: without the exact centring,
    their large common part would cancel out of float32 sums inaccurately).
    """
    matrix = as_matrix(name, values)
    n, p = matrix.shape
    if p < 2:
        raise DataError(f"activations[{name!r}] has {p} unit(s); a correlation across units needs at least 2")
    width = int(max(1, min(p, chunk_bytes // (8 * n))))
    columns = [slice(start, min(start + width, p)) for start in range(0, p, width)]
    means = np.zeros(n)
    for cols in columns:
        block = np.asarray(matrix[:, cols], dtype=np.float64)
        if not np.isfinite(block).all():
            raise_not_finite(name, matrix, cols, None)
        means += block.sum(axis=1)
    means /= p
    gram = np.zeros((n, n))
    for cols in columns:
        block = np.asarray(matrix[:, cols], dtype=np.float64) - means[:, None]
        gram += block @ block.T
    if not np.all(np.isfinite(gram)):
        raise DataError(
            f"activations[{name!r}]: the float64 arithmetic overflowed (values too large in magnitude); rescale the "
            "entry (divide it by a constant: correlation distances do not change)"
        )
    norms = np.sqrt(np.clip(np.diagonal(gram), 0.0, None))
    flat = norms <= 1e-12 * np.sqrt(p) * (np.abs(means) + 1e-300)
    flat |= norms == 0
    if np.any(flat) and flat_patterns == "raise":
        raise DataError(
            f"activations[{name!r}]: stimuli {format_indices(np.flatnonzero(flat))} have the same value on every "
            "unit; their correlation is undefined"
        )
    safe = np.where(flat, 1.0, norms)
    r = np.clip(gram / safe[:, None] / safe[None, :], -1.0, 1.0)
    r[flat[:, None] | flat[None, :]] = 0.0  # "uncorrelated"
    np.fill_diagonal(r, 1.0)
    return r, p


def compute_view_rdms(
    activations: _Entries | Dataset,
    *,
    descriptors: Mapping[str, npt.ArrayLike] | None = None,
    object_key: str = "object",
    view_key: str = "view_deg",
    chunk_bytes: int = DEFAULT_CHUNK_BYTES,
    verbose: bool = False,
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
        entries = {name: as_matrix(name, matrix)[kept] for name, matrix in entries.items()}
        patterns = {key: values[kept] for key, values in patterns.items()}
    order, objects, views = _object_view_order(patterns, object_key, view_key, left_out)
    correlations: dict[str, FloatArray] = {}
    n_units: dict[str, int] = {}
    for name, matrix in tqdm(entries.items(), desc="view RDMs", disable=not verbose):
        correlations[name], n_units[name] = pattern_correlations(
            name, matrix, chunk_bytes=chunk_bytes, order=order, block=len(views)
        )
    return _assemble_view_rdms(correlations, n_units, patterns, order, objects, views, view_key, left_out)


class StreamedViewRDMs:
    """Per-object view RDMs accumulated from activations that arrive object by object.

    For activations too large to hold for all stimuli (``model_view_rdms`` streams them from
    a network): make it from the stimuli's descriptors, visit the stimuli in ``order`` (the
    objects one after another, each object's views ascending) in batches of whole objects, hand
    each batch of every entry to ``add`` with the units' statistics over the whole set, then
    take ``rdms()``. The result equals ``compute_view_rdms`` on the same activations up to
    float rounding; memory is one batch plus the per-object blocks.

    Args:
        descriptors: mapping name -> one value per stimulus, with ``object_key`` and ``view_key``.
        n_stimuli: number of stimuli.
        object_key, view_key: as in ``compute_view_rdms`` (every view must be mirror-paired).

    Raises:
        DataError: as in ``compute_view_rdms``.
    """

    def __init__(
        self,
        descriptors: Mapping[str, npt.ArrayLike],
        n_stimuli: int,
        *,
        object_key: str = "object",
        view_key: str = "view_deg",
    ) -> None:
        self.patterns = _pattern_descriptors({}, descriptors, n_stimuli)
        self.order, self.objects, self.views = _object_view_order(self.patterns, object_key, view_key)
        self.view_key = view_key
        self._blocks: dict[str, list[FloatArray]] = {}
        self._n_units: dict[str, int] = {}

    @property
    def n_views(self) -> int:
        """Views per object (a batch of ``add`` holds a multiple of it)."""
        return len(self.views)

    def add(self, name: str, values: npt.ArrayLike, units: tuple[FloatArray, FloatArray]) -> None:
        """One batch of entry ``name``: (k * n_views, ...) activations of the next k objects, in ``order``.

        ``units`` is the pair (mean, sd) of float64 arrays (n_units,) over the whole set (sd =
        inf marks a constant unit), with which the units are z-scored.
        """
        r, self._n_units[name] = pattern_correlations(
            name, values, chunk_bytes=DEFAULT_CHUNK_BYTES, block=self.n_views, units=units
        )
        self._blocks.setdefault(name, []).append(r)

    def add_correlations(self, name: str, r: npt.ArrayLike, n_units: int) -> None:
        """One batch of entry ``name`` as correlations computed elsewhere (e.g. on a GPU).

        ``r``: (k, n_views, n_views) Pearson r of the next k objects' views, in ``order``, with
        unit diagonal; ``n_units``: the informative units they were computed over.
        """
        self._blocks.setdefault(name, []).append(np.asarray(r, dtype=np.float64))
        self._n_units[name] = int(n_units)

    def rdms(self) -> RDMs:
        """The view RDMs of every entry added, laid out as ``compute_view_rdms`` returns them."""
        correlations = {name: np.concatenate(parts) for name, parts in self._blocks.items()}
        return _assemble_view_rdms(
            correlations, self._n_units, self.patterns, self.order, self.objects, self.views, self.view_key
        )


def _unpaired_views(
    patterns: Mapping[str, np.ndarray], object_key: str, view_key: str
) -> tuple[list[str], IntArray | None]:
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


def _assemble_view_rdms(
    correlations: Mapping[str, FloatArray],
    n_units: Mapping[str, int],
    patterns: Mapping[str, np.ndarray],
    order: IntArray,
    objects: Sequence[Any],
    views: FloatArray,
    view_key: str,
    left_out: Sequence[str] = (),
) -> RDMs:
    """RDMs of per-object view correlations (name -> (n_objects, n_views, n_views) in ``order``)."""
    n_objects, n_views = len(objects), len(views)
    upper = np.triu_indices(n_views, k=1)
    vectors = [1.0 - r[:, upper[0], upper[1]] for r in correlations.values()]
    rdm_descriptors: dict[str, list[Any]] = {
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


def _as_entries(activations: _Entries | Dataset) -> dict[str, npt.ArrayLike | Dataset]:
    if isinstance(activations, Dataset):
        activations = {activations.descriptors.get("name", "dataset"): activations}
    if not isinstance(activations, Mapping) or not activations:
        raise InvalidTypeError(
            "Invalid type for 'activations': expected a non-empty mapping name -> array (n_stimuli, ...) or "
            f"rsatoolbox Dataset, got {type(activations).__name__}"
        )
    return dict(activations)


def _common_n_stimuli(entries: _Entries) -> int:
    counts = {name: np.shape(v.measurements if isinstance(v, Dataset) else v)[0] for name, v in entries.items()}
    if len(set(counts.values())) != 1:
        raise DataError(f"all activations must have the same number of stimuli, got {counts}")
    n = next(iter(counts.values()))
    if n < 3:
        raise DataError(f"an RDM needs at least 3 stimuli, got {n}")
    return n


def _pattern_descriptors(
    entries: _Entries, descriptors: Mapping[str, npt.ArrayLike] | None, n_stimuli: int
) -> dict[str, np.ndarray]:
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
    patterns: dict[str, np.ndarray] = {}
    for key, values in descriptors.items():
        values = np.asarray(values)
        if values.shape[:1] != (n_stimuli,):
            got = values.shape[0] if values.ndim else "a scalar"
            raise DataError(f"descriptors[{key!r}] must have {n_stimuli} values (one per stimulus), got {got}")
        patterns[key] = values.copy()
    return patterns


def _same_values(a: npt.ArrayLike, b: npt.ArrayLike) -> bool:
    """Equal descriptor arrays, NaN equal to NaN (up/down views have no yaw)."""
    a, b = np.asarray(a), np.asarray(b)
    if a.dtype.kind in "fc" and b.dtype.kind in "fc":
        return np.array_equal(a, b, equal_nan=True)
    return np.array_equal(a, b)


def mirror_paired(view_deg: npt.ArrayLike) -> BoolArray:
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


def _object_view_order(
    patterns: Mapping[str, np.ndarray], object_key: str, view_key: str, left_out: Sequence[str] = ()
) -> tuple[IntArray, list[Any], FloatArray]:
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
    order: list[IntArray] = []
    for obj in objects:
        rows = np.flatnonzero(objects_per_row == obj)
        if len(rows) != len(views) or not np.array_equal(np.sort(views_per_row[rows]), views):
            raise DataError(
                f"object {obj!r} must have each of the views {views.tolist()} once, got {views_per_row[rows].tolist()}"
            )
        order.append(rows[np.argsort(views_per_row[rows], kind="stable")])
    return np.concatenate(order), objects, views
