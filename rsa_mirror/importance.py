"""RISE importance maps (Figure 5): random masks, and maps of many units from one forward pass.

RISE (Petsiuk et al. 2018; METHODS.md "Importance maps"): each image is shown through many random
masks (a coarse random binary grid, bilinearly upsampled and shifted by a random fraction of a
cell); hidden pixels take the background gray. A unit's importance map is the average of the
masks weighted by its response, sum_i r_i M_i / (N p). Masks are made on the device in batches
from seeded draws on the CPU (the same masks on any device), one forward pass of the network
cut after the layer (``networks.forward.layer_function``, its first convolution folded onto the
grayscale images) serves every selected unit, and the maps of each object are written to an
atomic checkpoint so that a killed run restarted with the same arguments finishes with the
same maps.
"""

from __future__ import annotations

import hashlib
import json
from pathlib import Path
from typing import TYPE_CHECKING

import numpy as np
import numpy.typing as npt
import pandas as pd
import torch
from tqdm.auto import tqdm

from ._utils import (
    atomic_path,
    check_count,
    check_share,
    check_units,
    derive_seed,
    float_array,
    indexed_seed,
    load_cached_array,
)
from .errors import InvalidArgumentError, InvalidTypeError
from .networks.devices import autocast, fast_kernels, resolve_device, to_device
from .networks.forward import as_loaded, layer_function, select_units
from .networks.models import LoadedModel
from .stimuli.base import gray_images

if TYPE_CHECKING:
    from ._typing import PathLike, RandomState
    from .stimuli.base import StimulusSet


def make_masks(
    n_masks: int,
    size: int | tuple[int, int],
    *,
    grid: int = 7,
    p: float = 0.5,
    generator: torch.Generator | None = None,
    device: str | torch.device = "cpu",
) -> torch.Tensor:
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
    p = check_share("p", p)
    if generator is not None and not isinstance(generator, torch.Generator):
        raise InvalidTypeError(
            f"Invalid type for 'generator': expected a torch.Generator or None, got {type(generator).__name__}"
        )
    device = resolve_device(device)
    draws = _mask_draws(n_masks, (height, width), grid, p, generator, device)
    return _masks(*draws, _upsampling(grid, (height, width), device))


def _mask_draws(
    n_masks: int,
    size: tuple[int, int],
    grid: int,
    p: float,
    generator: torch.Generator | None,
    device: torch.device,
) -> tuple[torch.Tensor, torch.Tensor, torch.Tensor]:
    """Random part of ``n_masks`` masks: grids (n, grid, grid), shifts (n,), (n,); CPU-drawn, on ``device``."""
    height, width = size
    coarse = torch.rand(n_masks, grid, grid, generator=generator) < p
    dy = torch.randint(0, int(np.ceil(height / grid)), (n_masks,), generator=generator)
    dx = torch.randint(0, int(np.ceil(width / grid)), (n_masks,), generator=generator)
    return to_device(coarse.float(), device), to_device(dy, device), to_device(dx, device)


def _upsampling(grid: int, size: tuple[int, int], device: torch.device) -> tuple[torch.Tensor, ...]:
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


def _masks(
    coarse: torch.Tensor, dy: torch.Tensor, dx: torch.Tensor, upsampling: tuple[torch.Tensor, ...]
) -> torch.Tensor:
    """Masks (n, H, W) from their draws (``_mask_draws``) and the upsampling matrices (``_upsampling``)."""
    rows, cols = upsampling
    return (rows[dy] @ coarse @ cols[dx].transpose(1, 2)).clamp_(0, 1)


