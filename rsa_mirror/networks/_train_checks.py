"""Checks of ``training.train``'s arguments and data, each failing with the error that names what is wrong."""

from __future__ import annotations

import math

import numpy as np
import torch

from .._utils import check_count
from ..errors import DataError, InvalidArgumentError, InvalidTypeError
from .datasets import ImageData
from .devices import resolve_device


def check_data(data: object) -> None:
    """Raise unless ``data`` is an ``ImageData`` that ``train`` can use."""
    if not isinstance(data, ImageData):
        raise InvalidTypeError(f"Invalid type for 'data': expected ImageData (load_dataset), got {type(data).__name__}")
    if not isinstance(data.name, str):
        raise InvalidTypeError(f"Invalid type for 'data.name': expected a str, got {type(data.name).__name__}")
    images, labels = data.images, data.labels
    if not (isinstance(images, torch.Tensor) and images.is_floating_point()) or images.shape[1:] != (3, 32, 32):
        shape = tuple(images.shape) if hasattr(images, "shape") else type(images).__name__
        raise DataError(f"{data.name}: images must be a float tensor (n, 3, 32, 32), got {shape}")
    if not isinstance(labels, torch.Tensor) or labels.is_floating_point() or labels.is_complex():
        raise DataError(f"{data.name}: labels must be an integer tensor (n,), got {getattr(labels, 'dtype', labels)}")
    if labels.shape != (len(images),):
        raise DataError(f"{data.name}: labels of shape {tuple(labels.shape)} for {len(images)} images")
    n_classes = check_count("n_classes", data.n_classes)
    if len(images) < 2:
        raise DataError(f"{data.name}: {len(images)} images; training needs at least 2")
    if not bool(torch.isfinite(images).all()) or float(images.min()) < 0 or float(images.max()) > 1:
        raise DataError(f"{data.name}: images must be finite and in [0, 1] (the network's input range)")
    outside = torch.nonzero((labels < 0) | (labels >= n_classes)).ravel()
    if len(outside):
        raise DataError(
            f"{data.name}: labels must be in [0, {n_classes}); image {int(outside[0])} has {int(labels[outside[0]])} "
            f"({len(outside)} such images)"
        )


def check_positive(name: str, value: object) -> float:
    """``value`` as a float if it is a finite number > 0, else InvalidArgumentError naming ``name``."""
    if isinstance(value, (bool, np.bool_)) or not isinstance(value, (int, float, np.integer, np.floating)):
        raise InvalidArgumentError(f"Invalid value for {name!r}: expected a finite number > 0, got {value!r}")
    if not math.isfinite(value) or value <= 0:
        raise InvalidArgumentError(f"Invalid value for {name!r}: expected a finite number > 0, got {value!r}")
    return float(value)


def check_fraction(val_fraction: object, n: int) -> float:
    """``val_fraction`` as a float in [0, 1) that leaves one of ``n`` images for training, else raise."""
    allowed = f"a number in [0, 1) leaving at least one of the {n} images for training"
    if isinstance(val_fraction, (bool, np.bool_)) or not isinstance(
        val_fraction, (int, float, np.integer, np.floating)
    ):
        raise InvalidArgumentError(f"Invalid value for 'val_fraction': expected {allowed}, got {val_fraction!r}")
    if not 0 <= val_fraction < 1 or int(round(val_fraction * n)) >= n:
        raise InvalidArgumentError(f"Invalid value for 'val_fraction': expected {allowed}, got {val_fraction!r}")
    return float(val_fraction)


def check_device(device: str | torch.device) -> torch.device:
    """The torch device ``device`` names (``auto``, ``cpu``, ``cuda``, ...), one that is here, else raise."""
    try:
        resolved = resolve_device(device)
    except (RuntimeError, TypeError):
        raise InvalidArgumentError(
            f"Invalid value for 'device': expected auto, cpu, cuda, ..., got {device!r}"
        ) from None
    if resolved.type == "cuda" and not torch.cuda.is_available():
        raise InvalidArgumentError("Invalid value for 'device': expected auto or cpu (no CUDA device here), got 'cuda'")
    return resolved
