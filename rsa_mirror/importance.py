"""Importance maps (Figure 5): RISE, insertion/deletion images, component shuffle, mirror units.

RISE (Petsiuk et al. 2018; METHODS.md "Importance maps"): each image is shown through many random
masks (a coarse random binary grid, bilinearly upsampled and shifted by a random fraction of a
cell); hidden pixels take the background gray. A unit's importance map is the average of the
masks weighted by its response, sum_i r_i M_i / (N p). Masks are made on the device in batches
from seeded draws on the CPU (the same masks on any device), one forward pass of the network
cut after the layer (its first convolution folded onto the grayscale images, ``_GrayStem``)
serves every selected unit, and the maps of each object are written to an
atomic checkpoint so that a killed run restarted with the same arguments finishes with the
same maps.
"""

from __future__ import annotations

import contextlib
import hashlib
import json
import warnings
import weakref
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import pandas as pd
import torch
from scipy import ndimage, stats
from torchvision.models.feature_extraction import create_feature_extractor
from tqdm.auto import tqdm

from ._utils import atomic_path, check_count, check_option, check_random_state, format_indices, load_cached_array
from .activations import _as_loaded, resolve_device
from .errors import DataError, InvalidArgumentError, InvalidTypeError
from .models import LoadedModel
from .stimuli import StimulusSet, model_input


def select_mirror_units(tuning, views_deg, *, fraction=0.05, criterion="strict", alpha=0.05) -> pd.DataFrame:
    """Mirror-symmetric units of one object from their view-tuning curves.

    Args:
        tuning: (n_units, n_views) responses of each unit to the object's views.
        views_deg: (n_views,) yaw of each view, mirror-paired (-v and v both present).
        fraction: share of all units kept by the strict criterion (top 5% by default).
        criterion: ``"strict"`` (the paper's: the curve correlates positively with the V-shaped
            template |angle|, then the top ``fraction`` of units by the correlation of the curve
            with its mirror reversal) or ``"baek"`` (our reading of Baek et al. 2021: the
            curve correlates with its mirror reversal, one-sided p < ``alpha``, n_views points).
        alpha: significance level of the ``"baek"`` criterion.

    Returns:
        DataFrame of the selected units, best first: ``unit`` (index), ``r_template``,
        ``r_mirror``.

    Raises:
        InvalidArgumentError: ``criterion``, ``fraction`` (in (0, 1]) or ``alpha`` (in (0, 1)).
        DataError: ``tuning`` is not a finite (n_units, n_views) array matching ``views_deg``,
            fewer than 3 views, or views that are not mirror-paired.
    """
    check_option("criterion", criterion, ("strict", "baek"))
    fraction = _check_share("fraction", fraction, "(]")
    alpha = _check_share("alpha", alpha)
    tuning = _float_array("tuning", tuning)
    views = _float_array("views_deg", views_deg)
    if views.ndim != 1 or tuning.ndim != 2 or tuning.shape[1] != len(views):
        raise DataError(
            f"tuning must be (n_units, n_views) and views_deg (n_views,), got shapes {tuning.shape} and {views.shape}"
        )
    if len(views) < 3:
        raise DataError(f"mirror units need at least 3 views, got {views.tolist()}")
    for name, values in (("tuning", tuning), ("views_deg", views)):
        if not np.all(np.isfinite(values)):
            raise DataError(f"{name} holds NaN or Inf")
    order = np.argsort(views)
    curves = tuning[:, order]
    mirrored = curves[:, ::-1]  # views sorted, so reversal maps v to -v
    if not np.allclose(views[order], -views[order][::-1]):
        raise DataError(f"views must come in mirror pairs, got {views.tolist()}")
    r_template = _row_correlation(curves, np.abs(views[order])[None, :])
    r_mirror = _row_correlation(curves, mirrored)
    table = pd.DataFrame({"unit": np.arange(len(curves)), "r_template": r_template, "r_mirror": r_mirror})
    if criterion == "strict":
        candidates = table[table.r_template > 0].sort_values("r_mirror", ascending=False, kind="stable")
        return candidates.head(int(np.ceil(fraction * len(curves)))).reset_index(drop=True)
    n = curves.shape[1]
    t = table.r_mirror * np.sqrt((n - 2) / np.clip(1 - table.r_mirror**2, 1e-12, None))
    keep = stats.t.sf(t, n - 2) < alpha
    return table[keep].sort_values("r_mirror", ascending=False, kind="stable").reset_index(drop=True)


def count_mirror_units(model, stimuli, layer, *, alpha=0.05, device="auto") -> pd.DataFrame:
    """How many units of a layer are mirror-symmetric for each object, under two criteria.

    Counting needs thresholds rather than the top-5% rule of ``select_mirror_units``:
    ``baek``: the tuning curve correlates with its mirror reversal (one-sided p < ``alpha``);
    ``strict``: that, and the curve also correlates positively with the V-shaped template
    |angle| (so frontal-peaked, view-invariant-like curves do not count). Silent units (no
    response to any view of the object) count for neither.

    Returns:
        DataFrame per object: ``object``, ``category``, ``n_units``, ``n_baek``, ``n_strict``.

    Raises:
        InvalidArgumentError: ``alpha`` not in (0, 1).
        InvalidTypeError, DataError: ``stimuli`` is not a ``StimulusSet`` with ``object`` and
            ``view_deg`` descriptors.
    """
    alpha = _check_share("alpha", alpha)
    _check_design(stimuli)
    images, _, objects = _grayscale(stimuli)
    views = np.asarray(stimuli.descriptors["view_deg"], dtype=float)
    categories = np.asarray(stimuli.descriptors.get("category", objects))
    responses = unit_responses(model, images, layer, None, device=device)
    rows = []
    for obj in dict.fromkeys(objects):
        picked = np.flatnonzero(objects == obj)
        picked = picked[np.argsort(views[picked])]
        tuning = responses[:, picked]
        active = np.ptp(tuning, axis=1) > 0
        table = select_mirror_units(tuning, views[picked], criterion="baek", alpha=alpha)
        table = table[active[table.unit]]
        rows.append((obj, categories[picked[0]], len(tuning), len(table), int((table.r_template > 0).sum())))
    return pd.DataFrame(rows, columns=["object", "category", "n_units", "n_baek", "n_strict"])