def rise_maps(
    model: LoadedModel | torch.nn.Module,
    stimuli: StimulusSet | npt.ArrayLike,
    layer: str | None,
    units: npt.ArrayLike,
    *,
    weights: npt.ArrayLike | None = None,
    n_masks: int = 5000,
    grid: int = 7,
    p: float = 0.5,
    batch_size: int = 256,
    device: str | torch.device = "auto",
    random_state: RandomState = None,
    checkpoint_dir: PathLike | None = None,
    compile: bool = False,
    verbose: bool = False,
) -> npt.NDArray[np.float32]:
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
        random_state: an integer seed (or a Generator or None, from which one is derived,
            ``derive_seed``); image k's masks come from (seed, k), so maps do not depend on
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
    p = check_share("p", p)
    batch_size = check_count("batch_size", batch_size, minimum=1)
    seed = derive_seed(random_state, maximum=None)
    unit_list = check_units(units)
    if weights is not None:
        weights = float_array("weights", weights).astype(np.float32)
        if weights.ndim != 2 or weights.shape[1] != len(unit_list) or len(weights) == 0:
            raise InvalidArgumentError(
                f"Invalid value for 'weights': expected shape (n_maps >= 1, {len(unit_list)}) (one column per unit), "
                f"got shape {weights.shape}"
            )
        if not np.all(np.isfinite(weights)):
            raise InvalidArgumentError("Invalid value for 'weights': expected finite values, got NaN or Inf")
    images, background, objects = gray_images(stimuli)
    loaded = as_loaded(model)
    device = resolve_device(device)
    unit_tensor = torch.as_tensor(unit_list, device=device)
    combine = None if weights is None else torch.as_tensor(weights, device=device)
    n_maps = len(unit_tensor) if weights is None else len(weights)
    network = loaded.module.to(device).eval()
    path = None if layer is None else loaded.resolve_layers([layer])[layer]
    if checkpoint_dir is not None:  # hashing the weights and images takes a second for large networks
        key = _checkpoint_key(loaded, layer, unit_tensor, weights, n_masks, grid, p, seed, images)
    function = layer_function(network, path, loaded if isinstance(model, LoadedModel) else None, compile=compile)
    n, height, width = images.shape
    maps = np.zeros((n_maps, n, height, width), dtype=np.float32)
    groups = pd.Series(np.arange(n)).groupby(objects, sort=False).apply(list) if objects is not None else None
    groups = list(groups) if groups is not None else [[k] for k in range(n)]
    upsampling = _upsampling(grid, (height, width), device)
    pending: dict[int, torch.Tensor] = {}  # image -> its maps (n_maps, H * W), on the device until copied in one go
    with fast_kernels(device):
        for rows in tqdm(groups, desc="RISE", disable=not verbose):
            file = None if checkpoint_dir is None else Path(checkpoint_dir) / f"rise-{key}-{rows[0]:06d}.npy"
            cached = None
            if file is not None:
                shape = (n_maps, len(rows), height, width)
                cached = load_cached_array(
                    file,
                    fits=lambda a, s=shape: a.shape == s,  # type: ignore[misc]
                    expected=f"float32 {shape}",
                    what="RISE checkpoint",
                )
            if cached is not None:
                maps[:, rows] = cached
                continue
            for k in rows:
                generator = torch.Generator().manual_seed(indexed_seed(seed, k))
                image = to_device(torch.as_tensor(images[k]), device)
                draws = _mask_draws(n_masks, (height, width), grid, p, generator, device)  # batching-independent
                total = torch.zeros(n_maps, height * width, device=device)
                for start in range(0, n_masks, batch_size):
                    batch = (d[start : start + batch_size] for d in draws)
                    masks = _masks(*batch, upsampling)  # type: ignore[call-arg, arg-type]  # three tensors
                    masked = masks * (image - background) + background
                    with torch.inference_mode(), autocast(device):
                        response = select_units(function(masked), unit_tensor, unit_list, layer).float()
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


def _copy_out(pending: dict[int, torch.Tensor], maps: np.ndarray) -> None:
    """Copy maps kept on the device ({image: (n_maps, H * W)}) into ``maps`` (n_maps, n, H, W); empties ``pending``."""
    if pending:
        rows = list(pending)
        stacked = torch.stack(list(pending.values()), 1).cpu().numpy()
        maps[:, rows] = stacked.reshape(len(stacked), len(rows), *maps.shape[2:])
        pending.clear()


def _check_size(size: int | tuple[int, int]) -> tuple[int, int]:
    """(H, W) from an int or a pair of ints, each >= 1."""
    pair = (size, size) if np.isscalar(size) else tuple(size) if np.ndim(size) == 1 else ()  # type: ignore[arg-type]
    if len(pair) != 2:
        raise InvalidArgumentError(f"Invalid value for 'size': expected an integer or (H, W), got {size!r}")
    return check_count("size", pair[0], minimum=1), check_count("size", pair[1], minimum=1)


def _checkpoint_key(
    loaded: LoadedModel,
    layer: str | None,
    units: torch.Tensor,
    weights: np.ndarray | None,
    n_masks: int,
    grid: int,
    p: float,
    seed: int,
    images: np.ndarray,
) -> str:
    digest = hashlib.sha256()
    settings = [loaded.name, loaded.weights, str(layer), units.cpu().tolist(), n_masks, grid, p, seed]
    digest.update(json.dumps(settings).encode())
    for tensor in loaded.module.state_dict().values():
        digest.update(np.ascontiguousarray(tensor.detach().cpu().float().numpy()).data)
    digest.update(images.tobytes())
    if weights is not None:
        digest.update(weights.tobytes())
    return digest.hexdigest()[:16]
