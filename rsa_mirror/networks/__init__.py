"""The torch boundary: everything that imports torch lives here (``pip install rsa_mirror[models]``).

``models``: the registry of networks with the paper's layer presets, and model input;
``control``: the control network of Figure 4 (the paper's and the released variant);
``devices``: devices and the one precision rule; ``forward``: the forward engine;
``activations``: extraction and streamed analyses; ``device_statistics``: their running
statistics, on the host or the network's device; ``datasets``, ``training`` and
``training_many`` (many at once): training the control networks of Figure 4.
"""

from . import _torch  # noqa: F401  (first: a clear error without torch)
from .activations import (
    equivariance_by_image,
    extract_activations,
    measure_equivariance,
    model_view_rdms,
    stream_activations,
)
from .control import CONTROL_LAYERS, CONTROL_VARIANTS, ControlNet, control_layers
from .datasets import DATASETS, REGIMES, ImageData, apply_regime, load_dataset, render_training_set
from .devices import autocast, resolve_device
from .files import load_network, load_shipped_network, save_network
from .forward import layer_function, run_layers, unit_responses
from .models import (
    IMAGENET_MEAN,
    IMAGENET_STD,
    INPUT_SIZE,
    PRESETS,
    LoadedModel,
    WeightsUnavailableError,
    check_weights,
    lecun_normal_,
    load_model,
    model_input,
)
from .training import SCHEDULES, TrainResult, train
from .training_many import train_many

__all__ = [
    "CONTROL_LAYERS",
    "CONTROL_VARIANTS",
    "DATASETS",
    "IMAGENET_MEAN",
    "IMAGENET_STD",
    "INPUT_SIZE",
    "PRESETS",
    "REGIMES",
    "SCHEDULES",
    "ControlNet",
    "ImageData",
    "LoadedModel",
    "TrainResult",
    "WeightsUnavailableError",
    "apply_regime",
    "autocast",
    "check_weights",
    "control_layers",
    "equivariance_by_image",
    "extract_activations",
    "layer_function",
    "lecun_normal_",
    "load_dataset",
    "load_model",
    "load_network",
    "load_shipped_network",
    "measure_equivariance",
    "model_input",
    "model_view_rdms",
    "render_training_set",
    "resolve_device",
    "run_layers",
    "save_network",
    "stream_activations",
    "train",
    "train_many",
    "unit_responses",
]