def _row_correlation(a, b) -> np.ndarray:
    a = a - a.mean(axis=1, keepdims=True)
    b = np.broadcast_to(b - b.mean(axis=1, keepdims=True), a.shape)
    denominator = np.sqrt((a * a).sum(1) * (b * b).sum(1))
    with np.errstate(invalid="ignore", divide="ignore"):
        return np.where(denominator > 0, (a * b).sum(1) / np.where(denominator > 0, denominator, 1), 0.0)


def make_masks(n_masks, size, *, grid=7, p=0.5, generator=None, device="cpu") -> torch.Tensor:
    """(n_masks, H, W) RISE masks in [0, 1], made on ``device``.

    A (grid x grid) Bernoulli(p) grid is upsampled bilinearly to (grid + 1) cells of
    ceil(H / grid) pixels and cropped at a random shift within one cell. The random draws come
    from ``generator`` (a CPU ``torch.Generator``), so a seed gives the same masks on every device.

    Raises:
        InvalidArgumentError: ``n_masks``, ``size`` (an int or (H, W), each >= 1) or ``grid`` not
            at least 1, ``p`` not in (0, 1), or an unknown ``device``.
        InvalidTypeError: ``generator`` is not a ``torch.Generator``.
    """
    n_masks = check_count("n_masks", n_masks, minimum=1)
    height, width = _check_size(size)
    grid = check_count("grid", grid, minimum=1)
    p = _check_share("p", p)
    if generator is not None and not isinstance(generator, torch.Generator):
        raise InvalidTypeError(
            f"Invalid type for 'generator': expected a torch.Generator or None, got {type(generator).__name__}"
        )
    device = resolve_device(device)
    draws = _mask_draws(n_masks, (height, width), grid, p, generator, device)
    return _masks(*draws, _upsampling(grid, (height, width), device))


def _mask_draws(n_masks, size, grid, p, generator, device) -> tuple:
    """Random part of ``n_masks`` masks: grids (n, grid, grid), shifts (n,), (n,); CPU-drawn, on ``device``."""
    height, width = size
    coarse = torch.rand(n_masks, grid, grid, generator=generator) < p
    dy = torch.randint(0, int(np.ceil(height / grid)), (n_masks,), generator=generator)
    dx = torch.randint(0, int(np.ceil(width / grid)), (n_masks,), generator=generator)
    return tuple(_to_device(draw, device) for draw in (coarse.float(), dy, dx))


def _to_device(tensor, device) -> torch.Tensor:
    """``tensor`` (CPU) on ``device``; to CUDA through pinned memory, without waiting for the GPU."""
    if device.type != "cuda":
        return tensor.to(device)
    return tensor.pin_memory().to(device, non_blocking=True)


def _upsampling(grid, size, device) -> tuple:
    """Bilinear upsampling of a grid to (grid + 1) cells, then a crop, as matrices, for each axis.

    Bilinear interpolation is separable, so the upsampled-and-cropped mask of a coarse grid C is
    Y[dy] @ C @ X[dx].T, with Y[d] (H, grid) the 1-d linear interpolation (of each basis grid)
    cropped at shift d. Returns (Y (cell_h, H, grid), X (cell_w, W, grid)) on ``device``.
    """
    matrices = []
    for length in size:  # (H, W)
        cell = int(np.ceil(length / grid))
        basis = torch.eye(grid, device=device)[:, None, :]  # grid one-hot signals of length grid
        up = torch.nn.functional.interpolate(basis, size=(grid + 1) * cell, mode="linear", align_corners=False)
        matrices.append(torch.stack([up[:, 0, d : d + length].T for d in range(cell)]))
    return tuple(matrices)


def _masks(coarse, dy, dx, upsampling) -> torch.Tensor:
    """Masks (n, H, W) from their draws (``_mask_draws``) and the upsampling matrices (``_upsampling``)."""
    rows, cols = upsampling
    return (rows[dy] @ coarse @ cols[dx].transpose(1, 2)).clamp_(0, 1)


