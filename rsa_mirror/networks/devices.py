"""Devices and precision: the one rule for where and in which dtype forward passes run.

``resolve_device`` turns ``"auto"`` and device names into a checked ``torch.device``;
``autocast`` is the precision rule of every forward pass of the package (extraction, streamed
analyses, RISE, unit responses, training): on CUDA bfloat16 autocast unless ``dtype`` says
otherwise, on other devices float32; ``fast_kernels`` lets cuDNN pick its fastest convolutions
and float32 products use TF32 (RISE on CUDA); ``to_device`` copies host tensors without
waiting for the GPU.
"""

from __future__ import annotations

import contextlib
from collections.abc import Iterator

import torch

from .._utils import check_option
from ..errors import InvalidArgumentError, InvalidTypeError

DTYPES = (None, torch.float32, torch.bfloat16, torch.float16)

_DEVICES = "auto, cpu, cuda, cuda:<index>, mps"


def resolve_device(device: str | torch.device) -> torch.device:
    """``"auto"`` -> CUDA when available, else CPU; anything else as ``torch.device``, checked.

    Args:
        device: ``"auto"``, ``"cpu"``, ``"cuda"``, ``"cuda:<index>"``, ``"mps"`` or a
            ``torch.device``.

    Raises:
        InvalidArgumentError: an unknown device, or one this machine does not have (listing the
            valid values).
        InvalidTypeError: neither a string nor a ``torch.device``.
    """
    if isinstance(device, str) and device == "auto":
        return torch.device("cuda" if torch.cuda.is_available() else "cpu")
    if not isinstance(device, (str, torch.device)):
        raise InvalidTypeError(
            f"Invalid type for 'device': expected one of {_DEVICES} or a torch.device, got {device!r}"
        )
    resolved: torch.device | None
    try:
        resolved = torch.device(device)
    except RuntimeError:
        resolved = None
    if resolved is None or resolved.type not in ("cpu", "cuda", "mps"):
        raise InvalidArgumentError(f"Invalid value for 'device': expected one of {_DEVICES}, got {device!r}")
    if resolved.type == "cuda":
        count = torch.cuda.device_count() if torch.cuda.is_available() else 0
        if count == 0 or (resolved.index is not None and resolved.index >= count):
            raise InvalidArgumentError(
                f"Invalid value for 'device': {device!r} is not available ({count} CUDA devices visible); use 'cpu', "
                "'auto' or an index below the device count"
            )
    if resolved.type == "mps" and not torch.backends.mps.is_available():
        raise InvalidArgumentError(f"Invalid value for 'device': {device!r} is not available; use 'cpu' or 'auto'")
    return resolved


def compute_dtype(device: torch.device, dtype: torch.dtype | None = None) -> torch.dtype:
    """The dtype a forward pass computes in: ``dtype``, or bfloat16 on CUDA and float32 elsewhere when None.

    Raises:
        InvalidArgumentError: ``dtype`` is not None, float32, bfloat16 or float16.
    """
    check_option("dtype", dtype, DTYPES)
    if dtype is None:
        return torch.bfloat16 if device.type == "cuda" else torch.float32
    return dtype


def autocast(device: torch.device, dtype: torch.dtype | None = None) -> torch.autocast:
    """The autocast context of a forward pass on ``device`` (the package's one precision rule).

    ``dtype`` None: bfloat16 autocast on CUDA, none (float32) elsewhere; ``torch.float32``: full
    precision on any device; bfloat16 or float16: autocast to it.
    """
    computed = compute_dtype(device, dtype)
    return torch.autocast(device.type, dtype=computed, enabled=computed != torch.float32)


def to_device(tensor: torch.Tensor, device: torch.device) -> torch.Tensor:
    """``tensor`` (CPU) on ``device``; to CUDA through pinned memory, without waiting for the GPU."""
    if device.type != "cuda":
        return tensor.to(device)
    return tensor.pin_memory().to(device, non_blocking=True)


@contextlib.contextmanager
def fast_kernels(device: torch.device) -> Iterator[None]:
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
