"""What the supplementary studies check of their input: the networks, the stimuli, the layers, 4-D maps.

Private helpers of ``supplements`` and ``supplements_reflection``.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import TYPE_CHECKING, Any

import numpy as np

from ..errors import DataError, InvalidArgumentError, InvalidTypeError
from ..stimuli.base import StimulusSet, check_object_views

if TYPE_CHECKING:
    from ..networks.models import LoadedModel

# The last convolutional representation and the first fully connected layer, per registry name.
POOLING_LAYERS = {"alexnet": ("pool5", "fc6"), "vgg16": ("pool5", "fc6"), "control": ("conv4", "fc1")}


def finite_4d(name: str, values: object, shape: str) -> np.ndarray:
    """``values`` as a float64 4-D array of finite numbers, else DataError naming ``name`` and ``shape``."""
    try:
        array = np.asarray(values, dtype=np.float64)
    except (TypeError, ValueError):
        raise DataError(f"{name} must be a numeric {shape} array, got {type(values).__name__}") from None
    if array.ndim != 4 or not np.all(np.isfinite(array)):
        raise DataError(f"{name} must be a finite {shape} array, got shape {array.shape}")
    return array


def _check_networks(networks: object) -> None:
    if not isinstance(networks, Mapping) or not networks:
        raise InvalidTypeError(
            f"Invalid type for 'networks': expected a non-empty mapping label -> LoadedModel, got {networks!r}"
        )


def _weights(networks: Mapping[str, LoadedModel]) -> dict[str, str]:
    return {label: network.weights for label, network in networks.items()}


def _object_descriptors(stimuli: StimulusSet) -> dict[str, Any]:
    """The stimuli's descriptors, checked to hold object, category and view_deg."""
    check_object_views(stimuli)
    missing = [key for key in ("object", "category", "view_deg") if key not in stimuli.descriptors]
    if missing:
        raise InvalidArgumentError(
            f"Invalid value for 'stimuli': no descriptor {', '.join(missing)} "
            f"(it has {', '.join(stimuli.descriptors) or 'none'})"
        )
    return stimuli.descriptors


def _pooling_layers(network: LoadedModel, layers: Sequence[str] | None) -> tuple[str, ...]:
    if layers is not None:
        if isinstance(layers, str) or len(layers) != 2:
            raise InvalidArgumentError(
                f"Invalid value for 'layers': expected (convolutional layer, fully connected layer), got {layers!r}"
            )
        return tuple(layers)
    if network.name not in POOLING_LAYERS:
        raise InvalidArgumentError(
            f"Invalid value for 'layers': no default for {network.name} (defaults for {', '.join(POOLING_LAYERS)}); "
            "pass (convolutional layer, fully connected layer)"
        )
    return POOLING_LAYERS[network.name]
