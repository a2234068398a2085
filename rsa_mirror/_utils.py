"""Small helpers shared by every part of the package.

Argument checks, random states and seeds, index lists for messages, atomic file writes, optional
dependencies and lazily exported names. Nothing here knows about RSA.
"""

from __future__ import annotations

import contextlib
import importlib
import os
import re
import sys
import tempfile
import tokenize
import zipfile
import zlib
from collections.abc import Callable, Collection, Iterable, Iterator, Mapping
from glob import escape as glob_escape
from pathlib import Path
from types import ModuleType
from typing import TYPE_CHECKING, Any, TypeVar

import numpy as np
import numpy.typing as npt
from numpy.random import RandomState

from .errors import InvalidArgumentError, InvalidTypeError, MissingDependencyError

if TYPE_CHECKING:
    from ._typing import IntArray, PathLike
    from ._typing import RandomState as RandomStateLike

_T = TypeVar("_T")


def check_option(name: str, value: _T, allowed: Collection[Any]) -> _T:
    """Return ``value`` if it is one of ``allowed``, else raise InvalidArgumentError naming all three."""
    if value not in allowed:
        raise InvalidArgumentError(
            f"Invalid value for {name!r}: expected one of {', '.join(map(str, allowed))}, got {value!r}"
        )
    return value


def check_options(name: str, values: str | Iterable[str], allowed: Collection[str]) -> tuple[str, ...]:
    """``values`` (one value, or a sequence of distinct values, each one of ``allowed``) as a tuple, else raise."""
    values = (values,) if isinstance(values, str) else tuple(values)
    if not values or len(set(values)) < len(values):
        raise InvalidArgumentError(
            f"Invalid value for {name!r}: expected distinct {name} among {', '.join(allowed)}, got {values!r}"
        )
    for value in values:
        check_option(name, value, allowed)
    return values


def check_count(name: str, value: object, *, minimum: int = 1, maximum: int | None = None) -> int:
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


def check_random_state(random_state: RandomStateLike) -> np.random.Generator:
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


def seed_sequence(random_state: RandomStateLike, *key: int) -> np.random.SeedSequence:
    """``random_state`` as a ``np.random.SeedSequence``: the package's one way to derive random streams.

    Args:
        random_state: None (fresh entropy from the operating system), an integer >= 0 (Python or
            NumPy: ``3`` and ``np.int64(3)`` give the same sequence), a SeedSequence (itself) or a
            ``np.random.Generator`` (a new child of its seed sequence, as ``Generator.spawn``
            makes: each call on one Generator gives another stream, and its own draws are not
            disturbed).
        *key: integers naming a child stream (a SeedSequence spawn key): ``seed_sequence(s, 1)``
            and ``seed_sequence(s, 2)`` are independent of each other and of ``seed_sequence(s)``.

    Raises:
        InvalidTypeError, InvalidArgumentError: as ``check_random_state``.
    """
    check_random_state(random_state)  # the type and value checks
    if isinstance(random_state, np.random.Generator):
        parent = random_state.bit_generator.seed_seq
        if isinstance(parent, np.random.SeedSequence):
            sequence = parent.spawn(1)[0]
        else:  # a bit generator made from a state, without a seed sequence: draw one
            sequence = np.random.SeedSequence(int(random_state.integers(2**63)))
    elif isinstance(random_state, np.random.SeedSequence):
        sequence = random_state
    else:
        sequence = np.random.SeedSequence(None if random_state is None else int(random_state))
    if not key:
        return sequence
    spawn_key = (*sequence.spawn_key, *(int(k) for k in key))
    return np.random.SeedSequence(sequence.entropy, spawn_key=spawn_key, pool_size=sequence.pool_size)


def derive_seed(
    random_state: RandomStateLike, *key: int, maximum: int | None = 2**63 - 1, required: bool = False
) -> int:
    """An integer seed (e.g. for a ``torch.Generator``) from ``random_state``, through ``seed_sequence``.

    An integer ``random_state`` without ``key`` is returned as it is (checked), so that an
    integer seed keeps its documented meaning (``load_model(weights="untrained", random_state=3)``
    initializes as ``torch.manual_seed(3)`` and a ``torch.Generator`` seeded 3 do). Anything else
    (a Generator, a SeedSequence, None, or a key) gives 64 bits of
    ``seed_sequence(random_state, *key)`` reduced to [0, ``maximum``].

    Args:
        random_state: None, an integer >= 0, a SeedSequence or a ``np.random.Generator``.
        *key: integers naming a child stream (see ``seed_sequence``).
        maximum: the largest seed the caller takes (None: any integer is returned as given).
        required: refuse None (where results must be reproducible, e.g. untrained weights).

    Raises:
        InvalidArgumentError: an integer below 0 or above ``maximum``, a fraction, a bool, or
            None when ``required``.
        InvalidTypeError: a legacy ``RandomState``.
    """
    if random_state is None and required:
        bound = "" if maximum is None else f" and <= {maximum}"
        raise InvalidArgumentError(
            f"Invalid value for 'random_state': expected an integer >= 0{bound} or a np.random.Generator (a seed "
            "is needed here: the result must be reproducible), got None"
        )
    if random_state is not None and not isinstance(
        random_state, (np.random.Generator, np.random.SeedSequence, RandomState)
    ):
        random_state = check_count("random_state", random_state, minimum=0, maximum=maximum)
        if not key:
            return random_state
    low, high = seed_sequence(random_state, *key).generate_state(2, np.uint32).tolist()
    return (high << 32 | low) % (2**64 if maximum is None else maximum + 1)


