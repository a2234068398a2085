"""Reading and writing .mat files: the one place that knows scipy's and hdf5storage's quirks.

Writing: MAT v7 (v5 format, compressed) through scipy, except that char data holding non-ASCII
characters are written as UTF-16 code units (``miUTF16``, what MATLAB and Octave write), since
scipy writes UTF-8 bytes under a character count and Octave then truncates 'café' to 'caf';
v7.3 (HDF5 in MATLAB's layout) through hdf5storage, on request or when a variable exceeds
v7's 2 GB limit. Every write goes to a temporary file beside the target and is renamed into
place, so a failed save leaves nothing behind. Variable and field names must be names MATLAB
can use (``check_matlab_name``): others are refused, never dropped or written unusable.

Reading: v4/v6/v7 through scipy; HDF5 files (detected by their signature) by the rule of their
writer (``_hdf5``: MATLAB v7.3 and hdf5storage transposed back from column-major, GNU Octave's
HDF5 format likewise, plain HDF5 as stored). Values come back as plain Python: structs -> list
of dicts (a struct array stays a list, also of one), char rows -> str, numbers -> arrays as
stored (at least 2-D), and cells -> ``Cell``: a list of the elements in MATLAB's linear order
(column-major, ``c{1}, c{2}, ...``) that keeps the cell's ``shape``, so that a 2-D cell stays
2-D (``cell.to_array()[i, j]`` is MATLAB's ``c{i+1, j+1}``) while a reader of a 1 x n cell of
names, or of a cell of RDMs, iterates it as a list. Reading never runs code from the file: MAT
files hold no Python objects, and neither scipy, h5py nor hdf5storage unpickles anything.
"""

from __future__ import annotations

import os
import re
import warnings
from collections.abc import Mapping
from pathlib import Path
from typing import TYPE_CHECKING, Any

import numpy as np
import scipy.io
import scipy.sparse
from scipy.io.matlab import _mio5

from rsa_mirror._utils import atomic_path, check_option
from rsa_mirror.errors import FileFormatError, InvalidArgumentError, InvalidTypeError

from ._hdf5 import read_hdf5
from ._values import to_python

if TYPE_CHECKING:
    from rsa_mirror._typing import PathLike

V7_LIMIT_BYTES = 2**31 - 1  # a v7 variable's byte count is a 32-bit field
MAX_NAME = {False: 31, True: 63}  # field-name length without / with long_field_names
_HDF5_SIGNATURE = b"\x89HDF\r\n\x1a\n"
MI_UTF16 = 17  # MAT v5 data type of UTF-16 code units (scipy reads it, names no constant)
MATLAB_NAME = re.compile(r"[A-Za-z][A-Za-z0-9_]{0,62}")  # MATLAB's isvarname: namelengthmax is 63
NAME_RULE = "a MATLAB name: a letter first, then letters, digits or underscores, at most 63 characters"


class MatFormatError(FileFormatError):
    """A .mat file, variable or value that the bridge cannot read or write, with the reason."""


def write_mat(
    path: PathLike, variables: Mapping[str, Any], *, format: str = "v7", long_field_names: bool = False
) -> Path:
    """Write ``variables`` (name -> value as scipy.io.savemat takes it) to ``path`` atomically.

    Args:
        path: target .mat file.
        variables: mapping variable name -> value (arrays, str, dicts for structs, object arrays
            for cells, structured arrays for struct arrays).
        format: ``"v7"`` (compressed, default; switched to v7.3 with a warning when a variable
            exceeds 2 GB) or ``"v7.3"`` (HDF5).
        long_field_names: allow struct field names up to 63 characters (MATLAB's limit) rather
            than 31 (v7 only; v7.3 has no such limit).

    Returns:
        The path written.

    Raises:
        InvalidArgumentError: a variable or struct field name MATLAB cannot use (named, with
            MATLAB's rule), a field longer than 31 characters without ``long_field_names``, or
            an unknown ``format``.
        InvalidTypeError: ``variables`` is not a mapping.
        MatFormatError: a value that has no MATLAB form (the variable is named).
    """
    check_option("format", format, ("v7", "v7.3"))
    check_option("long_field_names", long_field_names, (True, False))
    if not isinstance(variables, Mapping):
        raise InvalidTypeError(
            f"Invalid type for 'variables': expected a mapping of name -> value, got {type(variables).__name__}"
        )
    limit = MAX_NAME[bool(long_field_names)] if format == "v7" else MAX_NAME[True]
    for name, value in variables.items():
        check_matlab_name(name, "variable name")
        _check_fields(value, name, limit)
    path = Path(path)
    if format == "v7":
        largest = max((_nbytes(value) for value in variables.values()), default=0)
        if largest > V7_LIMIT_BYTES:
            warnings.warn(
                f"a variable of {largest / 2**30:.1f} GiB exceeds the 2 GB limit of MAT v7: writing {path} as v7.3 "
                "(HDF5; MATLAB reads it with load, Octave only its plain numeric variables)",
                stacklevel=3,
            )
            format = "v7.3"
    with atomic_path(path) as tmp:
        if format == "v7.3":
            import hdf5storage

            hdf5storage.savemat(str(tmp), dict(variables), format="7.3", matlab_compatible=True, oned_as="row")
        else:
            with open(tmp, "wb") as stream:
                writer = _Writer(stream, do_compression=True, unicode_strings=True, long_field_names=long_field_names)
                for name, value in variables.items():  # one at a time, so an error can name the variable
                    try:
                        writer.put_variables({name: value})
                    except (TypeError, ValueError) as error:
                        if isinstance(error, FileFormatError):
                            raise
                        raise MatFormatError(f"{path}: variable {name!r} has no MATLAB form ({error})") from None
    return path


