"""The supplements of Figure 2 that test the mechanism: pooling, normalization, position.

- Figure 2—figure supplement 6 (``pooling_study``): the index after global average pooling of
  the last convolutional maps, beside the first fully connected layer;
- Figure 2—figure supplement 7 (``normalization_study``): the index from view RDMs of raw
  patterns (plain 1 - Pearson r, no unit z-scoring) beside the z-scored ones;
- Figure 2—figure supplement 8 (``shift_study``): the index of objects shifted across the visual
  field by stated pixel offsets (``shifted_stimuli``).

Each study takes networks (label -> ``LoadedModel``) and a stimulus set with ``object``,
``category`` and ``view_deg`` descriptors, and returns a ``SupplementResult`` subclass: one tidy
table and the networks' weights; ``summary()`` gives mean, SEM, median and quartiles per group.
``SupplementResult`` is also the base of the Figure 3 and 5 supplements
(``supplements_reflection``).
"""

from __future__ import annotations

import warnings
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any, ClassVar

import numpy as np
import pandas as pd

from .._utils import check_option, check_options
from ..errors import DataError, InvalidArgumentError, InvalidTypeError
from ..networks.activations import extract_activations, model_view_rdms
from ..networks.forward import as_loaded
from ..rdm import StreamedViewRDMs
from ..results import Result
from ..stimuli.base import StimulusSet
from ..symmetry import msvt_by_object, unit_statistics
from ._supplement_checks import POOLING_LAYERS as POOLING_LAYERS  # the default layers, per registry name
from ._supplement_checks import (
    _check_networks,
    _object_descriptors,
    _pooling_layers,
    _weights,
    finite_4d,
)

if TYPE_CHECKING:
    import numpy.typing as npt
    from rsatoolbox.rdm import RDMs

    from ..networks.models import LoadedModel

POOLINGS = ("average", "zscore_average")
NORMALIZATIONS = ("zscore", "none")
FILLS = ("background", "wrap")


@dataclass(repr=False)
class SupplementResult(Result):
    """One supplementary analysis: a tidy table and what each network's weights are.

    Attributes:
        table: one row per measured value (the column ``VALUE``), with ``network`` and the
            columns that say what was measured.
        networks: network label -> its weights (``LoadedModel.weights``).
    """

    BY: ClassVar[tuple[str, ...]] = ("network",)  # the groups of summary()
    VALUE: ClassVar[str] = "msvt"

    table: pd.DataFrame
    networks: dict[str, str]

    def summary(self) -> pd.DataFrame:
        """Per group (``BY``): ``mean``, ``sem`` (ddof=1), ``median``, ``q25``, ``q75`` and ``n`` of ``VALUE``."""
        grouped = self.table.groupby(list(self.BY), sort=False)[self.VALUE]
        return pd.DataFrame(
            {
                "mean": grouped.mean(),
                "sem": grouped.sem(ddof=1),
                "median": grouped.median(),
                "q25": grouped.quantile(0.25),
                "q75": grouped.quantile(0.75),
                "n": grouped.count(),
            }
        )

    def _title(self) -> str:
        return ", ".join(self.networks)


@dataclass(repr=False)
class PoolingResult(SupplementResult):
    """Figure 2—figure supplement 6: the index per object of each representation.

    ``table``: ``network``, ``representation`` (e.g. ``"pool5"``, ``"pool5 GAP"``,
    ``"pool5 GAP of z-scores"``, ``"fc6"``), ``layer`` (the network layer it comes from),
    ``object``, ``category``, ``msvt``.
    """

    BY: ClassVar[tuple[str, ...]] = ("network", "representation", "category")

    def paired(self, network: str | None = None) -> pd.DataFrame:
        """One network's index, objects x representations (the scatter of GAP against fc)."""
        network = next(iter(self.networks)) if network is None else network
        rows = self.table[self.table["network"] == network]
        wide = rows.pivot_table(index=["object", "category"], columns="representation", values="msvt", sort=False)
        return wide[list(dict.fromkeys(rows["representation"]))]


@dataclass(repr=False)
class NormalizationResult(SupplementResult):
    """Figure 2—figure supplement 7: ``network``, ``normalize``, ``layer``, ``object``, ``category``, ``msvt``."""

    BY: ClassVar[tuple[str, ...]] = ("network", "normalize", "layer", "category")


@dataclass(repr=False)
class ShiftResult(SupplementResult):
    """Figure 2—figure supplement 8.

    ``table``: ``network``, ``shift_y``, ``shift_x`` (pixels), ``layer``, ``object``, ``category``, ``msvt``.
    """

    BY: ClassVar[tuple[str, ...]] = ("network", "shift_y", "shift_x", "layer", "category")


