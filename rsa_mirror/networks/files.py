"""Network files of the control networks: saving, reading back, and the shipped network.

Files hold tensors and plain values only; they are read with ``torch.load(weights_only=True)``
(``models.load_torch_file``), so a crafted file cannot run code. The shipped network
(``control.SHIPPED_NETWORK``) is checked by SHA-256 before it is read.
"""

from __future__ import annotations

import hashlib
from pathlib import Path
from typing import TYPE_CHECKING

import numpy as np
import pandas as pd
import torch

from .._utils import atomic_path
from ..errors import FileFormatError, InvalidArgumentError, InvalidTypeError
from .control import SHIPPED_NETWORK, SHIPPED_SHA256, control_net_from_state
from .models import load_torch_file
from .training import TrainResult

if TYPE_CHECKING:
    from .._typing import PathLike


def save_network(path: PathLike, result: TrainResult, *, dtype: torch.dtype = torch.float16) -> Path:
    """Write a trained network's weights (float16 by default, a few MB) and settings atomically.

    The file holds tensors and plain values only (``load_network`` reads it with
    ``weights_only=True``).

    Raises:
        InvalidTypeError: ``result`` is not a ``TrainResult``.
        InvalidArgumentError: ``dtype`` is not a floating torch dtype.
    """
    if not isinstance(result, TrainResult):
        raise InvalidTypeError(f"Invalid type for 'result': expected TrainResult (train), got {type(result).__name__}")
    if not isinstance(dtype, torch.dtype) or not dtype.is_floating_point:
        raise InvalidArgumentError(f"Invalid value for 'dtype': expected a floating torch dtype, got {dtype!r}")
    state = {k: v.to(dtype) if v.is_floating_point() else v for k, v in result.network.state_dict().items()}
    history = {str(k): [_plain(v) for v in values] for k, values in result.history.to_dict("list").items()}
    config = {str(k): _plain(v) for k, v in result.config.items()}
    with atomic_path(path) as tmp:
        torch.save({"config": config, "network": state, "history": history}, tmp)
    return Path(path)


def _plain(value: object) -> object:
    """NumPy scalars and arrays as Python numbers and lists (what ``weights_only`` reads back)."""
    if isinstance(value, (np.generic, np.ndarray)):
        return value.tolist()
    if isinstance(value, (list, tuple)):
        return [_plain(v) for v in value]
    return value


def load_network(path: PathLike) -> TrainResult:
    """Read ``save_network``'s file back (weights widened to float32), as the variant its config names.

    Only tensors and plain values are read (``torch.load(weights_only=True)``): nothing in the
    file is run.

    Raises:
        FileNotFoundError: no file at ``path``.
        FileFormatError: a file that holds other Python objects, is no torch file, or does not
            hold a control network (the message names the file and the problem).
    """
    state = load_torch_file(path, "cpu", ("config", "network", "history"))
    weights = state["network"]
    if not isinstance(weights, dict) or not all(isinstance(v, torch.Tensor) for v in weights.values()):
        raise FileFormatError(f"{path}: 'network' is not a state dict of tensors")
    if not isinstance(state["config"], dict) or not isinstance(state["history"], (dict, list)):
        raise FileFormatError(f"{path}: 'config' or 'history' of the wrong type")
    try:
        network = control_net_from_state(weights, state["config"].get("variant"))  # absent: told by fc1
        history = pd.DataFrame(state["history"])
    except (InvalidArgumentError, ValueError) as error:
        raise FileFormatError(f"{path}: {error}") from None
    return TrainResult(network.eval(), history, state["config"])


def load_shipped_network() -> TrainResult:
    """The control network shipped with the package (``SHIPPED_NETWORK``), checked by SHA-256.

    Raises:
        FileNotFoundError: the file is missing from the installation.
        FileFormatError: its SHA-256 differs from ``SHIPPED_SHA256`` (a damaged or replaced file).
    """
    if not SHIPPED_NETWORK.is_file():
        raise FileNotFoundError(f"{SHIPPED_NETWORK} is missing: reinstall rsa_mirror (it is package data)")
    digest = hashlib.sha256(SHIPPED_NETWORK.read_bytes()).hexdigest()
    if digest != SHIPPED_SHA256:
        raise FileFormatError(f"{SHIPPED_NETWORK}: SHA-256 {digest} differs from the recorded {SHIPPED_SHA256}")
    return load_network(SHIPPED_NETWORK)