def check_matlab_name(name: object, what: str = "name") -> str:
    """Return ``name`` if MATLAB can use it as a variable or field name, else raise naming it.

    Raises:
        InvalidArgumentError: ``name`` breaks MATLAB's rule (``NAME_RULE``).
    """
    if not isinstance(name, str) or not MATLAB_NAME.fullmatch(name):
        raise InvalidArgumentError(f"Invalid {what}: expected {NAME_RULE}, got {name!r}")
    return name


def _check_fields(value: object, where: str, limit: int) -> None:
    """Check every struct field name inside ``value`` (dicts, struct arrays, cells of them)."""
    if isinstance(value, Mapping):
        fields = dict(value)
    elif isinstance(value, np.ndarray) and value.dtype.names:
        fields = {name: value[name] for name in value.dtype.names}
    elif isinstance(value, np.ndarray) and value.dtype == object:
        for k, item in enumerate(value.ravel()):
            _check_fields(item, f"{where}{{{k + 1}}}", limit)
        return
    else:
        return
    for name, item in fields.items():
        check_matlab_name(name, f"field name in {where!r}")
        if len(name) > limit:
            raise InvalidArgumentError(
                f"Invalid field name in {where!r}: {name!r} has {len(name)} characters, more than {limit} "
                "(pass long_field_names=True for MATLAB's 63)"
            )
        _check_fields(item, f"{where}.{name}", limit)


def read_mat(path: PathLike) -> dict[str, Any]:
    """All variables of a .mat file (any version) as plain Python values (see module docstring).

    Raises:
        MatFormatError: missing, truncated or non-MAT file, or a variable that cannot be read
            (the message says which).
        InvalidTypeError: ``path`` is not a str or path.
    """
    if not isinstance(path, (str, os.PathLike)):
        raise InvalidTypeError(f"Invalid type for 'path': expected a str or path, got {type(path).__name__}")
    path = Path(path)
    if not path.is_file():
        raise MatFormatError(f"{path}: no such file")
    with open(path, "rb") as stream:
        head = stream.read(2056)
    if any(head[offset : offset + 8] == _HDF5_SIGNATURE for offset in (0, 512, 1024, 2048)):
        return read_hdf5(path, MatFormatError)
    if head.startswith(b"# Created by Octave"):
        raise MatFormatError(
            f"{path}: written in GNU Octave's own text format (Octave's default 'save'): save it with "
            "save('-v7', ...) instead"
        )
    try:
        raw = scipy.io.loadmat(str(path), squeeze_me=False, struct_as_record=True, chars_as_strings=True)
    except Exception as error:  # scipy raises ValueError, TypeError, EOFError, OSError ... by case
        raise MatFormatError(f"{path}: not a readable MAT file ({type(error).__name__}: {error}); truncated?") from None
    return {name: to_python(value) for name, value in raw.items() if not name.startswith("__")}


def _nbytes(value: object) -> int:
    if isinstance(value, dict):
        return sum(_nbytes(v) for v in value.values())
    if isinstance(value, np.ndarray) and value.dtype.names:
        return sum(_nbytes(item[name]) for item in value.ravel() for name in value.dtype.names)
    if isinstance(value, np.ndarray) and value.dtype == object:
        return sum(_nbytes(item) for item in value.ravel())
    return int(getattr(value, "nbytes", 0))


class _Utf16VarWriter(_mio5.VarWriter5):
    """scipy's variable writer, but non-ASCII char data go out as UTF-16 code units (miUTF16)."""

    def write_char(self, arr: np.ndarray, codec: str = "ascii") -> None:
        chars = _mio5.arr_to_chars(arr) if arr.size and arr.dtype.kind == "U" else None
        text = "" if chars is None else "".join(chars.T.ravel().tolist())  # Fortran order
        if chars is None or text.isascii() or np.all(arr == ""):
            return super().write_char(arr, codec)
        if any(ord(c) > 0xFFFF for c in text):
            raise MatFormatError(f"characters outside the Basic Multilingual Plane have no MATLAB char form: {text!r}")
        self.write_header(chars.shape, _mio5.mxCHAR_CLASS)
        self.write_element(np.frombuffer(text.encode("utf-16-le"), dtype="<u2"), mdtype=MI_UTF16)


class _Writer(_mio5.MatFile5Writer):
    """scipy's file writer using ``_Utf16VarWriter``.

    scipy makes its variable writer inside ``put_variables``; the property below swaps the
    class of the one it makes.
    """

    @property
    def _matrix_writer(self) -> Any:
        return self.__dict__["_utf16_writer"]

    @_matrix_writer.setter
    def _matrix_writer(self, writer: Any) -> None:
        if writer is not None:
            writer.__class__ = _Utf16VarWriter
        self.__dict__["_utf16_writer"] = writer