def pooled_maps(maps: npt.ArrayLike, *, pooling: str = "average") -> np.ndarray:
    """Global average pooling of convolutional maps: each feature map collapsed into one value.

    Args:
        maps: activations (n_images, C, H, W).
        pooling: ``"average"``: the mean over the H x W positions of the maps as they are (a
            global-average-pooling layer in place of the fully connected one: "replacing fc6
            with spatial global average pooling (collapsing each pool5 feature map into a
            scalar activation)"); ``"zscore_average"``: each unit (channel x position) z-scored
            over the images first, then averaged over the positions where it varies (the
            authors' released code: constant units are NaN there and left out of the mean).

    Returns:
        float64 (n_images, C); with ``"zscore_average"`` the channels constant at every
        position are dropped (the released code's ``corr(..., 'rows', 'complete')`` drops them).

    Raises:
        DataError: ``maps`` is not a numeric (n, C, H, W) array of finite values.
        InvalidArgumentError: an unknown ``pooling``.
    """
    check_option("pooling", pooling, POOLINGS)
    maps = finite_4d("maps", maps, "(n, C, H, W)")
    if pooling == "average":
        return maps.mean(axis=(2, 3))
    mean, sd = unit_statistics(maps)
    z = (maps - mean) / sd  # sd = inf for constant units: exactly 0 there, masked below
    informative = np.isfinite(sd)  # (C, H, W)
    counts = informative.sum(axis=(1, 2))
    keep = counts > 0
    return (z * informative).sum(axis=(2, 3))[:, keep] / counts[keep]


def raw_view_rdms(
    activations: Mapping[str, npt.ArrayLike],
    descriptors: Mapping[str, npt.ArrayLike],
    *,
    object_key: str = "object",
    view_key: str = "view_deg",
) -> RDMs:
    """Per-object view RDMs of plain 1 - Pearson r across the units as they are (no z-scoring).

    Every unit is kept, also units constant over the images, as ``scipy.spatial.distance.pdist``
    with ``metric="correlation"`` does on each object's views.

    Args:
        activations: mapping name -> array (n_stimuli, ...), as in ``compute_view_rdms``.
        descriptors: per-stimulus descriptors holding ``object_key`` and ``view_key``.
        object_key: descriptor naming the object.
        view_key: descriptor holding the yaw in degrees (every view mirror-paired).

    Returns:
        rsatoolbox ``RDMs`` laid out as ``compute_view_rdms`` returns them.
    """
    if not isinstance(activations, Mapping) or not activations:
        raise InvalidTypeError("Invalid type for 'activations': expected a non-empty mapping name -> array")
    n_stimuli = len(np.asarray(next(iter(activations.values()))))
    view_rdms = StreamedViewRDMs(descriptors, n_stimuli, object_key=object_key, view_key=view_key)
    for name, values in activations.items():
        array = np.asarray(values)
        array = array.reshape(len(array), -1)
        if len(array) != n_stimuli:
            raise DataError(f"activations[{name!r}] has {len(array)} stimuli, the others {n_stimuli}")
        width = array.shape[1]
        view_rdms.add(name, array[view_rdms.order], (np.zeros(width), np.ones(width)))
    return view_rdms.rdms()


def pooling_study(
    networks: Mapping[str, LoadedModel],
    stimuli: StimulusSet,
    *,
    poolings: Sequence[str] = POOLINGS,
    layers: Sequence[str] | None = None,
    device: str = "auto",
    batch_size: int = 32,
    verbose: bool = False,
) -> PoolingResult:
    """Figure 2—figure supplement 6: is the fc layer's index already there after spatial pooling?

    "replacing fc6 with spatial global average pooling (collapsing each pool5 feature map into
    a scalar activation) yields a representation with very similar mirror-symmetric viewpoint
    tuning levels (Figure 2—figure supplement 6)."

    For each network: the last convolutional representation (pool5 of AlexNet, conv4 of the
    control network) as it is, its global average pooling (``pooled_maps``), and the first
    fully connected layer, each object's index from each. With ``pooling="average"`` (the
    text: a pooling layer, whose units are then z-scored like any layer's, Methods) the index
    is ``msvt_by_object``'s; with ``"zscore_average"`` (the released code) the pooled z-scores
    go into plain 1 - Pearson RDMs as they are (``raw_view_rdms``), as the authors did.

    Args:
        networks: mapping label -> ``LoadedModel``.
        stimuli: ``StimulusSet`` with ``object``, ``category`` and ``view_deg``.
        poolings: any of ``"average"`` (default first) and ``"zscore_average"``.
        layers: (convolutional layer, fully connected layer) for every network; default by
            registry name (``POOLING_LAYERS``).
        device: as in ``extract_activations``.
        batch_size: images per forward pass.
        verbose: progress bars.

    Returns:
        ``PoolingResult``.

    Raises:
        InvalidArgumentError: no default layers for a network and none given, or a layer whose
            maps are not (C, H, W).
    """
    poolings = check_options("poolings", poolings, POOLINGS)
    _check_networks(networks)
    descriptors = _object_descriptors(stimuli)
    tables = []
    for label, network in networks.items():
        conv, fc = _pooling_layers(network, layers)
        values = extract_activations(
            network, stimuli, [conv, fc], device=device, batch_size=batch_size, verbose=verbose
        )
        if values[conv].ndim != 4:
            raise InvalidArgumentError(
                f"Invalid value for 'layers': {conv!r} of {label} gives shape {values[conv].shape[1:]}, not "
                "(C, H, W) maps"
            )
        parts = [msvt_by_object({conv: values[conv]}, descriptors=descriptors).assign(layer=conv)]
        for pooling in poolings:
            name = f"{conv} GAP" if pooling == "average" else f"{conv} GAP of z-scores"
            pooled = {name: pooled_maps(values[conv], pooling=pooling)}
            # the released code: no second z-scoring of the pooled units
            source = raw_view_rdms(pooled, descriptors) if pooling == "zscore_average" else pooled
            parts.append(msvt_by_object(source, descriptors=descriptors).assign(layer=conv))
        parts.append(msvt_by_object({fc: values[fc]}, descriptors=descriptors).assign(layer=fc))
        table = pd.concat(parts, ignore_index=True).rename(columns={"name": "representation"})
        tables.append(table.assign(network=label))
    columns = ["network", "representation", "layer", "object", "category", "msvt"]
    return PoolingResult(pd.concat(tables, ignore_index=True)[columns], _weights(networks))


