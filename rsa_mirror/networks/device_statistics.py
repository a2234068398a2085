"""Streamed statistics of layer activations, on the host (NumPy) or on the activations' device (torch).

``model_view_rdms`` and ``equivariance_by_image`` see every layer's output once per pass and
keep only running statistics. Where that arithmetic runs is chosen by ``statistics_on``:

- ``"host"``: each layer's output crosses to host memory as float32 NumPy and the NumPy
  functions do the work (``rdm.StreamedViewRDMs`` / ``correlations.pattern_correlations``,
  ``symmetry.invariance`` / ``equivariance``): the reference.
- ``"device"``: the output stays where the network made it (a CUDA GPU, or the CPU) and torch
  does the same arithmetic there; only the per-object view correlations (n_objects, n_views,
  n_views) and the per-image r cross to the host, once, at the end of a pass.

One class holds the running unit statistics for both (``UnitStatistics``: Chan's parallel
update in float64, the same merge for NumPy arrays and torch tensors). On the device every
step is float64 too: a batch's mean and variance (``torch.var_mean``), the z-scores, Gram
products and per-image sums (the layer's float32 or bfloat16 output is widened as it is read),
over column chunks that bound the temporaries (``DEVICE_CHUNK_BYTES``).
Results agree with the host path within 1e-5 (tests/test_device_statistics.py).
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from typing import TYPE_CHECKING, Any, TypeAlias

import numpy as np
import torch

from .._utils import check_option, format_indices
from ..errors import DataError, InvalidArgumentError
from ..symmetry import equivariance, invariance, kept_units

if TYPE_CHECKING:
    from rsatoolbox.rdm import RDMs

    from ..rdm import StreamedViewRDMs

#: A batch of a layer's output, or statistics of it: a NumPy array on the host, a torch tensor on the
#: device. The arithmetic is written once for both and the kind is chosen at run time (``on_device``).
_Values: TypeAlias = Any

STATISTICS_ON = ("auto", "device", "host")
HOST_CHUNK_ELEMENTS = 2**22  # float64 temporaries of 32 MiB per column chunk
DEVICE_CHUNK_BYTES = {"cuda": 2**29, "cpu": 2**25}  # float64 temporaries per column chunk (a few alive)


def resolve_statistics_on(statistics_on: str, device: torch.device) -> str:
    """``"host"`` or ``"device"``: where the streamed statistics of a forward pass on ``device`` run.

    ``"auto"`` is ``"device"`` on CUDA (the activations never leave the GPU) and ``"host"``
    elsewhere: on the CPU both paths read the same memory and measured the same peak resident
    memory and time (VGG16, all presets, 243 images: 2.67 vs 2.69 GiB), and the host path is
    the reference. MPS has no float64, so it runs on the host.

    Raises:
        InvalidArgumentError: an unknown value, or ``"device"`` on MPS.
    """
    check_option("statistics_on", statistics_on, STATISTICS_ON)
    if statistics_on == "auto":
        return "device" if device.type == "cuda" else "host"
    if statistics_on == "device" and device.type == "mps":
        raise InvalidArgumentError(
            "Invalid value for 'statistics_on': 'device' needs float64, which MPS lacks; use 'host' or 'auto'"
        )
    return statistics_on


class UnitStatistics:
    """Running per-unit mean, sum of squared deviations and range over batches of rows.

    Batches are merged with Chan's parallel update in float64, a column chunk at a time, so the
    temporaries stay small for layers of millions of units. Rows are NumPy arrays (``device``
    None) or torch tensors on ``device``; each chunk is widened to float64 in both.
    """

    count: int
    device: torch.device | None
    mean: _Values
    m2: _Values
    low: _Values
    high: _Values
    finite: torch.Tensor  # on the device only

    def __init__(self, n_units: int, device: torch.device | None = None) -> None:
        self.count, self.device = 0, device
        if device is None:
            self.mean, self.m2 = np.zeros(n_units), np.zeros(n_units)
            self.low = np.full(n_units, np.inf, dtype=np.float32)  # activations are float32: exact
            self.high = np.full(n_units, -np.inf, dtype=np.float32)
        else:
            self.mean, self.m2 = (torch.zeros(n_units, dtype=torch.float64, device=device) for _ in range(2))
            self.low = torch.full((n_units,), torch.inf, device=device)
            self.high = torch.full((n_units,), -torch.inf, device=device)
            self.finite = torch.ones((), dtype=torch.bool, device=device)  # checked once, in units()

    def update(self, name: str, rows: _Values) -> None:
        """Add a batch (n_rows, n_units) of layer ``name`` (DataError for NaN/Inf on the host)."""
        width = max(1, HOST_CHUNK_ELEMENTS // len(rows)) if self.device is None else _chunk_width(rows)
        total = self.count + len(rows)
        for start in range(0, rows.shape[1], width):
            cols = slice(start, start + width)
            mean, m2, low, high = self._moments(name, rows[:, cols])
            delta = mean - self.mean[cols]
            self.mean[cols] += delta * len(rows) / total
            self.m2[cols] += m2 + delta**2 * self.count * len(rows) / total
            if self.device is None:
                np.minimum(self.low[cols], low, out=self.low[cols])
                np.maximum(self.high[cols], high, out=self.high[cols])
            else:
                torch.minimum(self.low[cols], low, out=self.low[cols])
                torch.maximum(self.high[cols], high, out=self.high[cols])
        self.count = total

    def _moments(self, name: str, rows: _Values) -> tuple[_Values, _Values, _Values, _Values]:
        """(mean, sum of squared deviations, min, max) of each column of one chunk."""
        if self.device is None:
            chunk = rows.astype(np.float64)
            mean = chunk.mean(axis=0)
            if not np.all(np.isfinite(mean)):
                raise DataError(f"layer {name!r} produced NaN or Inf activations")
            return mean, ((chunk - mean) ** 2).sum(axis=0), rows.min(axis=0), rows.max(axis=0)
        var, mean = torch.var_mean(rows.double(), dim=0, correction=0)
        self.finite &= torch.isfinite(var).all()
        low, high = torch.aminmax(rows, dim=0)
        return mean, var * len(rows), low.float(), high.float()

    def units(self, name: str = "") -> tuple[_Values, _Values]:
        """(mean, sd) over all rows seen, sd = inf for units that never changed (NumPy or torch, float64)."""
        if self.device is not None and not bool(self.finite):
            raise DataError(f"layer {name!r} produced NaN or Inf activations")
        sd = np.sqrt(self.m2 / self.count) if self.device is None else torch.sqrt(self.m2 / self.count)
        sd[self.high == self.low] = np.inf
        return self.mean, sd


class ZScore:
    """z = (x - mean) / sd per unit, in float64 on the device; 0 for constant units (sd = inf).

    Args:
        name: the layer (for errors).
        mean, sd: float64 tensors (n_units,) on the device; sd = inf marks a constant unit.

    Raises:
        DataError: a unit that varies with an sd that rounds to 0 (its z-scores would be infinite).
    """

    def __init__(self, name: str, mean: torch.Tensor, sd: torch.Tensor) -> None:
        self.scale = 1.0 / sd  # 0 for constant units
        self.offset = -mean * self.scale
        self.informative = torch.isfinite(sd)
        bad = torch.nonzero(~torch.isfinite(self.scale)).flatten().cpu().numpy()
        if bad.size:
            raise DataError(
                f"activations[{name!r}]: values of units {format_indices(bad)} vary too little for float64 arithmetic; "
                "rescale the entry (multiply it by a constant: correlation distances do not change)"
            )

    def __call__(self, values: torch.Tensor, cols: slice = slice(None)) -> torch.Tensor:
        """float64 z-scores of ``values`` (n, n_units) restricted to columns ``cols``, in one kernel.

        x / sd - mean / sd in float64 differs from (x - mean) / sd by about 1e-16 |mean| / sd.
        """
        return torch.addcmul(self.offset[cols], values, self.scale[cols])  # float32/bfloat16 promoted


class ViewStatistics:
    """The two passes of ``model_view_rdms``: unit statistics over the set, then per-object view r.

    Hand ``accumulate`` to pass 1 (skipped for raw patterns), call ``end_statistics``, hand
    ``correlate`` to pass 2 (whole objects per batch, in ``view_rdms.order``), then take
    ``rdms()``. ``on_device``: torch tensors where the network made them, else NumPy arrays.
    """

    def __init__(self, view_rdms: StreamedViewRDMs, *, on_device: bool) -> None:
        self.view_rdms, self.on_device = view_rdms, on_device
        self._stats: dict[str, UnitStatistics] = {}
        self._units: dict[str, tuple[_Values, _Values]] = {}
        self._zscores: dict[str, tuple[ZScore, int]] = {}
        self._blocks: dict[str, list[tuple[torch.Tensor, torch.Tensor, np.ndarray]]] = {}

    def accumulate(self, name: str, rows: np.ndarray, values: _Values) -> None:
        """Pass 1 consumer: add a batch of layer ``name`` to its unit statistics."""
        values = values.reshape(len(values), -1)
        device = values.device if self.on_device else None
        self._stats.setdefault(name, UnitStatistics(values.shape[1], device)).update(name, values)

    def end_statistics(self) -> None:
        """Turn the running sums into (mean, sd) per unit and drop the sums."""
        self._units = {name: self._stats.pop(name).units(name) for name in list(self._stats)}  # drop the sums

    def correlate(self, name: str, rows: np.ndarray, values: _Values) -> None:
        """Pass 2 consumer: the view correlations of a batch of whole objects."""
        width = int(np.prod(values.shape[1:]))  # raw patterns: mean 0, sd 1 leaves every unit as it is
        if not self.on_device:
            self.view_rdms.add(name, values, self._units.get(name) or (np.zeros(width), np.ones(width)))
            return
        if name not in self._zscores:
            options = {"dtype": torch.float64, "device": values.device}
            mean, sd = self._units.pop(name, None) or (torch.zeros(width, **options), torch.ones(width, **options))
            zscore = ZScore(name, mean, sd)
            kept = int(zscore.informative.sum())
            if kept < 2:
                raise DataError(
                    f"activations[{name!r}]: {kept} of {width} units vary across stimuli; at least 2 are needed"
                )
            self._zscores[name] = zscore, kept
        zscore, kept = self._zscores[name]
        r, flat = view_correlations(values.reshape(len(values), -1), zscore, self.view_rdms.n_views, kept)
        self._blocks.setdefault(name, []).append((r, flat, rows))

    def rdms(self) -> RDMs:
        """The rsatoolbox ``RDMs`` as ``compute_view_rdms`` lays them out (device results cross to the host here)."""
        for name, parts in self._blocks.items():
            r, flat = (torch.cat(column).cpu().numpy() for column in list(zip(*parts, strict=True))[:2])
            if flat.any():
                stimuli = np.concatenate([rows for _, _, rows in parts])[flat]
                raise DataError(
                    f"activations[{name!r}]: stimuli {format_indices(stimuli)} have the same z-score on every unit; "
                    "their correlation is undefined"
                )
            self.view_rdms.add_correlations(name, r, self._zscores[name][1])
        self._blocks.clear()
        return self.view_rdms.rdms()


class EquivarianceStatistics:
    """The two passes of ``equivariance_by_image``: unit statistics per set, then per-image r.

    Every batch holds m originals followed by their m transformed copies per transform (rows
    k * n_images + i for set k). ``accumulate`` (pass 1), ``end_statistics``, ``correlate``
    (pass 2), then ``table_rows()``.
    """

    def __init__(self, n_images: int, transforms: Iterable[str], *, on_device: bool) -> None:
        self.n, self.transforms, self.on_device = n_images, tuple(transforms), on_device
        self._stats: dict[tuple[str, int], UnitStatistics] = {}
        self._units: dict[tuple[str, int], Any] = {}  # a ZScore on the device, (mean, sd) on the host
        self._shapes: dict[str, tuple[int, ...]] = {}
        self._masks: dict[tuple[str, int], dict[str, torch.Tensor]] = {}
        self._values: dict[tuple[str, str, str], list[tuple[np.ndarray, _Values]]] = {}

    def _sets(self, rows: np.ndarray, values: _Values) -> tuple[list[_Values], np.ndarray]:
        """The batch split into its sets (originals first), and the originals' image indices."""
        count = len(self.transforms) + 1
        m = len(rows) // count
        if len(rows) % count or not np.array_equal(rows // self.n, np.repeat(np.arange(count), m)):
            raise DataError("a batch must hold its originals and then each transform's copies, in equal numbers")
        return [values[k * m : (k + 1) * m] for k in range(count)], rows[:m]

    def accumulate(self, name: str, rows: np.ndarray, values: _Values) -> None:
        """Pass 1 consumer: add each set of a batch to its unit statistics."""
        self._shapes[name] = tuple(values.shape[1:])
        device = values.device if self.on_device else None
        for k, part in enumerate(self._sets(rows, values)[0]):
            part = part.reshape(len(part), -1)
            self._stats.setdefault((name, k), UnitStatistics(part.shape[1], device)).update(name, part)

    def end_statistics(self) -> None:
        """Turn the running sums into each set's (mean, sd), or z-scores on the device."""
        for key in list(self._stats):
            mean, sd = self._stats.pop(key).units(key[0])
            if self.on_device:
                self._units[key] = ZScore(key[0], mean, sd)
            else:
                self._units[key] = tuple(v.reshape(self._shapes[key[0]]) for v in (mean, sd))

    def correlate(self, name: str, rows: np.ndarray, values: _Values) -> None:
        """Pass 2 consumer: Eq. 2 and Eq. 3 of each original of a batch against its transformed copies."""
        sets, images = self._sets(rows, values)
        for k, transform in enumerate(self.transforms, start=1):
            statistics = (self._units[(name, 0)], self._units[(name, k)])
            measures: dict[str, _Values]
            if self.on_device:
                if (name, k) not in self._masks:
                    informative = (statistics[0].informative, statistics[1].informative)
                    shape = self._shapes[name]
                    self._masks[(name, k)] = device_masks(transform, *informative, shape, values.device)
                measures = transform_correlations(sets[0], sets[k], transform, statistics, self._masks[(name, k)])
            else:
                measures = {"invariance": invariance(sets[0], sets[k], transform, statistics=statistics)}
                if values.ndim == 4:
                    measures["equivariance"] = equivariance(sets[0], sets[k], transform, statistics=statistics)
            for measure, r in measures.items():
                self._values.setdefault((name, transform, measure), []).append((images, r))

    def table_rows(self) -> list[tuple[str, str, str, Any, Any]]:
        """(layer, transform, measure, image, r) tuples, layers in network order, then transforms, measures."""
        rows = []
        for key, parts in self._values.items():
            images = np.concatenate([i for i, _ in parts])
            pieces = [v for _, v in parts]
            r = torch.cat(pieces).cpu().numpy() if self.on_device else np.concatenate(pieces)
            rows += [(*key, i, v) for i, v in zip(images, r, strict=True)]
        return rows


def view_correlations(values: torch.Tensor, zscore: ZScore, block: int, kept: int) -> tuple[torch.Tensor, torch.Tensor]:
    """Per-object Pearson r across z-scored units: ``pattern_correlations(block=...)`` in torch, float64.

    Args:
        values: tensor (n_objects * block, n_units), the views of each object consecutive.
        zscore: ``ZScore`` of the layer over the whole set.
        block: views per object.
        kept: informative units (``zscore.informative.sum()``, known on the host).

    Returns:
        (r, flat): tensors on the device, r float64 (n_objects, block, block) with unit diagonal,
        flat bool (n,), True for a stimulus whose z-scored pattern is constant (its r undefined).
    """
    n, device = len(values), values.device
    gram = torch.zeros((n // block, block, block), dtype=torch.float64, device=device)
    row_sums = torch.zeros(n, dtype=torch.float64, device=device)
    width = _chunk_width(values)
    for start in range(0, values.shape[1], width):
        cols = slice(start, start + width)
        z = zscore(values[:, cols], cols)  # constant units are 0 and add nothing
        row_sums += z.sum(dim=1)
        stacked = z.reshape(n // block, block, -1)
        gram.baddbmm_(stacked, stacked.transpose(1, 2))
    sums = row_sums.reshape(n // block, block)
    gram -= sums[:, :, None] * (sums[:, None, :] / kept)  # centring each pattern, by algebra
    norms = torch.diagonal(gram, dim1=-2, dim2=-1).clamp(min=0.0).sqrt()
    flat = norms <= 1e-6 * kept**0.5
    safe = torch.where(flat, 1.0, norms)
    r = (gram / safe[:, :, None] / safe[:, None, :]).clamp_(-1.0, 1.0)
    r.masked_fill_(flat[:, :, None] | flat[:, None, :], 0.0)
    r.diagonal(dim1=-2, dim2=-1).fill_(1.0)
    return r, flat.reshape(-1)


def transform_correlations(
    original: torch.Tensor,
    transformed: torch.Tensor,
    transform: str,
    zscores: Sequence[ZScore],
    masks: Mapping[str, torch.Tensor],
) -> dict[str, torch.Tensor]:
    """Eq. 2 and Eq. 3 per image in torch: ``symmetry.invariance`` / ``equivariance`` with given statistics.

    Args:
        original: tensor (n, *unit_shape) of the originals' activations.
        transformed: tensor of the same shape, of their transformed copies.
        transform: ``"hflip"``, ``"vflip"`` or ``"rot90"``.
        zscores: (``ZScore`` of the originals, ``ZScore`` of the transformed images).
        masks: measure -> float64 0/1 tensor (n_units,) of the kept units (``device_masks``).

    Returns:
        measure -> float64 tensor (n,) of r, on the device.
    """
    n, shape = len(original), tuple(original.shape[1:])
    inner = int(np.prod(shape[1:]))  # units per channel of a map (1 for a vector of units)
    sums = {measure: torch.zeros((5, n), dtype=torch.float64, device=original.device) for measure in masks}
    step = max(1, _chunk_width(original) // inner)  # whole channels per chunk: g acts within a channel
    for start in range(0, shape[0], step):
        channels, cols = slice(start, start + step), slice(start * inner, (start + step) * inner)
        a = zscores[0](original[:, channels].reshape(n, -1), cols)
        b = zscores[1](transformed[:, channels].reshape(n, -1), cols)
        _add_moments(sums["invariance"], a, b, masks["invariance"][cols])
        if "equivariance" in masks:  # Eq. 3 compares f(g(x)) with g(f(x))
            moved = _transform(a.reshape(n, -1, *shape[1:]), transform).reshape(n, -1)
            _add_moments(sums["equivariance"], b, moved, masks["equivariance"][cols])
    r = {}
    for measure, (sum_a, sum_b, sum_ab, sum_aa, sum_bb) in sums.items():
        count = masks[measure].sum()
        covariance = sum_ab - sum_a * sum_b / count
        r[measure] = covariance / ((sum_aa - sum_a**2 / count) * (sum_bb - sum_b**2 / count)).sqrt()
    return r


def device_masks(
    transform: str,
    informative_a: torch.Tensor,
    informative_b: torch.Tensor,
    shape: tuple[int, ...],
    device: torch.device,
) -> dict[str, torch.Tensor]:
    """Each measure's kept units as a float64 0/1 tensor (n_units,) on ``device`` (``symmetry.kept_units``)."""
    informative = [t.cpu().numpy().reshape(shape) for t in (informative_a, informative_b)]
    measures = ("invariance", "equivariance") if len(shape) == 3 else ("invariance",)
    masks = {m: kept_units(m, transform, *informative, spatial=len(shape) == 3) for m in measures}
    return {m: torch.as_tensor(mask.reshape(-1), dtype=torch.float64, device=device) for m, mask in masks.items()}


def _add_moments(sums: torch.Tensor, a: torch.Tensor, b: torch.Tensor, weight: torch.Tensor) -> None:
    """Add the row sums of a, b, ab, a², b² (float64, (n, p)) over the columns where ``weight`` is 1.

    One pass: the z-scores are O(1) and float64, so the centring by algebra in
    ``transform_correlations`` loses nothing that matters.
    """
    a, b = a * weight, b * weight
    sums[0] += a.sum(dim=1)
    sums[1] += b.sum(dim=1)
    for row, (u, v) in enumerate(((a, b), (a, a), (b, b)), start=2):
        sums[row] += torch.einsum("ij,ij->i", u, v)  # a batched dot product: no (n, p) temporary


def _transform(maps: torch.Tensor, transform: str) -> torch.Tensor:
    """``stimuli.base.transform_maps`` on the last two axes of a tensor."""
    if transform == "hflip":
        return maps.flip(-1)
    if transform == "vflip":
        return maps.flip(-2)
    return torch.rot90(maps, 1, dims=(-2, -1))


def _chunk_width(values: torch.Tensor) -> int:
    """Columns per chunk: float64 temporaries of DEVICE_CHUNK_BYTES for (len(values), width)."""
    limit = DEVICE_CHUNK_BYTES["cuda" if values.device.type == "cuda" else "cpu"]
    return int(max(1, limit // (8 * len(values))))
