"""The per-network metrics of the Figure 4 grid (``figure4_grid``), on the test objects.

``network_metrics`` measures a trained control network as the README's grid plan lists: the
face index of fc1 and fc2 (mean over the test faces), the fc1 and fc2 units active on at least
one test image, the last epoch's validation accuracy and the accuracy on a held-out set, conv4
h-flip equivariance and fc1 h-flip invariance (``measure_equivariance``), and the face index of
conv4 after global average pooling of z-scores (``supplements.pooled_maps``, as in
``pooling_study``'s ``"zscore_average"``).
"""

from __future__ import annotations

import functools
import warnings
from collections.abc import Callable, Mapping
from typing import TYPE_CHECKING, TypeVar

import numpy as np
import torch

from .._utils import seed_sequence
from ..errors import InvalidArgumentError
from ..networks.activations import extract_activations, measure_equivariance
from ..networks.datasets import apply_regime
from ..symmetry import msvt_by_object
from .supplements import pooled_maps, raw_view_rdms

if TYPE_CHECKING:
    import numpy.typing as npt
    import pandas as pd

    from ..networks.datasets import ImageData
    from ..networks.training import TrainResult
    from ..stimuli.base import StimulusSet

_T = TypeVar("_T")

_REGIME_STREAM = 1  # the held-out set's mirrored half: seed_sequence(seed, 1), as in train


def network_metrics(
    result: TrainResult,
    stimuli: StimulusSet,
    heldout: ImageData,
    regime: str,
    *,
    device: str | torch.device = "cpu",
    batch_size: int = 256,
) -> dict[str, float]:
    """Every per-network metric of the grid plan.

    Args:
        result: ``TrainResult`` of the network.
        stimuli: test ``StimulusSet`` (``object``, ``category``, ``view_deg``; faces among them).
        heldout: ``ImageData`` drawn like the training set (before the regime).
        regime: the label regime, applied to ``heldout`` from the network's seed.
        device: where the network runs.
        batch_size: images per forward pass.

    Returns:
        dict: ``face_fc1``, ``face_fc2``, ``active_fc1``, ``active_fc2``, ``val_accuracy``,
        ``heldout_accuracy``, ``conv4_equivariance``, ``fc1_invariance``, ``face_conv4_gap``,
        and ``fc1_<category>`` / ``fc2_<category>`` (the mean index of each test category).
        A value that is undefined because the layer is silent on every test image is NaN
        (with a warning). An object whose views leave every unit of a layer silent (or
        equally active) has a constant view RDM and no index (NaN, with msvt_index's warning):
        the means over a category leave such objects out.
    """
    loaded = result.loaded()
    descriptors = stimuli.descriptors
    values = extract_activations(loaded, stimuli, ["conv4", "fc1", "fc2"], device=device, batch_size=batch_size)
    metrics: dict[str, float] = {}
    for layer in ("fc1", "fc2"):
        flat = values[layer].reshape(len(stimuli), -1)
        metrics[f"active_{layer}"] = int((flat != 0).any(axis=0).sum())
        table = _indexed(functools.partial(msvt_by_object, {layer: values[layer]}, descriptors=descriptors), layer)
        by_category = {} if table is None else table.groupby("category", sort=False).msvt.mean().to_dict()
        metrics[f"face_{layer}"] = float(by_category.get("face", np.nan))
        for category in dict.fromkeys(descriptors["category"]):
            metrics[f"{layer}_{category}"] = float(by_category.get(category, np.nan))
    metrics["val_accuracy"] = float(result.history["val_accuracy"].iloc[-1])
    seed = int(result.config["seed"])
    metrics["heldout_accuracy"] = heldout_accuracy(result.network, heldout, regime, seed, device=device)
    equivariance = _indexed(
        lambda: measure_equivariance(loaded, stimuli, ["conv4", "fc1"], transforms=("hflip",), device=device),
        "conv4, fc1 (equivariance)",
    )
    metrics["conv4_equivariance"] = _pick(equivariance, "conv4", "equivariance")
    metrics["fc1_invariance"] = _pick(equivariance, "fc1", "invariance")
    gap = _indexed(lambda: _gap_index(values["conv4"], descriptors), "conv4 GAP")
    metrics["face_conv4_gap"] = np.nan if gap is None else float(gap.msvt[gap.category == "face"].mean())
    return metrics


@torch.no_grad()
def heldout_accuracy(
    network: torch.nn.Module,
    heldout: ImageData,
    regime: str,
    seed: int,
    *,
    device: str | torch.device = "cpu",
    batch_size: int = 256,
) -> float:
    """Share of the held-out images (under ``regime``, its mirrored half from ``seed``) classified right."""
    from ..networks.devices import resolve_device

    data = apply_regime(heldout, regime, random_state=seed_sequence(seed, _REGIME_STREAM))
    device = resolve_device(device)
    network = network.to(device).eval()
    correct = 0
    for first in range(0, len(data), batch_size):
        images = data.images[first : first + batch_size].to(device)
        correct += int((network(images).argmax(1).cpu() == data.labels[first : first + batch_size]).sum())
    network.cpu()
    return correct / len(data)


def _indexed(compute: Callable[[], _T], what: str) -> _T | None:
    """``compute()``, or None with a warning when its layer has no defined value (silent units)."""
    try:
        return compute()
    except InvalidArgumentError:  # a wrong argument is not a silent layer
        raise
    except ValueError as error:
        warnings.warn(f"{what}: no value ({error})", stacklevel=3)
        return None


def _gap_index(maps: npt.ArrayLike, descriptors: Mapping[str, npt.ArrayLike]) -> pd.DataFrame:
    """Index per object of conv4's maps pooled as ``pooling_study``'s "GAP of z-scores" (plain RDMs after)."""
    pooled = pooled_maps(maps, pooling="zscore_average")
    return msvt_by_object(raw_view_rdms({"conv4 GAP of z-scores": pooled}, descriptors))


def _pick(table: pd.DataFrame | None, layer: str, measure: str) -> float:
    if table is None:
        return np.nan
    rows = table[(table.layer == layer) & (table.measure == measure)]
    return float(rows["mean"].iloc[0]) if len(rows) else np.nan
