"""Model activations: batched forward passes with hooks, on CPU or GPU.

Activations are either kept in memory (``extract_activations``, optionally cached on disk) or
streamed straight into the analyses that need only running statistics: per-object view RDMs
(``model_view_rdms``) and invariance / equivariance (``measure_equivariance``), so memory
stays bounded for any layer size. Their statistics run in torch on the network's device or in
NumPy on the host (``statistics_on``; the arithmetic lives in ``device_statistics``).

Each hook hands its layer's output to the analysis at once, before the next layer runs
(torchvision's AlexNet and VGG use in-place ReLUs, which would otherwise overwrite a pre-ReLU
output), so only one layer's output per batch is alive; hooks are removed in ``finally``
(``forward.run_layers``). Forward passes run under ``torch.inference_mode()`` with the
package's precision rule (``devices.autocast``), and a pass stops once every requested layer
has fired.
"""

from __future__ import annotations

import hashlib
from collections.abc import Callable, Iterable
from pathlib import Path
from typing import TYPE_CHECKING, Any, TypeAlias

import numpy as np
import pandas as pd
import torch
from tqdm.auto import tqdm

from .._utils import atomic_path, check_count, check_option, check_options, format_indices, load_cached_array
from .._version import __version__
from ..errors import InvalidArgumentError, InvalidTypeError
from ..rdm import StreamedViewRDMs
from ..stimuli.base import TRANSFORMS, StimulusSet
from .device_statistics import EquivarianceStatistics, ViewStatistics, resolve_statistics_on
from .devices import autocast, compute_dtype, resolve_device
from .forward import as_loaded, run_layers
from .models import PRESETS, LoadedModel

if TYPE_CHECKING:
    import numpy.typing as npt
    from rsatoolbox.rdm import RDMs

    from .._typing import PathLike

#: What a forward pass reads: a ``StimulusSet``, or model input (n, C, H, W) as a tensor or array.
_Stimuli: TypeAlias = "StimulusSet | torch.Tensor | npt.ArrayLike"

#: ``consume(layer name, image indices (batch,), values)``: values are a float32 NumPy array, or the
#: layer's output tensor as it is (``as_numpy=False``).
_Consumer: TypeAlias = "Callable[[str, np.ndarray, Any], object]"


def stream_activations(
    model: LoadedModel | torch.nn.Module,
    stimuli: _Stimuli,
    layers: str | Iterable[str],
    consume: _Consumer,
    *,
    device: str | torch.device = "auto",
    batch_size: int = 32,
    dtype: torch.dtype | None = None,
    order: npt.ArrayLike | None = None,
    as_numpy: bool = True,
    verbose: bool = False,
) -> None:
    """Run batches through the network and hand each layer's output to ``consume`` at once.

    ``consume(name, rows, values)`` is called from the layer's forward hook, before the next
    layer runs, with ``values`` a float32 NumPy array ``(len(rows), *unit_shape)`` that is only
    valid during the call (copy what you keep). So only one layer's output per batch is alive
    beyond what the network itself holds, and an in-place ReLU that follows cannot alter it.

    Args:
        model: ``LoadedModel``, or a plain ``torch.nn.Module`` (then ``stimuli`` must be model
            input already, and layers are module paths).
        stimuli: ``StimulusSet`` (converted with the model's input size and ImageNet
            normalization) or a tensor/array (n, C, H, W) of model input.
        layers: names (presets or module paths), or ``"all"`` presets.
        consume: callable (layer name, image indices (batch,), values) -> None.
        device: ``"auto"``, ``"cpu"``, ``"cuda"``, ... .
        batch_size: images per forward pass.
        dtype: autocast dtype; default bfloat16 on CUDA, none (float32) on CPU;
            ``torch.float32`` runs in full precision on any device.
        order: the image indices to visit, in order (default all, in order).
        as_numpy: hand ``consume`` a float32 NumPy array in host memory (default), or else the
            layer's output tensor as it is, on the device and in the autocast dtype, for
            consumers that keep their work on the GPU.
        verbose: progress bar over batches.

    Raises:
        InvalidArgumentError: a bad count, device, dtype, order or layer, or a requested module
            that runs more than once per forward pass (a shared module, e.g. the ReLU inside a
            ResNet block: hook the block instead) or never runs.
        InvalidTypeError: stimuli of another type, ``consume`` not callable.
    """
    loaded = as_loaded(model)
    paths = loaded.resolve_layers(layers)
    batch_size = check_count("batch_size", batch_size)
    compute_dtype(torch.device("cpu"), dtype)  # checks dtype before any work
    if not callable(consume):
        raise InvalidTypeError(f"Invalid type for 'consume': expected a callable (name, rows, values), got {consume!r}")
    stimuli = _checked_stimuli(stimuli, loaded)
    visit = _visit_order(order, len(stimuli))
    device = resolve_device(device)
    network = loaded.module.to(device).eval()
    rows = visit[:0]  # the image indices of the batch being run (set before each forward pass)

    def hand_on(name: str, output: torch.Tensor) -> None:
        # bfloat16 crosses to the host as it is (half the bytes) and is widened there
        consume(name, rows, output.detach().cpu().float().numpy() if as_numpy else output.detach())

    for start in tqdm(range(0, len(visit), batch_size), desc="activations", disable=not verbose):
        rows = visit[start : start + batch_size]
        batch = _model_input(stimuli, rows, loaded, device)
        with torch.inference_mode(), autocast(device, dtype):
            seen = run_layers(network, batch, paths, hand_on)
        if len(seen) < len(paths):
            silent = {name: path for name, path in paths.items() if name not in seen}
            raise InvalidArgumentError(
                f"layers {silent} never ran in {loaded.name}'s forward pass; request modules that it calls"
            )


