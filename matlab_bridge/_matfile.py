"""Reading and writing .mat files: the one place that knows scipy's and hdf5storage's quirks.

Writing: MAT v7 (v5 format, compressed) through scipy, except that char data holding non-ASCII
characters are written as UTF-16 code units (``miUTF16``, what MATLAB and Octave write), since
scipy writes UTF-8 bytes under a character count and Octave then truncates 'café' to 'caf';
v7.3 (HDF5 in MATLAB's layout) through hdf5storage, on request or when a variable exceeds
v7's 2 GB limit. Every write goes to a temporary file beside the target and is renamed into
place, so a failed save leaves nothing behind.

Reading: v4/v6/v7 through scipy; HDF5 files (detected by their signature) by the rule of their
writer (``_hdf5``: MATLAB v7.3 and hdf5storage transposed back from column-major, GNU Octave's
HDF5 format likewise, plain HDF5 as stored). Values come back as plain Python: structs -> list
of dicts (a struct array stays a list, also of one), cells -> lists, char rows -> str, numbers
-> arrays as stored (at least 2-D).
"""

from __future__ import annotations

import warnings
from pathlib import Path

import numpy as np
import scipy.io
from scipy.io.matlab import _mio5

from rsa_mirror._utils import atomic_path, check_option
from rsa_mirror.errors import FileFormatError

from ._hdf5 import read_hdf5

V7_LIMIT_BYTES = 2**31 - 1  # a v7 variable's byte count is a 32-bit field
MAX_NAME = {False: 31, True: 63}  # field-name length without / with long_field_names
_HDF5_SIGNATURE = b"\x89HDF\r\n\x1a\n"
MI_UTF16 = 17  # MAT v5 data type of UTF-16 code units (scipy reads it, names no constant)


class MatFormatError(FileFormatError):
    """A .mat file, variable or value that the bridge cannot read or write, with the reason."""


def write_mat(path, variables, *, format="v7", long_field_names=False) -> Path:
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
    """
    check_option("format", format, ("v7", "v7.3"))
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
                writer.put_variables(dict(variables))
    return path


def read_mat(path) -> dict:
    """All variables of a .mat file (any version) as plain Python values (see module docstring).

    Raises:
        MatFormatError: missing, truncated or non-MAT file (the message says which).
    """
    path = Path(path)
    if not path.is_file():
        raise MatFormatError(f"{path}: no such file")
    with open(path, "rb") as stream:
        head = stream.read(2056)
    if any(head[offset : offset + 8] == _HDF5_SIGNATURE for offset in (0, 512, 1024, 2048)):
        return read_hdf5(path, MatFormatError)
    try:
        raw = scipy.io.loadmat(str(path), squeeze_me=False, struct_as_record=True, chars_as_strings=True)
    except Exception as error:  # scipy raises ValueError, TypeError, EOFError, OSError ... by case
        raise MatFormatError(f"{path}: not a readable MAT file ({type(error).__name__}: {error}); truncated?") from None
    return {name: to_python(value) for name, value in raw.items() if not name.startswith("__")}


def to_python(value):
    """One MATLAB value as loaded by scipy or hdf5storage -> plain Python (see module docstring)."""
    if isinstance(value, (str, np.str_)):
        return str(value)
    if isinstance(value, bytes):
        return value.decode("utf-8")
    if value is None:  # scipy's reading of a struct with no fields
        return {}
    if isinstance(value, dict):  # hdf5storage's reading of a 1 x 1 struct
        return [{name: to_python(item) for name, item in value.items()}]
    value = np.asarray(value)
    if value.dtype.names:  # struct array, column-major like MATLAB's linear indexing
        return [{name: to_python(item[name]) for name in value.dtype.names} for item in value.ravel(order="F")]
    if value.dtype.kind == "U":
        rows = [str(row) for row in value.ravel(order="F")]
        return rows[0] if len(rows) == 1 else rows
    if value.dtype == object:  # cell array
        return [to_python(item) for item in value.ravel(order="F")]
    return value if value.ndim >= 2 else np.atleast_2d(value)


def _nbytes(value) -> int:
    if isinstance(value, dict):
        return sum(_nbytes(v) for v in value.values())
    if isinstance(value, np.ndarray) and value.dtype.names:
        return sum(_nbytes(item[name]) for item in value.ravel() for name in value.dtype.names)
    if isinstance(value, np.ndarray) and value.dtype == object:
        return sum(_nbytes(item) for item in value.ravel())
    return int(getattr(value, "nbytes", 0))


class _Utf16VarWriter(_mio5.VarWriter5):
    """scipy's variable writer, but non-ASCII char data go out as UTF-16 code units (miUTF16)."""

    def write_char(self, arr, codec="ascii"):
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
    def _matrix_writer(self):
        return self.__dict__["_utf16_writer"]

    @_matrix_writer.setter
    def _matrix_writer(self, writer):
        if writer is not None:
            writer.__class__ = _Utf16VarWriter
        self.__dict__["_utf16_writer"] = writer