def rise_maps(
    model,
    stimuli,
    layer,
    units,
    *,
    weights=None,
    n_masks=5000,
    grid=7,
    p=0.5,
    batch_size=256,
    device="auto",
    random_state=None,
    checkpoint_dir=None,
    compile=False,
    verbose=False,
) -> np.ndarray:
    """RISE importance maps of selected units for every image.

    Args:
        model: ``LoadedModel`` (its input size and normalization are applied) or a plain
            ``torch.nn.Module`` fed the images as they are, three channels.
        stimuli: ``StimulusSet`` or an array (n, H, W) of grayscale images in [0, 1]
            (background gray 0.5 for an array).
        layer: preset name or module path; None for the model's output. The network is cut
            after it (``_layer_function``).
        units: (n_units,) indices into the layer's flattened output.
        weights: optional (n_maps, n_units): return n_maps combinations of the units' maps,
            map j = sum_u weights[j, u] * map_u. Maps are linear in the responses, so the
            responses are combined before the accumulation: a row of 1 / n_units gives the
            units' mean map at the cost of one map (time and memory), which matters with
            hundreds of units (the paper's population maps).
        n_masks: masks per image.
        grid: cells per side of the coarse mask grid.
        p: probability that a cell is shown.
        batch_size: masked images per forward pass (1000 suits a large GPU).
        device: ``"auto"``, ``"cpu"``, ``"cuda"``. On CUDA: bfloat16 autocast, cuDNN's fastest
            convolution algorithms (unless ``torch.backends.cudnn.deterministic``) and TF32 for
            the float32 accumulation of the maps: GPU maps (same masks) are close to CPU maps,
            not equal.
        random_state: int seed; image k's masks come from (seed, k), so maps do not depend on
            batching, on which images are computed in one call, or on the device.
        checkpoint_dir: folder for one atomic file per object (``descriptors['object']``, or
            per image); a restarted run with the same arguments reuses them.
        compile: compile the masked forward pass with ``torch.compile`` (same maps within float
            rounding; compilation takes seconds to a minute, worth it for long runs such as the
            paper's full workload on a GPU).
        verbose: progress bar over images.

    Returns:
        float32 array (n_units, n_images, H, W), or (n_maps, n_images, H, W) with ``weights``.

    Raises:
        InvalidArgumentError: ``n_masks``, ``grid`` or ``batch_size`` not at least 1, ``p`` not
            in (0, 1), ``units`` not a non-empty list of the layer's units, ``weights`` not a
            finite (n_maps, n_units) array, a negative ``random_state``, or an unknown ``device``.
        DataError: the images are not a finite (n, H, W) array.
    """
    n_masks = check_count("n_masks", n_masks, minimum=1)
    grid = check_count("grid", grid, minimum=1)
    p = _check_share("p", p)
    batch_size = check_count("batch_size", batch_size, minimum=1)
    seed = _seed(random_state)
    unit_list = _check_units(units)
    if weights is not None:
        weights = _float_array("weights", weights).astype(np.float32)
        if weights.ndim != 2 or weights.shape[1] != len(unit_list) or len(weights) == 0:
            raise InvalidArgumentError(
                f"Invalid value for 'weights': expected shape (n_maps >= 1, {len(unit_list)}) (one column per unit), "
                f"got shape {weights.shape}"
            )
        if not np.all(np.isfinite(weights)):
            raise InvalidArgumentError("Invalid value for 'weights': expected finite values, got NaN or Inf")
    images, background, objects = _grayscale(stimuli)
    loaded = _as_loaded(model)
    device = resolve_device(device)
    units = torch.as_tensor(unit_list, device=device)
    combine = None if weights is None else torch.as_tensor(weights, device=device)
    n_maps = len(units) if weights is None else len(weights)
    network = loaded.module.to(device).eval()
    path = None if layer is None else loaded.resolve_layers([layer])[layer]
    if checkpoint_dir is not None:  # hashing the weights and images takes a second for large networks
        key = _checkpoint_key(loaded, layer, units, weights, n_masks, grid, p, seed, images)
    function = _layer_function(network, path, loaded if isinstance(model, LoadedModel) else None, compile=compile)
    n, height, width = images.shape
    maps = np.zeros((n_maps, n, height, width), dtype=np.float32)
    groups = pd.Series(np.arange(n)).groupby(objects, sort=False).apply(list) if objects is not None else None
    groups = list(groups) if groups is not None else [[k] for k in range(n)]
    autocast = {"device_type": device.type, "dtype": torch.bfloat16, "enabled": device.type == "cuda"}
    upsampling = _upsampling(grid, (height, width), device)
    pending = {}  # image -> its maps (n_maps, H * W), on the device until copied in one go
    with _fast_kernels(device):
        for rows in tqdm(groups, desc="RISE", disable=not verbose):
            file = None if checkpoint_dir is None else Path(checkpoint_dir) / f"rise-{key}-{rows[0]:06d}.npy"
            cached = None
            if file is not None:
                shape = (n_maps, len(rows), height, width)
                cached = load_cached_array(
                    file, fits=lambda a, s=shape: a.shape == s, expected=f"float32 {shape}", what="RISE checkpoint"
                )
            if cached is not None:
                maps[:, rows] = cached
                continue
            for k in rows:
                generator = torch.Generator().manual_seed((seed * 1_000_003 + k) % 2**64)
                image = _to_device(torch.as_tensor(images[k]), device)
                draws = _mask_draws(n_masks, (height, width), grid, p, generator, device)  # batching-independent
                total = torch.zeros(n_maps, height * width, device=device)
                for start in range(0, n_masks, batch_size):
                    masks = _masks(*(d[start : start + batch_size] for d in draws), upsampling)
                    masked = masks * (image - background) + background
                    with torch.inference_mode(), torch.autocast(**autocast):
                        response = _select(function(masked), units, unit_list, layer).float()
                    response = response if combine is None else response @ combine.T
                    total += response.T @ masks.reshape(len(masks), -1)
                pending[k] = total / (n_masks * p)
                if len(pending) * total.numel() * 4 > PENDING_BYTES:
                    _copy_out(pending, maps)
            if file is not None:
                _copy_out(pending, maps)
                with atomic_path(file) as tmp:
                    np.save(tmp, maps[:, rows])
        _copy_out(pending, maps)
    return maps


PENDING_BYTES = 2**28  # maps held on the device before a copy to the host (one wait for the device)


def _copy_out(pending, maps):
    """Copy maps kept on the device ({image: (n_maps, H * W)}) into ``maps`` (n_maps, n, H, W); empties ``pending``."""
    if pending:
        rows = list(pending)
        stacked = torch.stack(list(pending.values()), 1).cpu().numpy()
        maps[:, rows] = stacked.reshape(len(stacked), len(rows), *maps.shape[2:])
        pending.clear()


@contextlib.contextmanager
def _fast_kernels(device):
    """On CUDA: cuDNN picks its fastest algorithms (unless deterministic) and float32 products use TF32."""
    if device.type != "cuda":
        yield
        return
    benchmark, precision = torch.backends.cudnn.benchmark, torch.get_float32_matmul_precision()
    torch.backends.cudnn.benchmark = not torch.backends.cudnn.deterministic
    torch.set_float32_matmul_precision("high")
    try:
        yield
    finally:
        torch.backends.cudnn.benchmark = benchmark
        torch.set_float32_matmul_precision(precision)


