"""Reading HDF5-based .mat files: MATLAB v7.3, GNU Octave's HDF5 format and plain HDF5.

Three writers put data into HDF5 files that users call ``.mat`` (or ``.h5``/``.hdf5``), each
with its own rules; every top-level variable is read by the rule of its writer:

- **MATLAB v7.3** (and hdf5storage): datasets and groups carry a ``MATLAB_class`` attribute.
  MATLAB stores arrays column-major, so a (stimuli x neurons) matrix lies in the file as
  (neurons x stimuli); these variables are read through hdf5storage, which transposes them
  back and decodes char, cell, struct and logical data.
- **GNU Octave** (``save -hdf5``; Octave 7 cannot write ``-v7.3``): each variable is a group
  with the attribute ``OCTAVE_NEW_FORMAT`` holding a ``type`` string and a ``value``, also
  column-major (read transposed).
- **Plain HDF5** (h5py, pandas, other tools): datasets without either marker are read as
  stored, in C order: a dataset of shape (125, 60) is 125 rows by 60 columns. Byte and
  string datasets are text; groups are read as structs of their members.

Values come back in the plain-Python form of ``read_mat``: numbers as arrays (at least 2-D),
char rows as ``str`` (several rows: a list of them), cells as ``Cell`` (column-major order, with
their shape),
structs as a list of dicts. What has no such form (compound, opaque or reference datasets in
plain HDF5, Octave types other than numbers, text, cells and structs) is refused, naming the
variable; nothing is unpickled.
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import TYPE_CHECKING, Any

import numpy as np

from rsa_mirror.errors import FileFormatError

from ._values import Cell, to_python

if TYPE_CHECKING:
    import h5py

    from rsa_mirror._typing import PathLike

HIDDEN = ("#refs#", "#subsystem#")
_OCTAVE_NUMERIC = ("matrix", "scalar", "range", "bool", "complex")


def read_hdf5(path: PathLike, error: type[Exception]) -> dict[str, Any]:
    """All top-level variables of an HDF5 file, each read by its writer's rule (module docstring).

    Args:
        path: the file.
        error: exception class raised (with the file and variable named) for what cannot be read.
    """
    import h5py

    try:
        handle = h5py.File(path, "r")
    except OSError as problem:
        raise error(f"{path}: not a readable MAT v7.3 or HDF5 file ({problem}); truncated?") from None
    with handle:
        names = [name for name in handle if name not in HIDDEN]
        matlab = [name for name in names if "MATLAB_class" in handle[name].attrs]
        variables: dict[str, Any] = {}
        for name in names:
            item = handle[name]
            try:
                if name in matlab:
                    continue
                if "OCTAVE_NEW_FORMAT" in item.attrs:
                    variables[name] = _octave_value(item)
                else:
                    variables[name] = _plain_value(item)
            except FileFormatError as problem:
                raise error(f"{path}: variable {name!r} cannot be read ({problem})") from None
            except (KeyError, TypeError, ValueError, UnicodeDecodeError) as problem:
                raise error(f"{path}: variable {name!r} cannot be read ({type(problem).__name__}: {problem})") from None
    if matlab:
        variables.update(_read_matlab(path, matlab, error))
    return {name: variables[name] for name in names}


def _read_matlab(path: PathLike, names: Iterable[str], error: type[Exception]) -> dict[str, Any]:
    import hdf5storage

    values: dict[str, Any] = {}
    for name in names:  # one by one: hdf5storage.read needs no MATLAB header in the file
        try:
            values[name] = to_python(hdf5storage.read(path=f"/{name}", filename=str(path), matlab_compatible=True))
        except Exception as problem:  # h5py and hdf5storage raise several kinds
            raise error(
                f"{path}: variable {name!r} is not readable MAT v7.3 data ({type(problem).__name__}: {problem})"
            ) from None
    return values


def _plain_value(item: h5py.Group | h5py.Dataset) -> Any:
    import h5py

    if isinstance(item, h5py.Group):
        return [{name: _plain_value(member) for name, member in item.items()}]
    value = item[()]
    if isinstance(value, bytes):
        return value.decode("utf-8")
    if isinstance(value, str):
        return value
    value = np.asarray(value)
    if value.dtype.kind == "S" or h5py.check_string_dtype(item.dtype) is not None:
        texts = [v.decode("utf-8") if isinstance(v, bytes) else str(v) for v in value.ravel()]
        return texts[0] if value.ndim == 0 else texts
    if value.dtype.names:
        raise FileFormatError(f"compound (table-like) dataset with fields {', '.join(value.dtype.names)}")
    if value.dtype.kind not in "biufc":
        kind = "object references" if h5py.check_ref_dtype(item.dtype) is not None else f"dtype {item.dtype}"
        raise FileFormatError(f"a dataset of {kind}, not numbers or text")
    return np.atleast_2d(value)


def _octave_value(group: h5py.Group) -> Any:
    """One variable in Octave's HDF5 layout: a group with datasets ``type`` and ``value``."""
    kind = group["type"][()]
    kind = kind.decode("ascii") if isinstance(kind, bytes) else str(kind)
    value = group["value"]
    if "OCTAVE_EMPTY_MATRIX" in group.attrs:
        return np.zeros(tuple(int(d) for d in np.asarray(value)[::-1]))
    if kind in ("string", "sq_string"):
        codes = np.atleast_2d(np.asarray(value).T)  # (rows, characters)
        rows = ["".join(map(chr, row.astype(np.uint8))) for row in codes]
        return rows[0] if len(rows) == 1 else rows
    if kind.endswith("range"):  # Octave stores a:b:c as base, limit, increment
        base, limit, increment = (float(value[()][k]) for k in ("base", "limit", "increment"))
        count = int(value.attrs.get("OCTAVE_RANGE_NELEM", round((limit - base) / increment) + 1))
        return (base + increment * np.arange(count)).reshape(1, -1)
    if kind == "sparse matrix" or kind == "sparse complex matrix" or kind == "sparse bool matrix":
        import scipy.sparse

        shape = (int(value["nr"][()]), int(value["nc"][()]))
        data = np.asarray(value["data"][()]).ravel()
        if data.dtype.names:
            data = data["real"] + 1j * data["imag"]
        matrix = scipy.sparse.csc_matrix(
            (data, np.asarray(value["ridx"][()]).ravel(), np.asarray(value["cidx"][()]).ravel()), shape=shape
        )
        return matrix.toarray().astype(bool) if "bool" in kind else matrix.toarray()
    if kind == "cell":
        return _octave_cell(value)
    if kind == "scalar struct":
        return [{name: _octave_value(member) for name, member in value.items()}]
    if kind == "struct":
        fields = {name: _octave_value(member) for name, member in value.items() if name != "dims"}
        n = len(next(iter(fields.values()))) if fields else 0
        return [{name: items[k] for name, items in fields.items()} for k in range(n)]
    if any(word in kind for word in _OCTAVE_NUMERIC):
        array = np.asarray(value[()])
        if array.dtype.names and set(array.dtype.names) >= {"real", "imag"}:
            array = array["real"] + 1j * array["imag"]
        array = np.atleast_2d(array.T)
        return array.astype(bool) if kind.startswith("bool") else array
    raise FileFormatError(f"Octave type {kind!r} is not supported")


def _octave_cell(value: h5py.Group) -> Cell:
    items = sorted((name for name in value if name != "dims"), key=lambda name: int(name.lstrip("_")))
    shape = tuple(int(d) for d in np.asarray(value["dims"][()]).ravel()[::-1]) if "dims" in value else None
    return Cell([_octave_value(value[name]) for name in items], shape)