def extract_activations(
    model: LoadedModel | torch.nn.Module,
    stimuli: _Stimuli,
    layers: str | Iterable[str],
    *,
    device: str | torch.device = "auto",
    batch_size: int = 32,
    dtype: torch.dtype | None = None,
    cache_dir: PathLike | None = None,
    verbose: bool = False,
) -> dict[str, np.ndarray]:
    """Activations of every image at each layer, held in memory (or memory-mapped from a cache).

    Use ``model_view_rdms`` instead when the layers are too large to hold for all images.

    Args:
        model: ``LoadedModel`` or ``torch.nn.Module`` (see ``stream_activations``).
        stimuli: ``StimulusSet`` or model-input array (n, C, H, W).
        layers: preset names, module paths, or ``"all"``.
        device: ``"auto"``, ``"cpu"``, ``"cuda"``, ... .
        batch_size: images per forward pass.
        dtype: autocast dtype (default bfloat16 on CUDA, float32 on CPU).
        verbose: progress bar.
        cache_dir: folder for an on-disk cache, or None (no cache). Each layer's array is stored
            as ``<layer>-<key>.npy``, the key a SHA-256 of the package and torch versions, the
            model's name, weights and input size, the normalization, the layer's module path,
            the compute dtype and device type, and the stimulus images. A hit is read
            memory-mapped, read-only, never unpickled; only missing layers are computed, and
            written atomically. A hit that is unreadable (truncated, empty, pickled) or is not
            float32 with one row per image is computed afresh and its file replaced, with a
            warning naming it.

    Returns:
        dict layer name -> float32 array ``(n_images, *unit_shape)`` (e.g. (n, 64, 55, 55)).

    Raises:
        InvalidArgumentError: as ``stream_activations``, or ``cache_dir`` naming a file.
    """
    loaded = as_loaded(model)
    names = list(loaded.resolve_layers(layers))
    batch_size = check_count("batch_size", batch_size)
    stimuli = _checked_stimuli(stimuli, loaded)
    n_images = len(stimuli)
    options: dict[str, Any] = {"device": device, "batch_size": batch_size, "dtype": dtype, "verbose": verbose}
    if cache_dir is not None and Path(cache_dir).exists() and not Path(cache_dir).is_dir():
        raise InvalidArgumentError(f"Invalid value for 'cache_dir': {cache_dir} is a file, not a folder")
    files = {} if cache_dir is None else _cache_files(loaded, stimuli, layers, cache_dir, **options)
    result: dict[str, np.ndarray] = {}
    for name, file in files.items():
        values = load_cached_array(
            file,
            fits=lambda a: a.ndim >= 2 and len(a) == n_images,
            expected=f"float32 ({n_images}, *unit_shape)",
            what="activation cache entry",
        )
        if values is not None:
            result[name] = values
    missing = [name for name in names if name not in result]
    if missing:
        computed: dict[str, np.ndarray] = {}

        def keep(name: str, rows: np.ndarray, values: np.ndarray) -> None:
            if name not in computed:
                computed[name] = np.empty((n_images, *values.shape[1:]), dtype=np.float32)
            computed[name][rows] = values

        stream_activations(model, stimuli, missing, keep, **options)
        for name, values in computed.items():
            if name in files:
                with atomic_path(files[name]) as tmp:
                    np.save(tmp, values)
        result.update(computed)
    return {name: result[name] for name in names}