# network -> {(layer path, preprocessing, compile): function}, so that repeated calls on one
# network trace (and compile) it once.
_LAYER_FUNCTIONS = weakref.WeakKeyDictionary()


def _layer_function(network, path, loaded=None, *, compile=False, gray_stem=None):
    """A function: grayscale batch (B, H, W) on the network's device -> (B, n) layer responses.

    The batch is made the network's input (``model_input`` with ``loaded``'s size and
    normalization; ``loaded`` None: three identical channels, as they are), channels-last,
    and the network is cut after the module ``path`` (None: its output) with torchvision's FX
    feature extractor, or, for a network FX cannot trace, a forward hook that stops the pass.
    With ``gray_stem`` (default ``GRAY_STEM``) a strided first convolution is replaced by a
    ``_GrayStem`` fed the grayscale batch. With ``compile`` the whole function goes through
    ``torch.compile`` (static shapes).
    """
    size = mean = std = None
    if loaded is not None:
        size, mean, std = loaded.input_size, *(None if v is None else tuple(v) for v in (loaded.mean, loaded.std))
    gray_stem = GRAY_STEM if gray_stem is None else gray_stem
    functions = _LAYER_FUNCTIONS.setdefault(network, {})
    key = (path, size, mean, std, compile, gray_stem)
    if key not in functions:
        forward, takes_gray = _truncated(network, path, (mean or (0.0,) * 3, std or (1.0,) * 3) if gray_stem else None)

        def function(gray):
            if takes_gray:
                batch = gray[:, None] if size is None else model_input(gray[:, None], size, None)
            else:
                batch = gray[:, None].expand(-1, 3, -1, -1) if size is None else model_input(gray, size, mean, std)
            return forward(batch.contiguous(memory_format=torch.channels_last)).flatten(1)

        functions[key] = torch.compile(function, dynamic=False) if compile else function
    return functions[key]


GRAY_STEM = True  # _layer_function's default: fold the input's three identical channels into the first convolution


def _truncated(network, path, gray_stem=None) -> tuple:
    """(function of the network's input -> output of module ``path`` (None: the network's), takes gray).

    With ``gray_stem`` = (mean, std) of the three input channels, the first convolution is
    replaced by a ``_GrayStem`` where it can be, and the function takes a grayscale batch
    (B, 1, H, W) (takes gray: True).
    """
    if path is not None:
        try:
            extractor = create_feature_extractor(network, return_nodes={path: "out"}).eval()
        except Exception:  # noqa: BLE001  (FX fails on data-dependent control flow, in many ways)
            extractor = None
        if extractor is not None:
            takes_gray = gray_stem is not None and _fold_stem(extractor, *gray_stem)
            return (lambda batch: extractor(batch)["out"]), takes_gray
    reference = weakref.ref(network)  # the cache of layer functions must not keep the network alive
    return (lambda batch: _run_until(reference(), path, batch)), False


def _fold_stem(extractor, mean, std) -> bool:
    """Replace a traced network's first convolution by a ``_GrayStem``; True if it was replaced.

    Only a plain strided convolution on 3 channels that reads the network's input is. FX gave the
    traced network its own containers, so the network itself keeps its convolution.
    """
    inputs = [node for node in extractor.graph.nodes if node.op == "placeholder"]
    if len(inputs) != 1 or len(inputs[0].users) != 1:
        return False
    (first,) = inputs[0].users
    conv = extractor.get_submodule(first.target) if first.op == "call_module" else None
    plain = type(conv) is torch.nn.Conv2d and (conv.in_channels, conv.groups, conv.dilation) == (3, 1, (1, 1))
    if not (plain and conv.padding_mode == "zeros" and not isinstance(conv.padding, str) and min(conv.stride) > 1):
        return False
    parent, _, name = first.target.rpartition(".")
    setattr(extractor.get_submodule(parent), name, _GrayStem(conv, mean, std))
    return True


class _GrayStem(torch.nn.Module):
    """A network's first convolution (3 input channels, stride > 1) on a grayscale batch (B, 1, H, W).

    The three channels are (g - mean_c) / std_c of one gray image g, zero-padded, so the
    convolution is conv(g, sum_c w_c / std_c) - conv(1, sum_c w_c mean_c / std_c) + bias, exactly,
    borders included, with one input channel instead of three. The strided convolution of g is computed as a
    stride-1 one on its (s_h x s_w) pixel blocks (space-to-depth: s_h s_w channels, kernel
    ceil(k / s)), a shape that suits matrix units better than 3 channels under a large kernel.
    Weights are read from ``conv`` at each call, so the stem follows training.
    """

    def __init__(self, conv, mean, std):
        super().__init__()
        self.conv, self.mean, self.std = conv, tuple(map(float, mean)), tuple(map(float, std))

    def forward(self, gray):
        conv, functional = self.conv, torch.nn.functional
        weight = sum(conv.weight[:, c] / self.std[c] for c in range(3))  # (out, k_h, k_w)
        shift = sum(conv.weight[:, c] * (self.mean[c] / self.std[c]) for c in range(3))
        (s_h, s_w), (p_h, p_w), (k_h, k_w) = conv.stride, conv.padding, conv.kernel_size
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


class _Done(Exception):
    pass


def _run_until(network, path, batch):
    """The output of module ``path`` (None: the network's), the rest of the forward pass skipped."""
    if path is None:
        return network(batch)
    captured = {}

    def hook(_module, _inputs, output):
        captured["value"] = output
        raise _Done

    handle = dict(network.named_modules())[path].register_forward_hook(hook)
    try:
        network(batch)
    except _Done:
        pass
    finally:
        handle.remove()
    return captured["value"]


