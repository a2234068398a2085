"""Networks to analyse and their weights.

A registry of torchvision models with the paper's layer presets, and their weights (ImageNet
from the local torchvision cache, a local file, or untrained). ``"all"`` names a network's
standard presets; more named layers (the input ``image``, AlexNet's ``pool1``/``pool2``, the
fully connected layers before their ReLU, ``fc6_pre``) are asked for by name, and
``"figure2"`` names Figure 2C's layers.

Weights are never downloaded implicitly. ImageNet weights are read from torchvision's cache
(``torch.hub.get_dir()/checkpoints``); when absent, the error says how to get them.
``weights="untrained"`` gives LeCun-normal initialization (weights ~ N(0, 1/fan_in), biases 0),
seeded, as in the paper's untrained controls.
"""

from __future__ import annotations

import os
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, cast

import numpy as np
import numpy.typing as npt
import torch
import torchvision

from .._typing import PathLike, RandomState
from .._utils import check_count, check_option, derive_seed
from ..errors import FileFormatError, InvalidArgumentError, InvalidTypeError, RsaMirrorError
from .control import (  # noqa: F401  (importable from here too, as before the control network had its module)
    CONTROL_LAYERS,
    SHIPPED_NETWORK,
    SHIPPED_SHA256,
    ControlNet,
    control_net_from_state,
)
from .devices import resolve_device

IMAGENET_MEAN = (0.485, 0.456, 0.406)
IMAGENET_STD = (0.229, 0.224, 0.225)

# VGG16's ReLU outputs (conv) and max-pool outputs, in network order.
_VGG16_FEATURES = [
    ("conv1_1", 1), ("conv1_2", 3), ("pool1", 4), ("conv2_1", 6), ("conv2_2", 8), ("pool2", 9),
    ("conv3_1", 11), ("conv3_2", 13), ("conv3_3", 15), ("pool3", 16), ("conv4_1", 18), ("conv4_2", 20),
    ("conv4_3", 22), ("pool4", 23), ("conv5_1", 25), ("conv5_2", 27), ("conv5_3", 29), ("pool5", 30),
]  # fmt: skip

# Paper names -> module paths. AlexNet's conv layers are the ReLU outputs, as in the paper.
PRESETS = {
    "alexnet": {
        "conv1": "features.1",
        "conv2": "features.4",
        "conv3": "features.7",
        "conv4": "features.9",
        "conv5": "features.11",
        "pool5": "features.12",
        "fc6": "classifier.2",
        "fc7": "classifier.5",
        "fc8": "classifier.6",
    },
    "vgg16": {
        **{name: f"features.{index}" for name, index in _VGG16_FEATURES},
        "fc6": "classifier.1",
        "fc7": "classifier.4",
        "fc8": "classifier.6",
    },
    "resnet50": {
        "conv1": "relu",
        "pool1": "maxpool",
        "layer1": "layer1",
        "layer2": "layer2",
        "layer3": "layer3",
        "layer4": "layer4",
        "avgpool": "avgpool",
        "fc": "fc",
    },
    "convnext_tiny": {
        "stage1": "features.1",
        "stage2": "features.3",
        "stage3": "features.5",
        "stage4": "features.7",
        "avgpool": "avgpool",
        "fc": "classifier.2",
    },
    "vit_b_16": {  # blocks and ln: all 197 tokens (class token + 196 patches) x 768, flattened; head: logits
        **{f"block{k + 1}": f"encoder.layers.encoder_layer_{k}" for k in range(12)},
        "ln": "encoder.ln",
        "head": "heads.head",
    },
}
# Named layers outside "all" (which keeps the analyses of Figures 3 and 6 and the demo as they
# were): the network's input ("image", INPUT_PATH), AlexNet's first two max-pools, and the fully
# connected layers before their ReLU ("_pre": the Linear modules; "fc6"/"fc7" are the ReLU outputs).
INPUT_PATH = ""  # the root module: its forward pre-hook gives the preprocessed input
EXTRA_PRESETS = {
    "alexnet": {
        "image": INPUT_PATH,
        "pool1": "features.2",
        "pool2": "features.5",
        "fc6_pre": "classifier.1",
        "fc7_pre": "classifier.4",
    },
    "vgg16": {"image": INPUT_PATH, "fc6_pre": "classifier.0", "fc7_pre": "classifier.3"},
    **{name: {"image": INPUT_PATH} for name in ("resnet50", "convnext_tiny", "vit_b_16")},
}
# The layers of Figure 2C (AlexNet, from the pixels to the logits); other networks use "all".
FIGURE2_LAYERS = {
    "alexnet": ("image", "conv1", "pool1", "conv2", "pool2", "conv3", "conv4", "conv5", "pool5", "fc6", "fc7", "fc8")
}
# Input size in pixels; the paper fed AlexNet 227 x 227 images.
INPUT_SIZE = {"alexnet": 227, "vgg16": 224, "resnet50": 224, "convnext_tiny": 224, "vit_b_16": 224}