def indexed_seed(seed: int, index: int, *, stride: int = 1_000_003) -> int:
    """The integer seed of stream ``index`` of an integer ``seed``: (seed x stride + index) mod 2**64.

    The derivation that RISE (each image's masks; each object's seed in ``importance_study``,
    stride 100_003) and ``train`` (each epoch's shuffle and dropout) have used from their first
    results on, kept so that those results (the documented numbers, the shipped control network)
    are reproduced exactly; it gives distinct streams while ``index`` < ``stride``. Other
    derivations go through ``seed_sequence`` / ``derive_seed``.
    """
    return (int(seed) * stride + int(index)) % 2**64


def check_share(name: str, value: float, interval: str = "()") -> float:
    """``value`` as a float in the interval of 0 and 1 written ``"()"``, ``"(]"`` or ``"[]"``, else raise."""
    if not in_unit_interval(value, interval):
        raise InvalidArgumentError(
            f"Invalid value for {name!r}: expected a number in {interval[0]}0, 1{interval[1]}, got {value!r}"
        )
    return float(value)


def in_unit_interval(value: object, interval: str = "()") -> bool:
    """Whether ``value`` is a number (not a bool) in the interval of 0 and 1 written as in ``check_share``."""
    if isinstance(value, (bool, np.bool_)) or not isinstance(value, (int, float, np.integer, np.floating)):
        return False
    low = value >= 0 if interval[0] == "[" else value > 0
    return bool(low and (value <= 1 if interval[1] == "]" else value < 1))


def float_array(name: str, values: object, dtype: npt.DTypeLike = np.float64) -> np.ndarray:
    """``values`` as an array of ``dtype`` (no copy when it is one), else InvalidTypeError naming ``name``."""
    try:
        return np.asarray(values, dtype=dtype)
    except (TypeError, ValueError):
        raise InvalidTypeError(
            f"Invalid type for {name!r}: expected a numeric array, got {type(values).__name__}"
        ) from None


def check_units(units: npt.ArrayLike) -> IntArray:
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


def format_indices(indices: Iterable[Any], limit: int = 10) -> str:
    """'0, 3, 7' or '0, 3, ... (25 in all)' for error messages."""
    indices = [int(i) for i in indices]
    text = ", ".join(map(str, indices[:limit]))
    return text if len(indices) <= limit else f"{text}, ... ({len(indices)} in all)"


@contextlib.contextmanager
def atomic_path(path: PathLike) -> Iterator[Path]:
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


def _remove_orphans(path: Path) -> None:
    """Remove temporaries of ``path`` left by writers that were killed (their process is gone)."""
    pattern = re.compile(r"(?:(\d+)\.)?[A-Za-z0-9_]+\.part" + re.escape(path.suffix))  # [pid.]random.part
    for orphan in path.parent.glob(f".{glob_escape(path.name)}.*.part{glob_escape(path.suffix)}"):
        match = pattern.fullmatch(orphan.name[len(path.name) + 2 :])
        if match is None or (match.group(1) is not None and _running(int(match.group(1)))):
            continue
        with contextlib.suppress(OSError):
            orphan.unlink()


def _running(pid: int) -> bool:
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


def load_cached_array(
    file: PathLike, *, fits: Callable[[np.ndarray], bool], expected: str, what: str = "cache entry"
) -> np.ndarray | None:
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
        elif values.offset + values.nbytes != file.stat().st_size or not values.flags.c_contiguous:  # type: ignore[attr-defined]  # a np.memmap
            problem = (
                f"is damaged (its header describes {values.shape} {values.dtype}, not its {file.stat().st_size} bytes)"
            )
        elif values.dtype == np.float32 and fits(values):
            return values
        else:
            problem = f"holds {values.dtype} {values.shape}, expected {expected}"
    warnings.warn(f"{what} {file} {problem}; computing it afresh and replacing the file", stacklevel=3)
    return None


# Optional dependencies: the extra that installs each (pip install rsa_mirror[<extra>]).
OPTIONAL = {"torch": "models", "torchvision": "models", "numba": "models", "plyfile": "models"}


def optional_import(name: str, purpose: str | None = None) -> ModuleType:
    """The module ``name`` (an optional dependency), or MissingDependencyError saying how to install it.

    Args:
        name: a key of ``OPTIONAL`` (torch, torchvision, numba, plyfile).
        purpose: what needs it, for the message (default: rsa_mirror).
    """
    try:
        return importlib.import_module(name)
    except ModuleNotFoundError as error:
        if error.name != name.split(".")[0]:
            raise
        raise _missing(name, purpose) from None


def _missing(name: str, purpose: str | None = None) -> MissingDependencyError:
    extra = OPTIONAL.get(name.split(".")[0], "all")
    return MissingDependencyError(
        f"{purpose or 'rsa_mirror'} needs {name}, which is not installed: pip install rsa_mirror[{extra}]"
    )


def lazy_exports(package: str, names: Mapping[str, str]) -> tuple[Callable[[str], Any], Callable[[], list[str]]]:
    """``(__getattr__, __dir__)`` for a package whose ``names`` (name -> submodule) are imported on first use.

    A name whose module needs an optional dependency that is missing raises
    MissingDependencyError saying how to install it (``optional_import``).
    """

    def __getattr__(name: str) -> Any:
        if name not in names:
            raise AttributeError(f"module {package!r} has no attribute {name!r}")
        try:
            module = importlib.import_module(names[name], package)
        except ModuleNotFoundError as error:
            if error.name is None or error.name.split(".")[0] not in OPTIONAL:
                raise
            raise _missing(error.name.split(".")[0], f"{package}.{name}") from None
        value = getattr(module, name)
        setattr(sys.modules[package], name, value)
        return value

    def __dir__() -> list[str]:
        return sorted({*vars(sys.modules[package]), *names})

    return __getattr__, __dir__