def unit_responses(model, stimuli, layer, units, *, device="auto", batch_size=256) -> np.ndarray:
    """(n_units, n_images) responses of selected units (None: all; ``layer`` None: the output).

    Raises:
        InvalidArgumentError: ``batch_size`` < 1, or ``units`` not a non-empty list of the
            layer's units.
        DataError: the images are not a finite (n, H, W) array.
    """
    batch_size = check_count("batch_size", batch_size, minimum=1)
    unit_list = None if units is None else _check_units(units)
    images, _, _ = _grayscale(stimuli)
    loaded = _as_loaded(model)
    device = resolve_device(device)
    network = loaded.module.to(device).eval()
    path = None if layer is None else loaded.resolve_layers([layer])[layer]
    every = units is None
    units = None if every else torch.as_tensor(unit_list, device=device)
    function = _layer_function(network, path, loaded if isinstance(model, LoadedModel) else None)
    parts = []
    for start in range(0, len(images), batch_size):
        batch = torch.as_tensor(images[start : start + batch_size], device=device)
        with torch.inference_mode():
            response = function(batch)
            parts.append((response if every else _select(response, units, unit_list, layer)).float().cpu().numpy())
    return np.concatenate(parts).T


def insertion_deletion(image, importance, foreground, fraction, *, background=0.5) -> tuple:
    """Insertion and deletion images at one threshold.

    Args:
        image: (H, W) grayscale.
        importance: (H, W) importance map.
        foreground: (H, W) bool, the object's pixels.
        fraction: share of the foreground pixels counted as most important (0.1 .. 0.9).
        background: gray of the hidden pixels.

    Returns:
        (insertion, deletion, kept): insertion shows only the most important foreground
        pixels, deletion hides them; ``kept`` is their bool mask.

    Raises:
        InvalidArgumentError: ``fraction`` not in [0, 1].
        DataError: ``image``, ``importance`` and ``foreground`` are not (H, W) arrays of one shape,
            or ``importance`` holds NaN.
    """
    fraction = _check_share("fraction", fraction, "[]")
    image, importance = _float_array("image", image), _float_array("importance", importance)
    foreground = np.asarray(foreground, dtype=bool)
    shapes = {"image": image.shape, "importance": importance.shape, "foreground": foreground.shape}
    if image.ndim != 2 or len(set(shapes.values())) != 1:
        raise DataError(f"image, importance and foreground must be (H, W) arrays of one shape, got {shapes}")
    if np.isnan(importance).any():
        raise DataError("importance holds NaN")
    values = np.where(foreground, importance, -np.inf)
    n_keep = int(round(fraction * foreground.sum()))
    order = np.argsort(values, axis=None, kind="stable")[::-1][:n_keep]
    kept = np.zeros(image.shape, dtype=bool)
    kept.flat[order] = True
    insertion = np.where(kept, image, background).astype(np.float32)
    deletion = np.where(kept, background, image).astype(np.float32)
    return insertion, deletion, kept


def shuffle_components(image, kept, *, background=0.5, random_state=None, max_tries=1000) -> np.ndarray:
    """The kept pixels' connected components moved to random places, without overlap, in the frame.

    Local features stay intact; their global arrangement is destroyed. Components are placed
    largest first; one that finds no free place in ``max_tries`` draws keeps its position
    if that is free, else is dropped (rare; the count is not returned).

    Raises:
        InvalidArgumentError: ``max_tries`` < 1.
        DataError: ``image`` and ``kept`` are not (H, W) arrays of one shape.
    """
    max_tries = check_count("max_tries", max_tries, minimum=1)
    image, kept = _float_array("image", image), np.asarray(kept, dtype=bool)
    if image.ndim != 2 or image.shape != kept.shape:
        raise DataError(f"image and kept must be (H, W) arrays of one shape, got {image.shape} and {kept.shape}")
    rng = check_random_state(random_state)
    labels, count = ndimage.label(kept)
    out = np.full(image.shape, background, dtype=np.float32)
    occupied = np.zeros(image.shape, dtype=bool)
    sizes = ndimage.sum(kept, labels, index=np.arange(1, count + 1))
    for index in np.argsort(sizes)[::-1] + 1:
        ys, xs = np.nonzero(labels == index)
        top, left = ys.min(), xs.min()
        height, width = ys.max() - top + 1, xs.max() - left + 1
        for _ in range(max_tries):
            y = rng.integers(0, image.shape[0] - height + 1)
            x = rng.integers(0, image.shape[1] - width + 1)
            target = (ys - top + y, xs - left + x)
            if not occupied[target].any():
                break
        else:
            target = (ys, xs)
            if occupied[target].any():
                continue
        out[target] = image[ys, xs]
        occupied[target] = True
    return out


def _view_indices(activations, descriptors, label) -> dict:
    """Object -> mirror-symmetric viewpoint tuning index of (n_images, n_units) activations.

    Empty, with a warning naming ``label``, when fewer than two units vary (no view RDM).
    """
    from .rdm import compute_view_rdms
    from .symmetry import msvt_index

    try:
        view_rdms = compute_view_rdms({"units": activations}, descriptors=descriptors)
    except ValueError as error:
        warnings.warn(f"{label} images: no index ({error})", stacklevel=3)
        return {}
    matrices = view_rdms.get_matrices()
    return dict(zip(view_rdms.rdm_descriptors["object"], map(msvt_index, matrices), strict=True))


def _check_share(name, value, interval="()") -> float:
    """``value`` as a float in the interval of 0 and 1 written ``"()"``, ``"(]"`` or ``"[]"``, else raise."""
    if not _in_interval(value, interval):
        raise InvalidArgumentError(
            f"Invalid value for {name!r}: expected a number in {interval[0]}0, 1{interval[1]}, got {value!r}"
        )
    return float(value)


def _in_interval(value, interval="()") -> bool:
    if isinstance(value, (bool, np.bool_)) or not isinstance(value, (int, float, np.integer, np.floating)):
        return False
    low = value >= 0 if interval[0] == "[" else value > 0
    return bool(low and (value <= 1 if interval[1] == "]" else value < 1))