@dataclass
class LoadedModel:
    """A network ready for ``extract_activations``.

    Attributes:
        name: registry name, e.g. ``"alexnet"``.
        module: the ``torch.nn.Module``, in eval mode, on the CPU.
        weights: what the weights are, for reports (e.g. ``"imagenet (IMAGENET1K_V1)"``).
        layers: preset name -> module path (the paper's layer names); ``"all"`` means these.
        input_size: image height and width in pixels.
        mean, std: per-channel input normalization applied to stimuli (ImageNet's by default;
            None for networks trained on raw [0, 1] images, like the control networks).
        extra_layers: more named layers, requested by name only (not in ``"all"``): ``image``
            (the preprocessed input, ``INPUT_PATH``), pre-activation layers (``fc6_pre``), ... .
        figure2_layers: the names ``"figure2"`` means (Figure 2C's list for AlexNet); None: as
            ``"all"``.
    """

    name: str
    module: torch.nn.Module
    weights: str
    layers: dict[str, str] = field(default_factory=dict)
    input_size: int = 224
    mean: tuple[float, ...] | None = IMAGENET_MEAN
    std: tuple[float, ...] | None = IMAGENET_STD
    extra_layers: dict[str, str] = field(default_factory=dict)
    figure2_layers: tuple[str, ...] | None = None

    def __repr__(self) -> str:
        """A few lines: name, weights, input size, preset layers, parameter count (not the module's tree)."""
        n_parameters = sum(p.numel() for p in self.module.parameters())
        layers = ", ".join(self.layers) if len(self.layers) <= 12 else f"{', '.join(list(self.layers)[:12])}, ..."
        extra = f"; extra: {', '.join(self.extra_layers)}" if self.extra_layers else ""
        return (
            f"LoadedModel({self.name}, weights {self.weights}, {n_parameters / 1e6:.1f}M parameters,\n"
            f"  input {self.input_size} x {self.input_size}, {len(self.layers)} layers: {layers}{extra})"
        )

    def resolve_layers(self, layers: str | Iterable[str]) -> dict[str, str]:
        """Map requested names to module paths.

        Names are presets (``layers``, ``extra_layers``) or module paths; ``"all"`` is every name
        in ``layers``, ``"figure2"`` the names in ``figure2_layers`` (``"all"`` when None).

        Raises:
            InvalidArgumentError: no names, or a name that is neither a preset nor a module of the
                network, listing the presets and where to find module paths.
            InvalidTypeError: names that are not strings.
        """
        if isinstance(layers, str):
            named = {"all": list(self.layers), "figure2": list(self.figure2_layers or self.layers)}
            layers = named.get(layers, [layers])
        elif isinstance(layers, Iterable) and not isinstance(layers, Mapping):
            layers = list(layers)
        if not isinstance(layers, list) or not all(isinstance(name, str) for name in layers):
            raise InvalidTypeError(
                f"Invalid type for 'layers': expected a layer name, 'all' or a list of names, got {layers!r}"
            )
        if not layers:
            listed = f"presets: {', '.join(self.layers)}" if self.layers else "no presets here: give module paths"
            raise InvalidArgumentError(f"Invalid value for 'layers': expected at least one layer name ({listed})")
        modules = dict(self.module.named_modules())
        presets = {**self.layers, **self.extra_layers}
        resolved: dict[str, str] = {}
        for name in cast("list[str]", layers):  # checked above
            path = presets.get(name, name)
            if path not in modules or (path == INPUT_PATH and name not in presets):
                examples = ", ".join(repr(p) for p in list(modules)[1:6])
                listed = f"a preset ({', '.join(presets)}), 'all', 'figure2' or " if presets else ""
                raise InvalidArgumentError(
                    f"Invalid layer {name!r} for {self.name}: expected {listed}a module path from "
                    f"module.named_modules() (e.g. {examples})"
                )
            resolved[name] = path
        return resolved


