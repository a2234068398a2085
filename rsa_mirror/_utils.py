"""Small helpers shared by every part of the package.

Argument checks, random states, index lists for messages and atomic file writes. Nothing
here knows about RSA.
"""

from __future__ import annotations

import contextlib
import os
import tempfile
from pathlib import Path

import numpy as np


def check_option(name, value, allowed):
    """Return ``value`` if it is one of ``allowed``, else raise a ValueError that names all three."""
    if value not in allowed:
        raise ValueError(f"Invalid value for {name!r}: expected one of {', '.join(map(str, allowed))}, got {value!r}")
    return value


def check_random_state(random_state) -> np.random.Generator:
    """Turn ``None``, an int, a SeedSequence or a Generator into a ``np.random.Generator``.

    A Generator is returned as it is (and advances when used); never touches ``np.random``'s
    global state.
    """
    if isinstance(random_state, np.random.RandomState):
        raise TypeError("random_state must be None, an int or a np.random.Generator, not a legacy RandomState")
    return np.random.default_rng(random_state)


def format_indices(indices, limit=10) -> str:
    """'0, 3, 7' or '0, 3, ... (25 in all)' for error messages."""
    indices = [int(i) for i in indices]
    text = ", ".join(map(str, indices[:limit]))
    return text if len(indices) <= limit else f"{text}, ... ({len(indices)} in all)"


@contextlib.contextmanager
def atomic_path(path):
    """Yield a temporary path beside ``path``; move it onto ``path`` only if the block succeeds.

    A crash or exception inside the block leaves ``path`` as it was (absent or old) and no
    partial file behind.
    """
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(prefix=f".{path.name}.", suffix=".part" + path.suffix, dir=path.parent)
    os.close(fd)
    umask = os.umask(0)
    os.umask(umask)
    os.chmod(tmp, 0o666 & ~umask)
    try:
        yield Path(tmp)
        os.replace(tmp, path)
    except BaseException:
        with contextlib.suppress(FileNotFoundError):
            os.unlink(tmp)
        raise