def _check_thresholds(thresholds) -> list:
    """Shares of the foreground, a non-empty sequence of numbers in (0, 1)."""
    values = None if isinstance(thresholds, (str, bytes)) or np.ndim(thresholds) != 1 else list(thresholds)
    if not values or not all(_in_interval(q) for q in values):
        raise InvalidArgumentError(
            f"Invalid value for 'thresholds': expected a non-empty sequence of numbers in (0, 1), got {thresholds!r}"
        )
    return [float(q) for q in values]


def _check_size(size) -> tuple:
    """(H, W) from an int or a pair of ints, each >= 1."""
    pair = (size, size) if np.isscalar(size) else tuple(size) if np.ndim(size) == 1 else ()
    if len(pair) != 2:
        raise InvalidArgumentError(f"Invalid value for 'size': expected an integer or (H, W), got {size!r}")
    return check_count("size", pair[0], minimum=1), check_count("size", pair[1], minimum=1)


def _seed(random_state) -> int:
    """RISE's integer seed: ``random_state`` itself (an integer >= 0), or drawn from a Generator or None."""
    if random_state is None or isinstance(random_state, np.random.Generator):
        return int(check_random_state(random_state).integers(2**62))
    return check_count("random_state", random_state, minimum=0)


def _check_units(units) -> np.ndarray:
    """(n_units,) int64 unit indices, non-empty and >= 0 (the upper end is checked against the layer)."""
    try:
        array = np.asarray(units)
    except (TypeError, ValueError):
        array = np.empty((0, 0))
    if array.ndim != 1 or len(array) == 0 or not np.issubdtype(array.dtype, np.integer) or (array < 0).any():
        raise InvalidArgumentError(
            f"Invalid value for 'units': expected a non-empty list of unit indices (integers >= 0), got {units!r}"
        )
    return array.astype(np.int64)


def _select(response, units, unit_list, layer) -> torch.Tensor:
    """Columns ``units`` of a (B, n) layer response, checked against n (``unit_list``: them on the CPU)."""
    if unit_list.max() >= response.shape[1]:
        where = "the network's output" if layer is None else f"layer {layer!r}"
        raise InvalidArgumentError(
            f"Invalid value for 'units': {where} has {response.shape[1]} units (0 .. {response.shape[1] - 1}), "
            f"got unit {int(unit_list.max())}"
        )
    return response[:, units]


def _check_design(stimuli):
    """A ``StimulusSet`` with ``object`` and ``view_deg`` descriptors, else raise."""
    if not isinstance(stimuli, StimulusSet):
        raise InvalidTypeError(
            "Invalid type for 'stimuli': expected a StimulusSet with 'object' and 'view_deg' descriptors, "
            f"got {type(stimuli).__name__}"
        )
    missing = [key for key in ("object", "view_deg") if key not in stimuli.descriptors]
    if missing:
        raise DataError(f"stimuli need the descriptors {missing}; they have {sorted(stimuli.descriptors)}")


def _float_array(name, values, dtype=np.float64) -> np.ndarray:
    """``values`` as an array of ``dtype`` (no copy when it is one), else InvalidTypeError naming ``name``."""
    try:
        return np.asarray(values, dtype=dtype)
    except (TypeError, ValueError):
        raise InvalidTypeError(
            f"Invalid type for {name!r}: expected a numeric array, got {type(values).__name__}"
        ) from None


def _complement(share) -> float:
    """1 - share, rounded to 10 decimals so that shares can be matched (1 - 0.7 != 0.3 in floats)."""
    return round(1 - share, 10)


def _grayscale(stimuli) -> tuple:
    """(images (n, H, W) float32, background, objects or None) from a StimulusSet or an array."""
    if isinstance(stimuli, StimulusSet):
        images = stimuli.images if stimuli.images.ndim == 3 else stimuli.images.mean(axis=1)
        return (
            np.ascontiguousarray(images, dtype=np.float32),
            float(stimuli.background),
            stimuli.descriptors.get("object"),
        )
    images = _float_array("stimuli", stimuli, np.float32)
    if images.ndim != 3 or 0 in images.shape:
        raise DataError(f"images must be (n, H, W) grayscale, got shape {images.shape}")
    if not np.all(np.isfinite(images)):
        bad = np.flatnonzero(~np.isfinite(images).all(axis=(1, 2)))
        raise DataError(f"images {format_indices(bad)} hold NaN or Inf")
    return images, 0.5, None


def _checkpoint_key(loaded, layer, units, weights, n_masks, grid, p, seed, images) -> str:
    digest = hashlib.sha256()
    settings = [loaded.name, loaded.weights, str(layer), units.cpu().tolist(), n_masks, grid, p, seed]
    digest.update(json.dumps(settings).encode())
    for tensor in loaded.module.state_dict().values():
        digest.update(np.ascontiguousarray(tensor.detach().cpu().float().numpy()).data)
    digest.update(images.tobytes())
    if weights is not None:
        digest.update(weights.tobytes())
    return digest.hexdigest()[:16]


THRESHOLDS = (0.1, 0.2, 0.3, 0.4, 0.5, 0.6, 0.7, 0.8, 0.9)


