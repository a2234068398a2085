"""Small helpers shared by every part of the package.

Argument checks, random states, index lists for messages and atomic file writes. Nothing
here knows about RSA.
"""

from __future__ import annotations

import contextlib
import os
import re
import tempfile
import tokenize
import zipfile
import zlib
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
    if isinstance(random_state, (bool, np.bool_)) or not (
        random_state is None or isinstance(random_state, (int, np.integer, np.random.SeedSequence, np.random.Generator))
    ):
        raise InvalidTypeError(
            f"Invalid type for 'random_state': expected None, an integer >= 0, a SeedSequence or a "
            f"np.random.Generator, got {random_state!r}"
        )
    if isinstance(random_state, (int, np.integer)) and random_state < 0:
        raise InvalidArgumentError(f"Invalid value for 'random_state': expected an integer >= 0, got {random_state}")
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


# What np.load raises on a damaged .npy or .npz (headers are parsed as Python literals).
NPY_READ_ERRORS = (
    zipfile.BadZipFile,
    zlib.error,
    EOFError,
    ValueError,
    NotImplementedError,
    OSError,
    tokenize.TokenError,
    SyntaxError,
)


def load_cached_array(file, *, fits, expected, what="cache entry"):
    """A cached .npy array memory-mapped, or None when absent or bad (a warning then names the file).

    Never unpickles (``allow_pickle=False``). An entry is bad when it cannot be read, is damaged
    (its header does not describe its bytes), is not C-ordered float32, or ``fits(array)`` is
    False; the caller then computes it afresh and replaces the file.

    Args:
        file: the .npy path.
        fits: callable array -> bool, the caller's check of shape.
        expected: words for the warning, e.g. "float32 (6, *unit_shape)".
        what: what the file is, for the warning.
    """
    import warnings

    file = Path(file)
    if not file.exists():
        return None
    try:
        values = np.load(file, mmap_mode="r", allow_pickle=False)
    except NPY_READ_ERRORS as error:
        problem = f"cannot be read ({type(error).__name__}: {error})"
    else:
        if not isinstance(values, np.ndarray):
            values.close()
            problem = "is a .npz archive, not one .npy array"
        elif values.offset + values.nbytes != file.stat().st_size or not values.flags.c_contiguous:
            problem = (
                f"is damaged (its header describes {values.shape} {values.dtype}, not its {file.stat().st_size} bytes)"
            )
        elif values.dtype == np.float32 and fits(values):
            return values
        else:
            problem = f"holds {values.dtype} {values.shape}, expected {expected}"
    warnings.warn(f"{what} {file} {problem}; computing it afresh and replacing the file", stacklevel=3)
    return None
