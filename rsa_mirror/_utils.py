"""Small helpers shared by every part of the package.

Argument checks, random states, index lists for messages and atomic file writes. Nothing
here knows about RSA.
"""

from __future__ import annotations

import contextlib
import os
import re
import tempfile
from glob import escape as glob_escape
from pathlib import Path

import numpy as np

from .errors import InvalidArgumentError, InvalidTypeError


def check_option(name, value, allowed):
    """Return ``value`` if it is one of ``allowed``, else raise InvalidArgumentError naming all three."""
    if value not in allowed:
        raise InvalidArgumentError(
            f"Invalid value for {name!r}: expected one of {', '.join(map(str, allowed))}, got {value!r}"
        )
    return value


def check_count(name, value, *, minimum=1, maximum=None) -> int:
    """Return ``value`` as an int if it is a whole number in [minimum, maximum], else raise.

    Raises:
        InvalidArgumentError: naming ``name``, the allowed range and the value received (also
            for bools, fractions, NaN and non-numbers).
    """
    allowed = f"an integer >= {minimum}" + ("" if maximum is None else f" and <= {maximum}")
    if isinstance(value, (bool, np.bool_)) or not isinstance(value, (int, np.integer, float, np.floating)):
        raise InvalidArgumentError(f"Invalid value for {name!r}: expected {allowed}, got {value!r}")
    if not float(value).is_integer() or value < minimum or (maximum is not None and value > maximum):
        raise InvalidArgumentError(f"Invalid value for {name!r}: expected {allowed}, got {value!r}")
    return int(value)


def check_random_state(random_state) -> np.random.Generator:
    """Turn ``None``, an int, a SeedSequence or a Generator into a ``np.random.Generator``.

    A Generator is returned as it is (and advances when used); never touches ``np.random``'s
    global state.
    """
    if isinstance(random_state, np.random.RandomState):
        raise InvalidTypeError("random_state must be None, an int or a np.random.Generator, not a legacy RandomState")
    return np.random.default_rng(random_state)


def format_indices(indices, limit=10) -> str:
    """'0, 3, 7' or '0, 3, ... (25 in all)' for error messages."""
    indices = [int(i) for i in indices]
    text = ", ".join(map(str, indices[:limit]))
    return text if len(indices) <= limit else f"{text}, ... ({len(indices)} in all)"


@contextlib.contextmanager
def atomic_path(path):
    """Yield a temporary path beside ``path``; move it onto ``path`` only if the block succeeds.

    An exception inside the block leaves ``path`` as it was (absent or old) and removes the
    temporary. A process killed inside the block cannot remove its temporary
    (``.<name>.<pid>.<random>.part<suffix>``): the next write to the same target removes the
    temporaries of processes that are no longer running.
    """
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    _remove_orphans(path)
    fd, tmp = tempfile.mkstemp(prefix=f".{path.name}.{os.getpid()}.", suffix=".part" + path.suffix, dir=path.parent)
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


def _remove_orphans(path):
    """Remove temporaries of ``path`` left by writers that were killed (their process is gone)."""
    pattern = re.compile(r"(?:(\d+)\.)?[A-Za-z0-9_]+\.part" + re.escape(path.suffix))  # [pid.]random.part
    for orphan in path.parent.glob(f".{glob_escape(path.name)}.*.part{glob_escape(path.suffix)}"):
        match = pattern.fullmatch(orphan.name[len(path.name) + 2 :])
        if match is None or (match.group(1) is not None and _running(int(match.group(1)))):
            continue
        with contextlib.suppress(OSError):
            orphan.unlink()


def _running(pid) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:  # alive, another user's
        return True
    return True