@dataclass
class ImportanceResult:
    """Figure 5 on a set of objects (each seen at mirror-paired views).

    As in the paper, panels A-C follow one unit per object, its best mirror-symmetric unit
    (the first of ``select_mirror_units``), with insertion / deletion images made from that
    unit's own map; panel D follows the object's mirror-symmetric population (top 5%), with
    insertion images made from the mean of their maps.

    Attributes:
        layer: the analysed layer.
        units: object -> (n_selected,) indices of its mirror-symmetric units, best first.
        unit_maps: object -> (n_views, H, W) RISE map of its best unit (``units[obj][0]``).
        blank: object -> the best unit's response to a blank (background-only) image.
        maps: object -> (n_views, H, W) mean RISE map of its mirror-symmetric units.
        tuning: tidy table of the best unit's responses: ``object``, ``unit``, ``threshold``,
            ``images`` (original, insertion, deletion, shuffled), ``view_deg``, ``response``.
            ``threshold`` is the share of the foreground left visible, as in the paper's
            Figure 5C: insertion shows the most important share, deletion the least important
            one (the rest hidden); the paper's panel A/B deletion, the most important 25%
            hidden, is deletion at 0.75; shuffled images are the insertion images at 0.25.
        similarity: ``object``, ``threshold``, ``r_insertion``, ``r_deletion``: correlation of
            the best unit's tuning curve on insertion / deletion images (same share of the
            foreground shown) with its original one (NaN where a curve is flat: the unit
            silent on every view).
        msvt: ``object``, ``images``, ``threshold``, ``msvt``: the index of the object's mirror
            units (or of the layer, ``index_units``) on the original images and on the
            population's insertion and shuffled images; NaN where fewer than two units vary.
    """

    layer: str
    units: dict
    unit_maps: dict
    blank: dict
    maps: dict
    tuning: pd.DataFrame
    similarity: pd.DataFrame
    msvt: pd.DataFrame

    def summary(self) -> pd.DataFrame:
        """One row per object: units mapped, the index per image set, mean insertion / deletion r.

        Columns: ``object``, ``n_units``, ``best_unit``, ``msvt_<images>`` (the layer's index
        on the original, insertion and shuffled sets), ``r_insertion`` and ``r_deletion`` of
        the best unit averaged over the thresholds (the areas under Figure 5C's curves, per
        unit of threshold span).
        """
        frame = self.msvt.pivot_table(index="object", columns="images", values="msvt", sort=False)
        frame.columns = [f"msvt_{name}" for name in frame.columns]
        frame.insert(0, "n_units", [len(self.units[obj]) for obj in frame.index])
        frame.insert(1, "best_unit", [self.units[obj][0] for obj in frame.index])
        frame[["r_insertion", "r_deletion"]] = self.similarity.groupby("object")[["r_insertion", "r_deletion"]].mean()
        return frame.reset_index()

    def to_dict(self) -> dict:
        """Plain arrays and tables (for .mat export)."""
        return {
            "layer": self.layer,
            "units": {str(k): v for k, v in self.units.items()},
            "unit_maps": {str(k): v for k, v in self.unit_maps.items()},
            "blank": {str(k): v for k, v in self.blank.items()},
            "maps": {str(k): v for k, v in self.maps.items()},
            "tuning": self.tuning,
            "similarity": self.similarity,
            "msvt": self.msvt,
        }