def _checked_stimuli(stimuli: _Stimuli, loaded: LoadedModel) -> StimulusSet | torch.Tensor | np.ndarray:
    """The stimuli as given (StimulusSet, tensor) or as an array, checked: numbers, one image at least."""
    if isinstance(stimuli, StimulusSet):
        return stimuli
    if not torch.is_tensor(stimuli):
        try:
            stimuli = np.asarray(stimuli)
        except ValueError as error:
            raise InvalidArgumentError(f"Invalid value for 'stimuli': not one array ({error})") from error
        if stimuli.dtype.kind not in "biuf":
            raise InvalidTypeError(
                f"Invalid type for 'stimuli': expected a StimulusSet or an array of model input, got dtype "
                f"{stimuli.dtype}"
            )
    shape = tuple(stimuli.shape)
    if len(shape) < 2 or shape[0] == 0:
        raise InvalidArgumentError(
            f"Invalid value for 'stimuli': expected model input (n, C, H, W) with n >= 1, got shape {shape}"
        )
    if loaded.name in PRESETS and (len(shape) != 4 or shape[1] != 3):
        raise InvalidArgumentError(
            f"Invalid value for 'stimuli': {loaded.name} takes model input (n, 3, H, W), got shape {shape}; pass a "
            "StimulusSet to have images converted"
        )
    return stimuli


def _visit_order(order: npt.ArrayLike | None, n: int) -> np.ndarray:
    """Image indices to visit: all in order, or ``order`` checked (whole numbers in [0, n))."""
    if order is None:
        return np.arange(n)
    visit = np.asarray(order)
    if visit.ndim != 1 or visit.size == 0 or visit.dtype.kind not in "iu":
        raise InvalidArgumentError(
            f"Invalid value for 'order': expected a non-empty 1-D array of image indices, got {visit.dtype} "
            f"{visit.shape}"
        )
    outside = np.flatnonzero((visit < 0) | (visit >= n))
    if len(outside):
        raise InvalidArgumentError(
            f"Invalid value for 'order': indices {format_indices(visit[outside])} are outside the {n} images"
        )
    return visit


def _cache_files(
    model: LoadedModel | torch.nn.Module,
    stimuli: StimulusSet | torch.Tensor | np.ndarray,
    layers: str | Iterable[str],
    cache_dir: PathLike,
    *,
    device: str | torch.device,
    batch_size: int,
    dtype: torch.dtype | None,
    verbose: bool,
) -> dict[str, Path]:
    """Cache path per layer; the key covers everything the activations depend on."""
    loaded = as_loaded(model)
    device = resolve_device(device)
    dtype = compute_dtype(device, dtype)
    digest = hashlib.sha256()
    context = [__version__, torch.__version__, loaded.name, loaded.input_size, loaded.mean, loaded.std]
    digest.update(repr((*context, str(dtype), device.type)).encode())
    for name, tensor in loaded.module.state_dict().items():
        digest.update(name.encode())
        digest.update(np.ascontiguousarray(tensor.detach().cpu().float().numpy()).data)
    images = stimuli.images if isinstance(stimuli, StimulusSet) else np.asarray(stimuli)
    digest.update(repr((type(stimuli).__name__, images.shape, str(images.dtype))).encode())
    digest.update(np.ascontiguousarray(images).data)
    folder = Path(cache_dir)
    files: dict[str, Path] = {}
    for name, path in loaded.resolve_layers(layers).items():
        key = hashlib.sha256(digest.digest() + path.encode()).hexdigest()[:24]
        files[name] = folder / f"{name.replace('/', '_')}-{key}.npy"
    return files


