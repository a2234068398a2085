"""The forward engine: every forward pass of the package goes through this module.

Two ways to read a layer, on one hook mechanism (``run_layers``):

- ``run_layers``: one pass with forward hooks on the requested modules; each hook hands its
  output on at once (before an in-place ReLU that follows can alter it) and the pass stops
  once the last requested module has fired (the input itself, ``INPUT_PATH``, comes from a
  forward pre-hook on the network). ``stream_activations`` (extraction and every
  streamed analysis) runs it batch by batch.
- ``layer_function``: the network cut after one module (torchvision's FX feature extractor,
  or ``run_layers`` for a network FX cannot trace), fed grayscale batches, channels-last, its
  first strided convolution folded onto the gray image (``GrayStem``); optionally compiled.
  RISE and ``unit_responses`` use it.

Precision follows ``devices.autocast`` everywhere (bfloat16 autocast on CUDA unless a dtype is
given, float32 elsewhere); passes run under ``torch.inference_mode()``.
"""

from __future__ import annotations

import weakref
from collections.abc import Callable, Mapping, Sequence
from typing import TYPE_CHECKING, Any, cast

import numpy as np
import torch

from .._utils import check_count, check_units
from ..errors import InvalidArgumentError, InvalidTypeError
from ..stimuli.base import gray_images
from .devices import autocast, resolve_device
from .models import INPUT_PATH, LoadedModel, model_input

if TYPE_CHECKING:
    import numpy.typing as npt

    from .._typing import IntArray
    from ..stimuli.base import StimulusSet

#: A layer function: grayscale batch (B, H, W) -> (B, n) responses (``layer_function``).
LayerFunction = Callable[[torch.Tensor], torch.Tensor]

GRAY_STEM = True  # layer_function's default: fold the input's three identical channels into the first convolution


class _AllLayersSeen(Exception):
    """Raised by the last hook of a pass to skip the rest of the network."""


def as_loaded(model: LoadedModel | torch.nn.Module) -> LoadedModel:
    """``model`` as a ``LoadedModel``: itself, or a plain ``torch.nn.Module`` wrapped ("module", no presets).

    Raises:
        InvalidTypeError: neither.
    """
    if isinstance(model, LoadedModel):
        return model
    if not isinstance(model, torch.nn.Module):
        raise InvalidTypeError(
            f"Invalid type for 'model': expected a LoadedModel (load_model) or a torch.nn.Module, got "
            f"{type(model).__name__}"
        )
    return LoadedModel("module", model, "as given")


def run_layers(
    network: torch.nn.Module,
    batch: torch.Tensor,
    paths: Mapping[str, str],
    consume: Callable[[str, Any], object],
) -> set[str]:
    """One forward pass that hands the output of each module in ``paths`` to ``consume`` from its hook.

    Args:
        network: ``torch.nn.Module``.
        batch: its input.
        paths: mapping name -> module path (``LoadedModel.resolve_layers``); ``INPUT_PATH``
            (``""``) hands on the network's input itself.
        consume: callable (name, output tensor) -> None, called before the next module runs; the
            pass stops after the last requested module has fired.

    Returns:
        The set of names whose module ran (the caller checks that all did).

    Raises:
        InvalidArgumentError: a requested module runs more than once per pass (a shared
            module, e.g. the ReLU inside a ResNet block: hook the block instead).
    """
    modules, seen = dict(network.named_modules()), set[str]()

    def hook_for(name: str) -> Callable[[torch.nn.Module, Any, Any], None]:
        def hook(_module: torch.nn.Module, _inputs: Any, output: Any) -> None:
            if name in seen:
                raise InvalidArgumentError(
                    f"layer {name!r} ({paths[name]}) runs more than once per forward pass; hook its parent"
                )
            seen.add(name)
            consume(name, output[0] if isinstance(output, (tuple, list)) else output)
            if len(seen) == len(paths):
                raise _AllLayersSeen

        return hook

    # the network's input: a forward pre-hook on the root module
    def input_hook(name: str) -> Callable[[torch.nn.Module, Any], None]:
        forward_hook = hook_for(name)
        return lambda module, inputs: forward_hook(module, inputs, inputs[0])

    handles = [
        network.register_forward_pre_hook(input_hook(name))
        if path == INPUT_PATH
        else modules[path].register_forward_hook(hook_for(name))
        for name, path in paths.items()
    ]
    try:
        network(batch)
    except _AllLayersSeen:
        pass
    finally:
        for handle in handles:
            handle.remove()
    return seen


def run_until(network: torch.nn.Module, path: str | None, batch: torch.Tensor) -> Any:
    """The output of module ``path`` (None: the network's), the rest of the forward pass skipped."""
    if path is None:
        return network(batch)
    captured: dict[str, Any] = {}
    run_layers(network, batch, {path: path}, lambda _name, output: captured.setdefault("value", output))
    return captured["value"]


# network -> {(layer path, preprocessing, compile, gray stem): function}, so that repeated calls
# on one network trace (and compile) it once.
_LAYER_FUNCTIONS: weakref.WeakKeyDictionary[torch.nn.Module, dict[tuple[Any, ...], LayerFunction]] = (
    weakref.WeakKeyDictionary()
)