def importance_study(
    model,
    stimuli,
    layer,
    *,
    n_masks=5000,
    grid=7,
    fraction=0.05,
    thresholds=THRESHOLDS,
    shuffle_threshold=0.25,
    index_units="selected",
    batch_size=256,
    device="auto",
    random_state=0,
    checkpoint_dir=None,
    compile=False,
    verbose=False,
) -> ImportanceResult:
    """Figure 5: mirror units per object, their importance maps, and the tuning they keep.

    For each object: the layer's units are ranked on the object's views (``select_mirror_units``,
    strict criterion, top ``fraction``); one RISE pass gives the best unit's map and the mean
    map of all of them (``rise_maps`` with ``weights``). The best unit's map gives, for each
    share q of the foreground in ``thresholds``, insertion images that show its most important
    q and deletion images that show its least important q (the paper's Figure 5C: the same
    number of pixels shown); the insertion images at ``shuffle_threshold`` are also
    component-shuffled, and deletion images hiding the most important ``shuffle_threshold`` are
    made for panels A/B; the unit's tuning is measured on each set. The mean map of all the object's
    mirror units gives one insertion set at ``shuffle_threshold`` and its shuffled version, on
    which, as on the originals, the mirror-symmetric viewpoint tuning index of those units
    (``index_units``) is measured (panel D).

    Args:
        model: ``LoadedModel`` (or plain module; see ``rise_maps``).
        stimuli: ``StimulusSet`` with ``object`` and ``view_deg`` (mirror-paired views) and masks
            or a uniform background.
        layer: preset name or module path.
        n_masks: RISE masks per image (``rise_maps``).
        grid: cells per side of the coarse mask grid.
        fraction: share of units called mirror-symmetric per object.
        thresholds: shares of the foreground shown in insertion / deletion images.
        shuffle_threshold: the insertion share whose images are shuffled.
        index_units: the units of panel D's index: ``"selected"`` (each object's mirror units,
            as the paper's caption says: "calculated across the selected units") or
            ``"layer"`` (every unit of the layer). Units are z-scored over all objects' images
            of a set either way.
        batch_size: images per forward pass.
        device: ``"auto"``, ``"cpu"``, ``"cuda"``.
        random_state: int seed (masks and shuffles).
        checkpoint_dir: RISE checkpoints (a killed run resumes).
        compile: ``torch.compile`` the RISE forward pass (``rise_maps``).
        verbose: progress bars.

    Returns:
        ``ImportanceResult``. Objects without any unit passing the criterion (all silent) are
        left out, and an image set on which fewer than two units vary gets a NaN index, each
        with a warning.

    Raises:
        InvalidArgumentError: ``n_masks``, ``grid`` or ``batch_size`` not at least 1, ``fraction``
            not in (0, 1], ``thresholds`` not a non-empty sequence of numbers in (0, 1),
            ``shuffle_threshold`` not in (0, 1), ``random_state`` not an integer >= 0, or an
            unknown ``index_units`` or ``device``.
        InvalidTypeError, DataError: ``stimuli`` is not a ``StimulusSet`` with ``object`` and
            ``view_deg`` descriptors.
    """
    check_option("index_units", index_units, ("selected", "layer"))
    n_masks = check_count("n_masks", n_masks, minimum=1)
    grid = check_count("grid", grid, minimum=1)
    batch_size = check_count("batch_size", batch_size, minimum=1)
    fraction = _check_share("fraction", fraction, "(]")
    shuffle_threshold = _check_share("shuffle_threshold", shuffle_threshold)
    thresholds = _check_thresholds(thresholds)
    random_state = check_count("random_state", random_state, minimum=0)
    resolve_device(device)
    _check_design(stimuli)
    images, background, objects = _grayscale(stimuli)
    foreground = stimuli.foreground if hasattr(stimuli, "foreground") else np.abs(images - background) > 1 / 512
    views = np.asarray(stimuli.descriptors["view_deg"], dtype=float)
    rng = check_random_state(random_state)
    units, unit_maps, maps, blank, tuning, similarity, sets = {}, {}, {}, {}, [], [], {}
    everything = unit_responses(model, images, layer, None, device=device, batch_size=batch_size)
    shuffle, thresholds = round(shuffle_threshold, 10), sorted({round(q, 10) for q in thresholds})
    levels = sorted({*thresholds, shuffle, _complement(shuffle)})  # shares shown (A/B: deletion at 1 - 25%)

    def cut(rows, object_maps, q):
        """Insertion, deletion and kept masks of the object's views at share q."""
        parts = [
            insertion_deletion(images[r], m, foreground[r], q, background=background)
            for r, m in zip(rows, object_maps, strict=True)
        ]
        return tuple(np.stack(part) for part in zip(*parts, strict=True))

    def shuffled(rows, kept):
        pairs = zip(rows, kept, strict=True)
        return np.stack([shuffle_components(images[r], k, background=background, random_state=rng) for r, k in pairs])

    for index, obj in enumerate(tqdm(list(dict.fromkeys(objects)), desc="objects", disable=not verbose)):
        rows = np.flatnonzero(objects == obj)
        rows = rows[np.argsort(views[rows])]
        chosen = select_mirror_units(everything[:, rows], views[rows], fraction=fraction).unit.to_numpy()
        if len(chosen) == 0:
            warnings.warn(f"{obj}: no unit of {layer} passes the mirror-unit criterion; left out", stacklevel=2)
            continue
        one_object = StimulusSet(images[rows], {"object": objects[rows]}, background)
        best_and_mean = np.vstack([np.eye(len(chosen))[0], np.full(len(chosen), 1 / len(chosen))])
        unit_maps[obj], maps[obj] = rise_maps(
            model,
            one_object,
            layer,
            chosen,
            weights=best_and_mean,  # the best unit's map and the population's mean map
            n_masks=n_masks,
            grid=grid,
            batch_size=batch_size,
            device=device,
            random_state=int(random_state) * 100_003 + index,  # masks differ between objects
            checkpoint_dir=checkpoint_dir,
            compile=compile,
        )
        units[obj] = chosen
        best = chosen[:1]
        # Share q of the foreground shown (the paper's Figure 5C): insertion shows the most
        # important q, deletion the least important q (the most important 1 - q hidden).
        cuts = {q: cut(rows, unit_maps[obj], q) for q in {*levels, *(_complement(q) for q in levels)}}
        made = {("original", 0.0): images[rows], ("shuffled", shuffle): shuffled(rows, cuts[shuffle][2])}
        for q in levels:
            made[("insertion", q)], made[("deletion", q)] = cuts[q][0], cuts[_complement(q)][1]
        made[("blank", 0.0)] = np.full_like(images[rows[:1]], background)  # the paper's dashed line in A/B
        responses = {key: unit_responses(model, value, layer, best, device=device)[0] for key, value in made.items()}
        blank[obj] = float(responses.pop(("blank", 0.0))[0])
        for (kind, q), curve in responses.items():
            tuning += [(obj, best[0], q, kind, v, r) for v, r in zip(views[rows], curve, strict=True)]
        for q in thresholds:
            with np.errstate(invalid="ignore", divide="ignore"):  # a flat curve (unit silenced): r is NaN
                r = [
                    np.corrcoef(responses[(kind, q)], responses[("original", 0.0)])[0, 1]
                    for kind in ("insertion", "deletion")
                ]
            similarity.append((obj, q, *r))
        insertion, _, kept = cut(rows, maps[obj], shuffle)
        sets[obj] = {
            ("original", 0.0): images[rows],
            ("insertion", shuffle): insertion,
            ("shuffled", shuffle): shuffled(rows, kept),
        }
    msvt_rows = []
    for key in (("original", 0.0), ("insertion", shuffle), ("shuffled", shuffle)):
        descriptors = {
            "object": np.repeat(list(sets), [len(sets[obj][key]) for obj in sets]),
            "view_deg": np.concatenate([np.sort(views[objects == obj]) for obj in sets]),
        }
        stack = np.concatenate([sets[obj][key] for obj in sets])
        activations = unit_responses(model, stack, layer, None, device=device, batch_size=batch_size).T

        if index_units == "layer":
            found = _view_indices(activations, descriptors, key[0])
            msvt_rows += [(obj, *key, found.get(obj, np.nan)) for obj in sets]
        else:
            found = {obj: _view_indices(activations[:, units[obj]], descriptors, key[0]) for obj in sets}
            msvt_rows += [(obj, *key, found[obj].get(obj, np.nan)) for obj in sets]
    return ImportanceResult(
        layer=str(layer),
        units=units,
        unit_maps=unit_maps,
        blank=blank,
        maps=maps,
        tuning=pd.DataFrame(tuning, columns=["object", "unit", "threshold", "images", "view_deg", "response"]),
        similarity=pd.DataFrame(similarity, columns=["object", "threshold", "r_insertion", "r_deletion"]),
        msvt=pd.DataFrame(msvt_rows, columns=["object", "images", "threshold", "msvt"]),
    )