def normalization_study(
    networks: Mapping[str, LoadedModel],
    stimuli: StimulusSet,
    *,
    normalizations: Sequence[str] = NORMALIZATIONS,
    layers: str | Sequence[str] = "all",
    device: str = "auto",
    batch_size: int = 32,
    verbose: bool = False,
) -> NormalizationResult:
    """Figure 2—figure supplement 7: the index without unit z-scoring, beside the z-scored one.

    "applying a dissimilarity measure that is invariant to the overall magnitude of the
    representations did not alter the observed trends in mirror-symmetric viewpoint tuning
    results (Figure 2—figure supplement 7)."

    ``"zscore"``: the paper's RDMs (Methods: each unit z-scored over the set, then 1 - r);
    ``"none"``: plain 1 - Pearson r of the raw patterns (``model_view_rdms(normalize="none")``).

    Args:
        networks: mapping label -> ``LoadedModel``.
        stimuli: ``StimulusSet`` with ``object``, ``category`` and ``view_deg``.
        normalizations: any of ``"zscore"`` and ``"none"``.
        layers: as in ``model_view_rdms`` (default every preset).
        device: as in ``model_view_rdms``.
        batch_size: images per forward pass.
        verbose: progress bars.

    Returns:
        ``NormalizationResult``.
    """
    normalizations = check_options("normalizations", normalizations, NORMALIZATIONS)
    _check_networks(networks)
    _object_descriptors(stimuli)
    options = {"device": device, "batch_size": batch_size, "verbose": verbose}
    tables = [
        _index_by_layer(network, stimuli, layers, normalize, options).assign(network=label, normalize=normalize)
        for label, network in networks.items()
        for normalize in normalizations
    ]
    table = pd.concat(tables, ignore_index=True).rename(columns={"name": "layer"})
    columns = ["network", "normalize", "layer", "object", "category", "msvt"]
    return NormalizationResult(table[columns], _weights(networks))


def _index_by_layer(
    network: LoadedModel, stimuli: StimulusSet, layers: str | Sequence[str], normalize: str, options: dict[str, Any]
) -> pd.DataFrame:
    """``msvt_by_object`` of every layer, NaN rows (and a warning) for a layer without an index.

    Without z-scoring, an image whose pattern is flat (every unit silent) has no correlation.
    """
    try:
        return msvt_by_object(model_view_rdms(network, stimuli, layers, normalize=normalize, **options))
    except DataError:
        if normalize == "zscore":
            raise
    tables = []
    for layer in as_loaded(network).resolve_layers(layers):  # again one layer at a time
        try:
            tables.append(msvt_by_object(model_view_rdms(network, stimuli, [layer], normalize=normalize, **options)))
        except DataError as error:
            warnings.warn(f"{network.weights}, {layer}: no index without z-scoring ({error})", stacklevel=3)
            objects = pd.DataFrame({key: stimuli.descriptors[key] for key in ("object", "category")})
            tables.append(objects.drop_duplicates("object").assign(name=layer, msvt=np.nan))
    return pd.concat(tables, ignore_index=True)


