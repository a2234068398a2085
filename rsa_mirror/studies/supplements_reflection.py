"""The supplements of Figures 3 and 5: reflection invariance per image and category, symmetric weights.

- Figure 3—figure supplement 1 (``equivariance_distribution_study``): invariance and
  equivariance of every image, the values Figure 3 averages (``equivariance_by_image``);
- Figure 3—figure supplement 2 (``category_invariance_study``): horizontal-reflection invariance
  of the fully connected layers per object category;
- Figure 5—figure supplement 1 (``weight_symmetry_study``): how symmetric the learned weights
  are: each unit's incoming weights correlated with their reflection (``kernel_symmetry``),
  trained beside untrained.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any, ClassVar

import numpy as np
import pandas as pd
import torch

from .._utils import check_option, check_options
from ..errors import DataError, InvalidArgumentError, InvalidTypeError
from ..networks.activations import equivariance_by_image
from ..networks.forward import as_loaded, run_layers
from ..networks.models import CONTROL_LAYERS, ControlNet, LoadedModel
from ..stimuli.base import TRANSFORMS, StimulusSet
from ..symmetry import _rowwise_pearson
from .supplements import SupplementResult, _check_networks, _weights, finite_4d

if TYPE_CHECKING:
    import numpy.typing as npt

    from .._typing import RandomState

METHODS = ("full", "half")
FLIPS = ("hflip", "vflip")


@dataclass(repr=False)
class EquivarianceDistributionResult(SupplementResult):
    """Figure 3—figure supplement 1: one row per image.

    ``table``: ``network``, ``images`` (the image set's label), ``layer``, ``transform``,
    ``measure`` (``invariance`` or ``equivariance``), ``image`` (position in the set),
    ``category`` (when the set has one) and ``r``.
    """

    BY: ClassVar[tuple[str, ...]] = ("network", "images", "layer", "transform", "measure")
    VALUE: ClassVar[str] = "r"


@dataclass(repr=False)
class CategoryInvarianceResult(SupplementResult):
    """Figure 3—figure supplement 2: one row per image.

    ``table``: ``network``, ``layer``, ``transform``, ``category``, ``image``, ``r``.
    """

    BY: ClassVar[tuple[str, ...]] = ("network", "layer", "category")
    VALUE: ClassVar[str] = "r"


@dataclass(repr=False)
class WeightSymmetryResult(SupplementResult):
    """Figure 5—figure supplement 1: one row per output unit.

    ``table``: ``network``, ``layer``, ``transform``, ``unit``, ``r`` (the unit's incoming
    weights correlated with their reflection).
    """

    BY: ClassVar[tuple[str, ...]] = ("network", "layer", "transform")
    VALUE: ClassVar[str] = "r"


def equivariance_distribution_study(
    networks: Mapping[str, LoadedModel],
    image_sets: Mapping[str, StimulusSet],
    *,
    transforms: Sequence[str] = TRANSFORMS,
    layers: str | Sequence[str] = "all",
    device: str = "auto",
    batch_size: int = 32,
    verbose: bool = False,
) -> EquivarianceDistributionResult:
    """Figure 3—figure supplement 1: the distribution over images of invariance and equivariance.

    "see Figure 3—figure supplement 1 for the distribution of equivariance and invariance
    across test images". The per-image r of Eq. 2 and Eq. 3 (``equivariance_by_image``), whose
    mean is Figure 3's value.

    Args:
        networks: mapping label -> ``LoadedModel``.
        image_sets: mapping label -> ``StimulusSet`` (e.g. ``figure3_images``).
        transforms: any of ``"hflip"``, ``"vflip"``, ``"rot90"``.
        layers: as in ``equivariance_by_image``.
        device: as in ``equivariance_by_image``.
        batch_size: original images per forward pass.
        verbose: progress bars.

    Returns:
        ``EquivarianceDistributionResult``.
    """
    _check_networks(networks)
    if not isinstance(image_sets, Mapping) or not image_sets:
        raise InvalidTypeError("Invalid type for 'image_sets': expected a non-empty mapping label -> StimulusSet")
    options: dict[str, Any] = {"transforms": transforms, "device": device, "batch_size": batch_size, "verbose": verbose}
    tables = []
    for label, network in networks.items():
        for images, stimuli in image_sets.items():
            table = equivariance_by_image(network, stimuli, layers, **options).assign(network=label, images=images)
            if "category" in stimuli.descriptors:
                table["category"] = np.asarray(stimuli.descriptors["category"])[table["image"].to_numpy()]
            tables.append(table)
    table = pd.concat(tables, ignore_index=True)
    columns = ["network", "images", "layer", "transform", "measure", "image"]
    columns += ["category"] * ("category" in table) + ["r"]
    return EquivarianceDistributionResult(table[columns], _weights(networks))


def category_invariance_study(
    networks: Mapping[str, LoadedModel],
    stimuli: StimulusSet,
    *,
    layers: Sequence[str] | None = None,
    transform: str = "hflip",
    device: str = "auto",
    batch_size: int = 32,
    verbose: bool = False,
) -> CategoryInvarianceResult:
    """Figure 3—figure supplement 2: reflection invariance of the fully connected layers per category.

    "Figure 3—figure supplement 2 for analysis of horizontal reflection invariance across
    different object categories". Eq. 2 for every image (units z-scored over the whole set),
    grouped by the image's category.

    Args:
        networks: mapping label -> ``LoadedModel``.
        stimuli: ``StimulusSet`` with a ``category`` descriptor.
        layers: layer names; default each network's fully connected presets (names ``fc...``).
        transform: ``"hflip"`` (default), ``"vflip"`` or ``"rot90"``.
        device: as in ``equivariance_by_image``.
        batch_size: original images per forward pass.
        verbose: progress bars.

    Returns:
        ``CategoryInvarianceResult``.
    """
    _check_networks(networks)
    check_option("transform", transform, TRANSFORMS)
    if not isinstance(stimuli, StimulusSet) or "category" not in stimuli.descriptors:
        raise InvalidArgumentError("Invalid value for 'stimuli': expected a StimulusSet with a 'category' descriptor")
    options: dict[str, Any] = {
        "transforms": (transform,),
        "device": device,
        "batch_size": batch_size,
        "verbose": verbose,
    }
    tables = []
    for label, network in networks.items():
        chosen = [name for name in network.layers if name.startswith("fc")] if layers is None else layers
        if not chosen:
            raise InvalidArgumentError(f"Invalid value for 'layers': {label} has no fc presets; name the layers")
        table = equivariance_by_image(network, stimuli, chosen, **options)
        table = table[table["measure"] == "invariance"].assign(network=label)
        table["category"] = np.asarray(stimuli.descriptors["category"])[table["image"].to_numpy()]
        tables.append(table)
    table = pd.concat(tables, ignore_index=True)
    columns = ["network", "layer", "transform", "category", "image", "r"]
    return CategoryInvarianceResult(table[columns], _weights(networks))


def kernel_symmetry(weights: npt.ArrayLike, *, transform: str = "hflip", method: str = "full") -> np.ndarray:
    """Correlation of each unit's incoming weights with their reflection.

    Args:
        weights: (n_units, C_in, kh, kw): a convolution's kernels, or a fully connected
            layer's weights over its input maps (n_units, C, H, W).
        transform: ``"hflip"`` (reflect the last axis, left-right) or ``"vflip"`` (the one
            before, up-down).
        method: ``"full"``: Pearson r between the weights and their reflection, the positions
            the reflection maps onto themselves (the central column, or row, of an odd size)
            left out, as the paper does for Eq. 3 ("To prevent spurious correlations that may
            result from flipping ... the central column ... was excluded"); ``"half"``: r
            between the left half (top half) and the reflected right half (bottom half), the
            authors' released code.

    Returns:
        (n_units,) float64 in [-1, 1]: 1 for weights that equal their reflection, -1 for
        weights that are its negative; NaN (no warning) for a unit whose weights are constant.

    Raises:
        DataError: ``weights`` is not a finite 4-D array, or its reflected axis has 1 element.
        InvalidArgumentError: an unknown ``transform`` or ``method``.
    """
    check_option("transform", transform, FLIPS)
    check_option("method", method, METHODS)
    w = finite_4d("weights", weights, "(n_units, C, H, W)")
    axis = 3 if transform == "hflip" else 2
    size = w.shape[axis]
    if size < 2:
        raise DataError(f"weights have {size} element along the reflected axis: nothing to reflect")
    flipped = np.flip(w, axis=axis)
    keep = np.arange(size) < size // 2 if method == "half" else np.arange(size) != (size // 2 if size % 2 else -1)
    with np.errstate(invalid="ignore", divide="ignore"):
        r = _rowwise_pearson(np.compress(keep, w, axis=axis), np.compress(keep, flipped, axis=axis))
    return np.clip(r, -1.0, 1.0)


def spatial_weights(model: LoadedModel | torch.nn.Module) -> dict[str, np.ndarray]:
    """Each preset layer's incoming weights laid out over its input maps: name -> (n_units, C, H, W).

    Convolutions give their kernels. A fully connected layer gives its weights reshaped to the
    (C, H, W) maps it reads when the module before it (through flatten, dropout) produced such
    maps (AlexNet's fc6 over pool5's 256 x 6 x 6; the control network's fc1 over conv4's
    128 x 10 x 10); fully connected layers fed by vectors (fc7, fc8) have no spatial arrangement
    and are left out, as are layers without weights of their own (pooling).

    Args:
        model: ``LoadedModel``.

    Returns:
        dict preset name -> float64 array, in network order.
    """
    loaded = as_loaded(model)
    modules = dict(loaded.module.named_modules())
    order = list(modules)
    shapes: dict[str, tuple[int, ...]] = {}
    seen: list[str] = []

    def record(name: str, output: object) -> None:
        if torch.is_tensor(output):
            shapes[name] = tuple(output.shape[1:])
            seen.append(name)

    leaves = {name: name for name, module in modules.items() if name and not list(module.children())}
    size = loaded.input_size
    with torch.inference_mode():  # one blank image, to see the shape of every module's output
        run_layers(loaded.module.eval(), torch.zeros(1, _in_channels(loaded.module), size, size), leaves, record)
    result: dict[str, np.ndarray] = {}
    claimed: set[str] = set()
    for name, path in loaded.layers.items():
        weighted = [
            p for p in order[: order.index(path) + 1] if isinstance(modules[p], (torch.nn.Conv2d, torch.nn.Linear))
        ]
        if not weighted or weighted[-1] in claimed:
            continue
        claimed.add(weighted[-1])
        module = modules[weighted[-1]]
        w = module.weight.detach().cpu().double().numpy()
        if isinstance(module, torch.nn.Linear):
            maps = _input_maps(seen, shapes, modules, weighted[-1])
            if maps is None or int(np.prod(maps)) != w.shape[1]:
                continue
            w = w.reshape(len(w), *maps)
        result[name] = w
    return result


def _in_channels(module: torch.nn.Module) -> int:
    first = next((m for m in module.modules() if isinstance(m, torch.nn.Conv2d)), None)
    return 3 if first is None else first.in_channels


def _input_maps(
    seen: list[str], shapes: Mapping[str, tuple[int, ...]], modules: Mapping[str, torch.nn.Module], path: str
) -> tuple[int, ...] | None:
    """The (C, H, W) output last seen before ``path`` ran, unless a weighted layer came between."""
    for name in reversed(seen[: seen.index(path)]):
        if isinstance(modules[name], (torch.nn.Conv2d, torch.nn.Linear)) and len(shapes[name]) == 1:
            return None
        if len(shapes[name]) == 3:
            return shapes[name]
    return None


def untrained_control(*, n_classes: int = 9, random_state: RandomState = 0) -> LoadedModel:
    """The control network's architecture with its initial weights (He uniform, seeded), as a ``LoadedModel``."""
    from .._utils import derive_seed

    seed = derive_seed(random_state, maximum=2**63 - 1, required=True)
    with torch.random.fork_rng(devices=[]):
        torch.manual_seed(seed)
        network = ControlNet(n_classes).eval().requires_grad_(False)
    return LoadedModel("control", network, f"untrained (He uniform, seed {seed})", dict(CONTROL_LAYERS), 32, None, None)


def weight_symmetry_study(
    networks: Mapping[str, LoadedModel], *, transforms: Sequence[str] = ("hflip",), method: str = "full"
) -> WeightSymmetryResult:
    """Figure 5—figure supplement 1: the symmetry of the learned weights, trained vs untrained.

    "The fc6 layer learns highly symmetrical weight maps, reducing the sensitivity to local
    feature configurations and enabling the generation of downstream reflection-invariant
    representations compared to convolutional layers (Figure 5—figure supplement 1)."
    For every layer with spatially arranged weights (``spatial_weights``), each unit's
    correlation with its reflection (``kernel_symmetry``).

    Args:
        networks: mapping label -> ``LoadedModel`` (e.g. the shipped control network and
            ``untrained_control()``; a trained and an untrained AlexNet).
        transforms: any of ``"hflip"`` and ``"vflip"``.
        method: as in ``kernel_symmetry`` (``"half"``: the released code).

    Returns:
        ``WeightSymmetryResult``.
    """
    _check_networks(networks)
    transforms = check_options("transforms", transforms, FLIPS)
    check_option("method", method, METHODS)
    tables = []
    for label, network in networks.items():
        for layer, w in spatial_weights(network).items():
            for transform in transforms:
                r = kernel_symmetry(w, transform=transform, method=method)
                columns = {"network": label, "layer": layer, "transform": transform, "unit": np.arange(len(r))}
                tables.append(pd.DataFrame({**columns, "r": r}))
    return WeightSymmetryResult(pd.concat(tables, ignore_index=True), _weights(networks))
