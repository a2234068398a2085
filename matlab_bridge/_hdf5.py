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
char rows as ``str`` (several rows: a list of them), cells as lists (column-major order),
structs as a list of dicts.
"""

from __future__ import annotations

import numpy as np

HIDDEN = ("#refs#", "#subsystem#")
_OCTAVE_NUMERIC = ("matrix", "scalar", "range", "bool", "complex")


def read_hdf5(path, error) -> dict:
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
        variables = {}
        for name in names:
            item = handle[name]
            try:
                if name in matlab:
                    continue
                if "OCTAVE_NEW_FORMAT" in item.attrs:
                    variables[name] = _octave_value(item)
                else:
                    variables[name] = _plain_value(item)
            except (KeyError, TypeError, ValueError, UnicodeDecodeError) as problem:
                raise error(f"{path}: variable {name!r} cannot be read ({type(problem).__name__}: {problem})") from None
    if matlab:
        variables.update(_read_matlab(path, matlab, error))
    return {name: variables[name] for name in names}


def _read_matlab(path, names, error) -> dict:
    import hdf5storage

    from ._matfile import to_python

    try:
        raw = hdf5storage.loadmat(str(path), variable_names=names)
    except Exception as problem:  # h5py and hdf5storage raise several kinds
        raise error(f"{path}: not a readable MAT v7.3 (HDF5) file ({type(problem).__name__}: {problem})") from None
    return {name: to_python(raw[name]) for name in names if name in raw}


def _plain_value(item):
    import h5py

    if isinstance(item, h5py.Group):
        return [{name: _plain_value(member) for name, member in item.items()}]
    value = item[()]
    if isinstance(value, bytes):
        return value.decode("utf-8")
    if isinstance(value, str):
        return value
    value = np.asarray(value)
    if value.dtype.kind in "SO" or h5py.check_string_dtype(item.dtype) is not None:
        texts = [v.decode("utf-8") if isinstance(v, bytes) else str(v) for v in value.ravel()]
        return texts[0] if value.ndim == 0 else texts
    if value.dtype.names:
        raise TypeError(f"compound (table-like) dataset with fields {', '.join(value.dtype.names)}")
    return np.atleast_2d(value)


def _octave_value(group):
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
    raise TypeError(f"Octave type {kind!r} is not supported")


def _octave_cell(value) -> list:
    items = sorted((name for name in value if name != "dims"), key=lambda name: int(name.lstrip("_")))
    return [_octave_value(value[name]) for name in items]