def model_view_rdms(
    model: LoadedModel | torch.nn.Module,
    stimuli: StimulusSet,
    layers: str | Iterable[str],
    *,
    object_key: str = "object",
    view_key: str = "view_deg",
    device: str | torch.device = "auto",
    batch_size: int = 32,
    dtype: torch.dtype | None = None,
    normalize: str = "zscore",
    statistics_on: str = "auto",
    verbose: bool = False,
) -> RDMs:
    """Per-object view RDMs of each layer, streamed: two forward passes, no stored activations.

    Pass 1 accumulates every unit's mean, variance (Chan's parallel update, float64) and range;
    pass 2 visits the images object by object, z-scores the units over the whole set (dropping
    constant ones), and forms each object's view RDM (1 - Pearson r across units). The result
    equals ``compute_view_rdms(extract_activations(...))`` up to float32 rounding; memory is a
    few float64 vectors per unit plus one batch.

    Args:
        model: as in ``stream_activations``.
        stimuli: a ``StimulusSet`` holding ``object_key`` and ``view_key`` descriptors.
        layers: as in ``stream_activations``.
        object_key: descriptor naming the object, as in ``compute_view_rdms``.
        view_key: descriptor holding the yaw in degrees, as in ``compute_view_rdms``.
        device: as in ``stream_activations``.
        batch_size: images per pass; rounded down to whole objects in pass 2 (at least one).
        dtype: as in ``stream_activations``.
        normalize: ``"zscore"`` (units z-scored over the set, as above) or ``"none"``: plain
            1 - Pearson r of the raw patterns, every unit kept, in one pass (Figure 2—figure
            supplement 7).
        statistics_on: where the statistics and correlations run: ``"device"`` (in torch where
            the network runs, e.g. on the GPU; only the per-object view correlations reach the
            host), ``"host"`` (every layer's output copied to host memory, NumPy), or
            ``"auto"``: ``"device"`` on CUDA, ``"host"`` elsewhere (``resolve_statistics_on``).
        verbose: progress bars over batches.

    Returns:
        rsatoolbox ``RDMs`` laid out as ``compute_view_rdms`` returns them.
    """
    check_option("normalize", normalize, ("zscore", "none"))
    if not isinstance(stimuli, StimulusSet):
        raise InvalidTypeError(
            f"Invalid type for 'stimuli': model_view_rdms needs a StimulusSet with object and view descriptors, got "
            f"{type(stimuli).__name__}"
        )
    batch_size = check_count("batch_size", batch_size)
    on_device = resolve_statistics_on(statistics_on, resolve_device(device)) == "device"
    view_rdms = StreamedViewRDMs(stimuli.descriptors, len(stimuli), object_key=object_key, view_key=view_key)
    streamed = ViewStatistics(view_rdms, on_device=on_device)
    options: dict[str, Any] = {"device": device, "dtype": dtype, "verbose": verbose, "as_numpy": not on_device}
    if normalize == "zscore":
        stream_activations(model, stimuli, layers, streamed.accumulate, batch_size=batch_size, **options)
    streamed.end_statistics()
    per_pass = max(1, batch_size // view_rdms.n_views) * view_rdms.n_views
    stream_activations(
        model, stimuli, layers, streamed.correlate, batch_size=per_pass, order=view_rdms.order, **options
    )
    return streamed.rdms()


def measure_equivariance(
    model: LoadedModel | torch.nn.Module,
    stimuli: StimulusSet,
    layers: str | Iterable[str],
    *,
    transforms: str | Iterable[str] = TRANSFORMS,
    device: str | torch.device = "auto",
    batch_size: int = 32,
    dtype: torch.dtype | None = None,
    statistics_on: str = "auto",
    verbose: bool = False,
) -> pd.DataFrame:
    """Figure 3's numbers: invariance (Eq. 2) and equivariance (Eq. 3) per layer and transform.

    Streamed, so memory stays bounded for any layer size: the images and their transformed
    copies go through the network together, batch by batch; pass 1 accumulates each unit's
    mean and standard deviation within each set (originals, and each transform), pass 2
    z-scores with them and correlates every image's pattern with its transformed partner's
    (``equivariance_by_image``). The result equals ``invariance`` / ``equivariance`` on
    activations held in memory.

    Args:
        model: as in ``stream_activations``.
        stimuli: ``StimulusSet``; transforms act on its images (``rot90`` needs square ones).
        layers: as in ``stream_activations``.
        transforms: any of ``"hflip"``, ``"vflip"``, ``"rot90"``.
        device: as in ``stream_activations``.
        batch_size: original images per forward pass (each with its transformed copies).
        dtype: as in ``stream_activations``.
        statistics_on: ``"device"``, ``"host"`` or ``"auto"``, as in ``model_view_rdms``: on the
            device only the per-image r reach the host.
        verbose: progress bars.

    Returns:
        DataFrame with one row per (layer, transform, measure): ``layer``, ``transform``,
        ``measure`` (``invariance`` or ``equivariance``; the latter only for layers with
        spatial maps), ``mean`` and ``sem`` over images, ``n_images``.
    """
    options: dict[str, Any] = {"transforms": transforms, "device": device, "batch_size": batch_size, "dtype": dtype}
    options["statistics_on"] = statistics_on
    per_image = equivariance_by_image(model, stimuli, layers, verbose=verbose, **options)
    # groups in order of first appearance: network order of layers, then transforms, then measures
    rows: list[tuple[Any, ...]] = []
    for key, group in per_image.groupby(["layer", "transform", "measure"], sort=False):
        r = group["r"].to_numpy()
        rows.append((*key, r.mean(), r.std(ddof=1) / np.sqrt(len(r)) if len(r) > 1 else np.nan, len(r)))
    return pd.DataFrame(rows, columns=["layer", "transform", "measure", "mean", "sem", "n_images"])


def equivariance_by_image(
    model: LoadedModel | torch.nn.Module,
    stimuli: StimulusSet,
    layers: str | Iterable[str],
    *,
    transforms: str | Iterable[str] = TRANSFORMS,
    device: str | torch.device = "auto",
    batch_size: int = 32,
    dtype: torch.dtype | None = None,
    statistics_on: str = "auto",
    verbose: bool = False,
) -> pd.DataFrame:
    """Eq. 2 and 3 for every image, before the average (Figure 3—figure supplement 1).

    Arguments and streaming as in ``measure_equivariance``, which summarizes this table: one row
    per (layer, transform, measure, image), columns ``layer``, ``transform``, ``measure``,
    ``image`` (position in ``stimuli``) and ``r``.
    """
    if not isinstance(stimuli, StimulusSet):
        raise InvalidTypeError(
            f"Invalid type for 'stimuli': measure_equivariance needs a StimulusSet, got {type(stimuli).__name__}"
        )
    batch_size = check_count("batch_size", batch_size)
    transforms = check_options("transforms", transforms, TRANSFORMS)
    n, sets = len(stimuli), [stimuli] + [stimuli.transformed(t) for t in transforms]
    together = StimulusSet(np.concatenate([s.images for s in sets]))
    order = np.concatenate(
        [
            np.arange(start, min(start + batch_size, n)) + k * n
            for start in range(0, n, batch_size)
            for k in range(len(sets))
        ]
    )
    on_device = resolve_statistics_on(statistics_on, resolve_device(device)) == "device"
    options: dict[str, Any] = {"device": device, "batch_size": batch_size * len(sets), "order": order, "dtype": dtype}
    options.update(verbose=verbose, as_numpy=not on_device)
    streamed = EquivarianceStatistics(n, transforms, on_device=on_device)
    stream_activations(model, together, layers, streamed.accumulate, **options)
    streamed.end_statistics()
    stream_activations(model, together, layers, streamed.correlate, **options)
    return pd.DataFrame(streamed.table_rows(), columns=["layer", "transform", "measure", "image", "r"])


def _model_input(
    stimuli: StimulusSet | torch.Tensor | np.ndarray, rows: np.ndarray, loaded: LoadedModel, device: torch.device
) -> torch.Tensor:
    """Model input for ``rows`` (image indices) on ``device``; a run of consecutive rows is sliced."""
    consecutive = len(rows) > 1 and np.all(np.diff(rows) == 1)
    index = slice(int(rows[0]), int(rows[-1]) + 1) if consecutive else rows
    if isinstance(stimuli, StimulusSet):
        return stimuli.to_tensor(index, size=loaded.input_size, mean=loaded.mean, std=loaded.std, device=device)
    if torch.is_tensor(stimuli):
        picked = index if consecutive else torch.as_tensor(rows, device=stimuli.device)
        return stimuli[picked].to(device, non_blocking=True).float()
    return torch.as_tensor(np.asarray(stimuli[index])).to(device).float()