def shifted_stimuli(stimuli: StimulusSet, shift_y: int, shift_x: int, *, fill: str = "background") -> StimulusSet:
    """The images (and masks) moved by whole pixels: down by ``shift_y``, right by ``shift_x``.

    Args:
        stimuli: ``StimulusSet``.
        shift_y: pixels down (negative: up).
        shift_x: pixels right (negative: left).
        fill: ``"background"``: the uncovered pixels take the background gray, content pushed
            past the edge is lost; ``"wrap"``: content pushed past one edge comes back at the
            other (MATLAB's ``circshift``, the authors' released code).

    Returns:
        ``StimulusSet`` with descriptors ``shift_y`` and ``shift_x`` added.

    Raises:
        InvalidArgumentError: shifts that are not whole numbers smaller than the image, or an
            unknown ``fill``.
    """
    check_option("fill", fill, FILLS)
    if not isinstance(stimuli, StimulusSet):
        raise InvalidTypeError(f"Invalid type for 'stimuli': expected StimulusSet, got {type(stimuli).__name__}")
    height, width = stimuli.images.shape[-2:]
    for name, value, size in (("shift_y", shift_y, height), ("shift_x", shift_x, width)):
        if isinstance(value, (bool, np.bool_)) or not isinstance(value, (int, np.integer)) or abs(value) >= size:
            raise InvalidArgumentError(
                f"Invalid value for {name!r}: expected a whole number of pixels with |{name}| < {size}, got {value!r}"
            )
    shift_y, shift_x = int(shift_y), int(shift_x)
    images = _shifted(stimuli.images, shift_y, shift_x, fill, stimuli.background)
    masks = None if stimuli.masks is None else _shifted(stimuli.masks, shift_y, shift_x, fill, False)
    descriptors = dict(
        stimuli.descriptors, shift_y=np.full(len(stimuli), shift_y), shift_x=np.full(len(stimuli), shift_x)
    )
    return StimulusSet(images, descriptors, stimuli.background, masks)


def _shifted(array: np.ndarray, dy: int, dx: int, fill: str, value: float) -> np.ndarray:
    """``array`` (..., H, W) moved by (dy, dx), wrapped or filled with ``value``."""
    moved = np.roll(array, (dy, dx), axis=(-2, -1))
    if fill == "background":
        if dy:
            moved[..., slice(0, dy) if dy > 0 else slice(dy, None), :] = value
        if dx:
            moved[..., slice(0, dx) if dx > 0 else slice(dx, None)] = value
    return moved


def shift_study(
    networks: Mapping[str, LoadedModel],
    stimuli: StimulusSet,
    *,
    offsets: Sequence[Sequence[int]] = ((0, 0), (15, 15), (0, -30), (0, 30)),
    fill: str = "background",
    layers: str | Sequence[str] = "all",
    device: str = "auto",
    batch_size: int = 32,
    verbose: bool = False,
) -> ShiftResult:
    """Figure 2—figure supplement 8: the index of objects shown off the centre of the image.

    "CNNs trained to discriminate among bilaterally symmetric categories develop
    mirror-symmetric viewpoint tuning across the visual field (Figure 2—figure supplement 8)."
    Every view of every object is moved by the same offset (``shifted_stimuli``), so an
    object's mirror views stay at one position, away from the vertical midline of the image.

    Args:
        networks: mapping label -> ``LoadedModel``.
        stimuli: ``StimulusSet`` with ``object``, ``category`` and ``view_deg``.
        offsets: (pixels down, pixels right) pairs, in the stimuli's pixels (before any
            resizing to the network's input); the released code used (15, 15).
        fill: as in ``shifted_stimuli`` (``"wrap"``: the released code's ``circshift``).
        layers: as in ``model_view_rdms``.
        device: as in ``model_view_rdms``.
        batch_size: images per forward pass.
        verbose: progress bars.

    Returns:
        ``ShiftResult``.
    """
    _check_networks(networks)
    _object_descriptors(stimuli)
    try:
        offsets = [tuple(pair) for pair in offsets]
    except TypeError:
        offsets = []
    if not offsets or any(len(pair) != 2 for pair in offsets):
        raise InvalidArgumentError("Invalid value for 'offsets': expected (pixels down, pixels right) pairs")
    options: dict[str, Any] = {"device": device, "batch_size": batch_size, "verbose": verbose}
    tables = []
    for dy, dx in offsets:
        shifted = shifted_stimuli(stimuli, dy, dx, fill=fill)
        for label, network in networks.items():
            table = msvt_by_object(model_view_rdms(network, shifted, layers, **options))
            tables.append(table.assign(network=label, shift_y=int(dy), shift_x=int(dx)))
    table = pd.concat(tables, ignore_index=True).rename(columns={"name": "layer"})
    columns = ["network", "shift_y", "shift_x", "layer", "object", "category", "msvt"]
    return ShiftResult(table[columns], _weights(networks))