def load_model(name: str, *, weights: PathLike = "imagenet", random_state: RandomState = 0) -> LoadedModel:
    """Build a registered network with its weights.

    Args:
        name: one of alexnet, vgg16, resnet50, convnext_tiny, vit_b_16.
        weights: ``"imagenet"`` (torchvision's default ImageNet weights, from the local cache),
            ``"untrained"`` (LeCun normal, seeded by ``random_state``) or a path to a local
            state-dict file (``torch.save(model.state_dict(), path)``).
        random_state: seed of ``"untrained"`` (an integer >= 0, or a ``np.random.Generator``, from
            which an integer seed is derived); the same seed gives identical weights.

    Returns:
        ``LoadedModel`` in eval mode on the CPU, parameters frozen (``requires_grad=False``).

    Raises:
        WeightsUnavailableError: (a ``FileNotFoundError``) ImageNet weights not in the cache,
            or no file at ``weights``; the message says how to get them.
        InvalidArgumentError: unknown name, or a seed that is not a whole number >= 0.
        InvalidTypeError: ``weights`` neither a string nor a path.
        FileFormatError: a weights file that cannot be read (not a PyTorch file, truncated,
            pickled objects other than tensors), that holds no state dict, whose state dict
            does not fit the network, or whose parameters hold NaN or Inf.
    """
    if not isinstance(weights, (str, os.PathLike)):
        raise InvalidTypeError(
            f"Invalid type for 'weights': expected 'imagenet', 'untrained' or a path to a state-dict file, got "
            f"{weights!r}"
        )
    cached = check_weights(name, weights)
    if cached is None:  # untrained
        seed = derive_seed(random_state, maximum=2**64 - 1, required=True)
        with torch.random.fork_rng(devices=[]):  # the builder's own initialization draws from torch's global RNG
            torch.manual_seed(seed)
            module = torchvision.models.get_model(name, weights=None)
            lecun_normal_(module, generator=torch.Generator().manual_seed(seed))
        description = f"untrained (LeCun normal, seed {seed})"
    else:
        state = _read_state(cached)
        module = torchvision.models.get_model(name, weights=None)
        try:
            module.load_state_dict(state)
        except RuntimeError as error:
            raise FileFormatError(f"{cached} does not hold {name} weights: {error}") from None
        enum = torchvision.models.get_model_weights(name).DEFAULT
        description = f"imagenet ({enum.name})" if weights == "imagenet" else f"file {cached}"
    module.eval().requires_grad_(False)
    named: dict[str, Any] = {"extra_layers": dict(EXTRA_PRESETS[name]), "figure2_layers": FIGURE2_LAYERS.get(name)}
    return LoadedModel(name, module, description, dict(PRESETS[name]), INPUT_SIZE[name], **named)


def _read_state(path: PathLike) -> Mapping[str, torch.Tensor]:
    """The state dict in a weights file (tensors only; other pickled objects are never loaded), checked.

    Raises:
        FileFormatError: naming ``path`` and what is wrong with it.
    """
    if Path(path).stat().st_size == 0:
        raise FileFormatError(f"{path}: the weights file is empty (0 bytes)")
    try:
        state = torch.load(path, map_location="cpu", weights_only=True)
    except (FileNotFoundError, PermissionError, IsADirectoryError):
        raise
    except Exception as error:  # for bad files torch raises UnpicklingError, RuntimeError, EOFError, OSError, ...
        reason = str(error).split("WeightsUnpickler error:")[-1].split("Check the documentation")[0]
        reason = " ".join(reason.split())[:200]  # torch's own text runs over several lines
        raise FileFormatError(
            f"{path}: cannot be read as a PyTorch state-dict file (empty, truncated, corrupt, or holding pickled "
            f"objects other than tensors, which are never loaded): {type(error).__name__}: {reason}"
        ) from error
    if isinstance(state, Mapping) and isinstance(state.get("state_dict"), Mapping):
        state = state["state_dict"]
    if not isinstance(state, Mapping):
        raise FileFormatError(f"{path}: holds a {type(state).__name__}, not a state dict (parameter name -> tensor)")
    others = [key for key, value in state.items() if not torch.is_tensor(value)]
    if others:
        raise FileFormatError(f"{path}: entries {others[:5]} of the state dict are not tensors")
    broken = [key for key, value in state.items() if value.is_floating_point() and not torch.isfinite(value).all()]
    if broken:
        raise FileFormatError(f"{path}: parameters {broken[:5]} hold NaN or Inf ({len(broken)} in all)")
    return state