def layer_function(
    network: torch.nn.Module,
    path: str | None,
    loaded: LoadedModel | None = None,
    *,
    compile: bool = False,
    gray_stem: bool | None = None,
) -> LayerFunction:
    """A function: grayscale batch (B, H, W) on the network's device -> (B, n) layer responses.

    The batch is made the network's input (``model_input`` with ``loaded``'s size and
    normalization; ``loaded`` None: three identical channels, as they are), channels-last,
    and the network is cut after the module ``path`` (None: its output) with torchvision's FX
    feature extractor, or, for a network FX cannot trace, a forward hook that stops the pass.
    With ``gray_stem`` (default ``GRAY_STEM``) a strided first convolution is replaced by a
    ``GrayStem`` fed the grayscale batch. With ``compile`` the whole function goes through
    ``torch.compile`` (static shapes).
    """
    size: int | None = None
    mean: tuple[float, ...] | None = None
    std: tuple[float, ...] | None = None
    if loaded is not None:
        size, mean, std = loaded.input_size, *(None if v is None else tuple(v) for v in (loaded.mean, loaded.std))
    gray_stem = GRAY_STEM if gray_stem is None else gray_stem
    functions = _LAYER_FUNCTIONS.setdefault(network, {})
    key = (path, size, mean, std, compile, gray_stem)
    if key not in functions:
        forward, takes_gray = _truncated(network, path, (mean or (0.0,) * 3, std or (1.0,) * 3) if gray_stem else None)

        def function(gray: torch.Tensor) -> torch.Tensor:
            if takes_gray:
                batch = gray[:, None] if size is None else model_input(gray[:, None], size, None)
            else:
                batch = gray[:, None].expand(-1, 3, -1, -1) if size is None else model_input(gray, size, mean, std)
            return forward(batch.contiguous(memory_format=torch.channels_last)).flatten(1)

        functions[key] = torch.compile(function, dynamic=False) if compile else function
    return functions[key]


def _truncated(
    network: torch.nn.Module, path: str | None, gray_stem: tuple[Sequence[float], Sequence[float]] | None = None
) -> tuple[LayerFunction, bool]:
    """(function of the network's input -> output of module ``path`` (None: the network's), takes gray).

    With ``gray_stem`` = (mean, std) of the three input channels, the first convolution is
    replaced by a ``GrayStem`` where it can be, and the function takes a grayscale batch
    (B, 1, H, W) (takes gray: True).
    """
    from torchvision.models.feature_extraction import create_feature_extractor

    if path == INPUT_PATH:
        return (lambda batch: batch), False
    if path is not None:
        try:
            extractor = create_feature_extractor(network, return_nodes={path: "out"}).eval()
        except Exception:  # noqa: BLE001  (FX fails on data-dependent control flow, in many ways)
            extractor = None
        if extractor is not None:
            takes_gray = gray_stem is not None and _fold_stem(extractor, *gray_stem)
            return (lambda batch: extractor(batch)["out"]), takes_gray
    reference = weakref.ref(network)  # the cache of layer functions must not keep the network alive
    return (lambda batch: run_until(cast("torch.nn.Module", reference()), path, batch)), False


def _fold_stem(extractor: torch.fx.GraphModule, mean: Sequence[float], std: Sequence[float]) -> bool:
    """Replace a traced network's first convolution by a ``GrayStem``; True if it was replaced.

    Only a plain strided convolution on 3 channels that reads the network's input is. FX gave the
    traced network its own containers, so the network itself keeps its convolution.
    """
    inputs = [node for node in extractor.graph.nodes if node.op == "placeholder"]
    if len(inputs) != 1 or len(inputs[0].users) != 1:
        return False
    (first,) = inputs[0].users
    target = str(first.target)
    conv = extractor.get_submodule(target) if first.op == "call_module" else None
    if type(conv) is not torch.nn.Conv2d or (conv.in_channels, conv.groups, conv.dilation) != (3, 1, (1, 1)):
        return False
    if conv.padding_mode != "zeros" or isinstance(conv.padding, str) or min(conv.stride) <= 1:
        return False
    parent, _, name = target.rpartition(".")
    setattr(extractor.get_submodule(parent), name, GrayStem(conv, mean, std))
    return True