class WeightsUnavailableError(RsaMirrorError, FileNotFoundError):
    """Weights that are not on this machine; ``message(cli=True)`` says how to get them in CLI words."""

    def __init__(self, name: str, weights: PathLike, cached: Path | None = None, enum_name: str | None = None) -> None:
        self.name, self.weights, self.cached, self.enum_name = name, weights, cached, enum_name
        super().__init__(self.message())

    def message(self, *, cli: bool = False) -> str:
        """The reason and the ways out, as API arguments or (``cli``) as command-line options."""
        untrained, path = ("--weights untrained", "--weights FILE") if cli else ("weights='untrained'", "weights=PATH")
        if self.weights != "imagenet":
            return f"no weights file at {self.weights}; weights must be imagenet, untrained or a file ({path})"
        assert self.cached is not None  # check_weights names the cache file of ImageNet weights
        return (
            f"ImageNet weights for {self.name} are not in the torchvision cache ({self.cached}), and rsa_mirror never "
            f'downloads them. On a machine with internet run: python -c "import torchvision; '
            f"torchvision.models.{self.name}(weights='{self.enum_name}')\", then copy {self.cached.name} to "
            f"{self.cached.parent} (or set TORCH_HOME); or pass {path} for a local state-dict file, or {untrained}."
        )


def check_weights(name: str, weights: PathLike) -> Path | None:
    """Check, before any work, that a network's weights can be had; returns their file (None: untrained).

    Raises:
        ValueError: unknown network name.
        WeightsUnavailableError: ImageNet weights not cached, or no file at ``weights``.
    """
    check_option("name", name, tuple(PRESETS))
    if weights == "untrained":
        return None
    if weights == "imagenet":
        enum = torchvision.models.get_model_weights(name).DEFAULT
        cached = Path(torch.hub.get_dir()) / "checkpoints" / os.path.basename(enum.url)
        if not cached.exists():
            raise WeightsUnavailableError(name, weights, cached, enum.name)
        return cached
    if not Path(weights).is_file():
        raise WeightsUnavailableError(name, weights)
    return Path(weights)


@torch.no_grad()
def lecun_normal_(module: torch.nn.Module, *, generator: torch.Generator | None = None) -> torch.nn.Module:
    """LeCun normal initialization in place: conv and linear weights ~ N(0, 1/fan_in), biases 0.

    ``torch.nn.init.kaiming_normal_`` with ``nonlinearity="linear"`` (gain 1): fan_in =
    in_channels / groups x kernel height x kernel width for convolutions, in_features for
    linear layers. Other parameters (normalization, embeddings) keep their defaults.
    """
    for layer in module.modules():
        if isinstance(layer, (torch.nn.Conv2d, torch.nn.Linear)):
            torch.nn.init.kaiming_normal_(layer.weight, nonlinearity="linear", generator=generator)
            if layer.bias is not None:
                layer.bias.zero_()
    return module


def images_to_input(
    images: npt.ArrayLike,
    *,
    size: int = 224,
    mean: Sequence[float] | None = IMAGENET_MEAN,
    std: Sequence[float] | None = IMAGENET_STD,
    device: str | torch.device | None = None,
) -> torch.Tensor:
    """Images (a NumPy array, e.g. ``StimulusSet.images``) as model input on ``device``.

    The images are copied to the device as they are (one channel for grayscale) and converted
    there (``model_input``), so on a GPU the host sends a third of the bytes and does none of
    the resizing.

    Args:
        images: float32 (n, H, W) or (n, 3, H, W) in [0, 1].
        size: output height and width in pixels (224 for most torchvision models, 227 for the
            paper's AlexNet); resizing is bilinear with antialiasing.
        mean: per-channel mean subtracted (ImageNet's by default); None to skip normalizing.
        std: per-channel standard deviation divided by (ImageNet's by default).
        device: where the result lives (default CPU).

    Raises:
        InvalidArgumentError: a size below 1, ``mean``/``std`` that are not 3 numbers (std > 0),
            or an unknown device.
    """
    size = check_count("size", size)
    device = None if device is None else resolve_device(device)
    return model_input(torch.from_numpy(np.ascontiguousarray(images)).to(device), size, mean, std)


def model_input(
    batch: torch.Tensor,
    size: int,
    mean: Sequence[float] | None = IMAGENET_MEAN,
    std: Sequence[float] | None = IMAGENET_STD,
) -> torch.Tensor:
    """Images as a network takes them: 3 channels, ``size`` x ``size``, normalized.

    Args:
        batch: torch tensor (n, H, W) grayscale (expanded to 3 channels), (n, 3, H, W), or
            (n, 1, H, W) (kept one channel, for one-channel networks), values in [0, 1], on any
            device.
        size: output height and width (bilinear resizing with antialiasing when it differs).
        mean: per-channel mean subtracted (3 values); None to skip normalizing.
        std: per-channel standard deviation divided by (3 positive values).

    Returns:
        float32 tensor (n, 3, size, size) (or (n, 1, size, size)) on the batch's device.
    """
    size = check_count("size", size)
    if batch.ndim not in (3, 4) or (batch.ndim == 4 and batch.shape[1] not in (1, 3)):
        raise InvalidArgumentError(
            f"Invalid value for 'batch': expected a tensor (n, H, W), (n, 1, H, W) or (n, 3, H, W), got shape "
            f"{tuple(batch.shape)}"
        )
    if mean is not None:
        mean, std = _normalization(mean, std)
    if batch.ndim == 3:
        batch = batch[:, None].expand(-1, 3, -1, -1)
    if batch.shape[-2:] != (size, size):
        batch = torch.nn.functional.interpolate(
            batch, size=(size, size), mode="bilinear", antialias=True, align_corners=False
        )
    if mean is not None:
        shift, scale = (torch.tensor(v, device=batch.device).view(1, 3, 1, 1) for v in (mean, std))
        batch = (batch - shift) / scale
    return batch.contiguous()


def _normalization(mean: object, std: object) -> tuple[tuple[float, ...], tuple[float, ...]]:
    """(mean, std) as 3 floats each (std > 0), or InvalidArgumentError naming the one that is wrong."""
    checked: list[tuple[float, ...]] = []
    for name, given in (("mean", mean), ("std", std)):
        try:
            values = np.asarray(given, dtype=float)
        except (TypeError, ValueError):
            values = np.full(1, np.nan)
        if values.shape != (3,) or not np.isfinite(values).all() or (name == "std" and (values <= 0).any()):
            allowed = "3 positive numbers (one per channel)" if name == "std" else "3 numbers (one per channel) or None"
            raise InvalidArgumentError(f"Invalid value for {name!r}: expected {allowed}, got {given!r}")
        checked.append(tuple(values.tolist()))
    return checked[0], checked[1]


def load_torch_file(path: PathLike, map_location: str | torch.device | None, keys: Iterable[str]) -> dict[str, Any]:
    """``torch.load`` of tensors and plain values only (nothing in the file runs); ``keys`` must be there.

    For the files of ``networks.training`` (networks, checkpoints); FileNotFoundError or
    FileFormatError naming the file.
    """
    import pickle
    import re
    import warnings

    path = Path(path)
    if not path.is_file():
        raise FileNotFoundError(f"no network file at {path}")
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore", UserWarning)  # torch's note on pickle protocols
            state = torch.load(path, map_location=map_location, weights_only=True)
    except pickle.UnpicklingError as error:
        found = re.search(r"GLOBAL (\S+)", str(error))
        what = f" ({found.group(1)})" if found else ""
        raise FileFormatError(
            f"{path}: cannot be read safely: it holds Python objects other than tensors and plain values{what}, or is "
            "not a torch file; nothing in it was run"
        ) from None
    except (RuntimeError, EOFError, ValueError) as error:
        raise FileFormatError(
            f"{path}: not a readable torch file ({type(error).__name__}: {error}); truncated?"
        ) from None
    missing = [key for key in keys if not isinstance(state, dict) or key not in state]
    if missing:
        raise FileFormatError(f"{path}: not a file of rsa_mirror.training (no {', '.join(missing)})")
    return state