class GrayStem(torch.nn.Module):
    """A network's first convolution (3 input channels, stride > 1) on a grayscale batch (B, 1, H, W).

    The three channels are (g - mean_c) / std_c of one gray image g, zero-padded, so the
    convolution is conv(g, sum_c w_c / std_c) - conv(1, sum_c w_c mean_c / std_c) + bias, exactly,
    borders included, with one input channel instead of three. The strided convolution of g is computed as a
    stride-1 one on its (s_h x s_w) pixel blocks (space-to-depth: s_h s_w channels, kernel
    ceil(k / s)), a shape that suits matrix units better than 3 channels under a large kernel.
    Weights are read from ``conv`` at each call, so the stem follows training.
    """

    def __init__(self, conv: torch.nn.Conv2d, mean: Sequence[float], std: Sequence[float]) -> None:
        super().__init__()
        self.conv, self.mean, self.std = conv, tuple(map(float, mean)), tuple(map(float, std))

    def forward(self, gray: torch.Tensor) -> torch.Tensor:
        """The convolution's output (B, out, out_h, out_w) for a grayscale batch (B, 1, H, W)."""
        conv, functional = self.conv, torch.nn.functional
        weight = cast(torch.Tensor, sum(conv.weight[:, c] / self.std[c] for c in range(3)))  # (out, k_h, k_w)
        shift = cast(torch.Tensor, sum(conv.weight[:, c] * (self.mean[c] / self.std[c]) for c in range(3)))
        padding = cast("tuple[int, int]", conv.padding)  # numeric: _fold_stem folds no other
        (s_h, s_w), (p_h, p_w), (k_h, k_w) = conv.stride, padding, conv.kernel_size
        height, width = gray.shape[-2:]
        out_h, out_w = (height + 2 * p_h - k_h) // s_h + 1, (width + 2 * p_w - k_w) // s_w + 1
        b_h, b_w = -(-k_h // s_h), -(-k_w // s_w)  # kernel size in blocks
        # pad (or crop) to exactly the blocks the output reads: (out - 1 + kernel blocks) x stride
        pads = (p_w, s_w * (out_w - 1 + b_w) - width - p_w, p_h, s_h * (out_h - 1 + b_h) - height - p_h)
        blocks = functional.pad(gray[:, 0], pads).unflatten(1, (-1, s_h)).unflatten(3, (-1, s_w))  # B,h,s_h,w,s_w
        blocks = blocks.permute(0, 1, 3, 2, 4).flatten(3).permute(0, 3, 1, 2)  # (B, s_h s_w, h, w), channels-last
        kernel = functional.pad(weight, (0, b_w * s_w - k_w, 0, b_h * s_h - k_h))
        kernel = kernel.unflatten(1, (b_h, s_h)).unflatten(3, (b_w, s_w)).permute(0, 2, 4, 1, 3).flatten(1, 2)
        offset = -functional.conv2d(torch.ones_like(gray[:1]), shift[:, None], None, conv.stride, conv.padding)
        offset = offset if conv.bias is None else offset + conv.bias[:, None, None]  # (1, out, out_h, out_w)
        return functional.conv2d(blocks, kernel) + offset


def select_units(response: torch.Tensor, units: torch.Tensor, unit_list: IntArray, layer: str | None) -> torch.Tensor:
    """Columns ``units`` of a (B, n) layer response, checked against n (``unit_list``: them on the CPU)."""
    if unit_list.max() >= response.shape[1]:
        where = "the network's output" if layer is None else f"layer {layer!r}"
        raise InvalidArgumentError(
            f"Invalid value for 'units': {where} has {response.shape[1]} units (0 .. {response.shape[1] - 1}), "
            f"got unit {int(unit_list.max())}"
        )
    return response[:, units]


def unit_responses(
    model: LoadedModel | torch.nn.Module,
    stimuli: StimulusSet | npt.ArrayLike,
    layer: str | None,
    units: npt.ArrayLike | None,
    *,
    device: str | torch.device = "auto",
    batch_size: int = 256,
    dtype: torch.dtype | None = None,
) -> np.ndarray:
    """(n_units, n_images) responses of selected units (None: all; ``layer`` None: the output).

    Args:
        model: ``LoadedModel`` (its input size and normalization applied) or a plain
            ``torch.nn.Module`` fed the images as three identical channels.
        stimuli: ``StimulusSet`` or an (n, H, W) array of grayscale images in [0, 1].
        layer: preset name or module path; None for the model's output.
        units: (n_units,) indices into the layer's flattened output, or None for all.
        device: ``"auto"``, ``"cpu"``, ``"cuda"``, ... .
        batch_size: images per forward pass.
        dtype: as in ``devices.autocast`` (default: bfloat16 autocast on CUDA, float32 elsewhere).

    Raises:
        InvalidArgumentError: ``batch_size`` < 1, or ``units`` not a non-empty list of the
            layer's units.
        DataError: the images are not a finite (n, H, W) array.
    """
    batch_size = check_count("batch_size", batch_size, minimum=1)
    unit_list = None if units is None else check_units(units)
    images, _, _ = gray_images(stimuli)
    loaded = as_loaded(model)
    device = resolve_device(device)
    network = loaded.module.to(device).eval()
    path = None if layer is None else loaded.resolve_layers([layer])[layer]
    selected = None if unit_list is None else torch.as_tensor(unit_list, device=device)
    function = layer_function(network, path, loaded if isinstance(model, LoadedModel) else None)
    parts: list[np.ndarray] = []
    for start in range(0, len(images), batch_size):
        batch = torch.as_tensor(images[start : start + batch_size], device=device)
        with torch.inference_mode(), autocast(device, dtype):
            response = function(batch)
            if selected is not None and unit_list is not None:  # (both or neither)
                response = select_units(response, selected, unit_list, layer)
            parts.append(response.float().cpu().numpy())
    return np.concatenate(parts).T
