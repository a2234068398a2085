"""Result objects to and from .mat files as nested structs with labelled dimensions.

``save_results(path, result)`` writes one variable ``result``, a struct with

- ``type``: the Python type (``BootstrapResult``, ``CeilingResult``, ``ShapleyResult``,
  ``AlignmentResult``, ``table`` for a pandas DataFrame, ``dict`` for a mapping);
- ``version`` and ``created``: package version and ISO time of writing;
- ``data``: the fields, each a double array, char, cell of char, or a nested struct of the
  same layout (a ``BootstrapResult``'s ceilings, a dict's values, a table's columns);
- ``dims``: for each array field with known axes, a cell of axis names (e.g. ``samples``:
  {'brain', 'model', 'bootstrap'}); the labels of each axis are fields of ``data``
  (``brain_names``, ``model_names``, ...);
- ``units``: a char per field saying what its numbers are;
- ``shapes``: each array's Python shape (MATLAB drops trailing singleton axes);
- ``keys``: original names of fields that had to be renamed to be MATLAB identifiers, and
  ``none``, ``integers``, ``logicals``: fields that were None, integer or boolean in Python;
- ``one_based``: the fields that hold positions, stored counting from 1 (MATLAB's convention).

Stimulus ``indices`` (positions: the k-th stimulus of the RDMs) are stored 1-based and come
back 0-based. Every other number is stored as Python holds it: descriptor columns such as
``identity`` or ``stimulus`` are labels, kept as the recordings or the stimuli label them
(a lab's 1..25 stay 1..25; labels generated from a row layout count from 0). Everything
``load_results`` reads back equals what was saved (types, shapes, dtypes, names).
"""

from __future__ import annotations

import dataclasses
from datetime import datetime, timezone

import numpy as np
import pandas as pd

from ._matfile import MatFormatError, read_mat, write_mat
from .rdms import _strings, _version, matlab_name

DIMS = {
    "BootstrapResult": {
        "estimate": ("brain", "model"),
        "samples": ("brain", "model", "bootstrap"),
        "indices": ("bootstrap", "stimulus"),
    },
    "CeilingResult": {"reliability": ("split",), "samples": ("bootstrap",)},
    "ShapleyResult": {
        "values": ("brain", "layer", "component"),
        "full": ("brain", "layer"),
        "samples": ("brain", "layer", "component", "bootstrap"),
        "indices": ("bootstrap", "stimulus"),
        "degenerate": ("layer", "coalition"),
    },
}
UNITS = {
    "estimate": "correlation between RDMs on all stimuli (see method)",
    "samples": "correlation in each stimulus resample",
    "indices": "stimulus drawn, 1-based, per resample",
    "reliability": "Spearman-Brown corrected split-half RDM correlation, per split",
    "values": "Shapley contribution to the model-brain correlation",
    "full": "correlation of the layer's full RDM with the brain RDM",
    "degenerate": "true where a coalition (bit j = component j) is constant across stimuli",
}
_ONE_BASED = {"indices"}


def save_results(path, result, *, format="v7"):
    """Write a result object (or a DataFrame, or a dict of them) as the struct ``result``.

    Args:
        path: target .mat file (atomic write).
        result: ``BootstrapResult``, ``CeilingResult``, ``ShapleyResult``, ``AlignmentResult``,
            a pandas DataFrame (index tables, equivariance tables, ...) or a dict of these.
        format: ``"v7"`` (default) or ``"v7.3"``.

    Returns:
        The path written.
    """
    encoded = _encode(result)
    encoded["version"] = _version()
    encoded["created"] = datetime.now(timezone.utc).isoformat(timespec="seconds")
    long_names = any(len(k) > 31 for k in _all_keys(encoded))
    return write_mat(path, {"result": encoded}, format=format, long_field_names=long_names)


def load_results(path):
    """Read a file written by ``save_results`` back into the same Python object.

    Raises:
        MatFormatError: no ``result`` variable, or one not written by ``save_results``.
    """
    contents = read_mat(path)
    if "result" not in contents:
        raise MatFormatError(f"{path}: no variable 'result' (holds {', '.join(contents) or 'nothing'})")
    value = contents["result"]
    if not (isinstance(value, list) and len(value) == 1 and "type" in value[0]):
        raise MatFormatError(f"{path}: 'result' is not a struct written by save_results")
    return _decode(value[0])


def _encode(obj) -> dict:
    """One object -> a struct dict of the module docstring's layout."""
    from rsa_mirror import inference

    if isinstance(obj, pd.DataFrame):
        frame = obj.reset_index() if obj.index.name is not None or obj.index.names[0] is not None else obj
        kind, fields = "table", {str(c): frame[c].to_numpy() for c in frame.columns}
    elif isinstance(obj, dict):
        kind, fields = "dict", {str(k): v for k, v in obj.items()}
    elif dataclasses.is_dataclass(obj) and hasattr(inference, type(obj).__name__):
        kind, fields = type(obj).__name__, {f.name: getattr(obj, f.name) for f in dataclasses.fields(obj)}
    else:
        raise TypeError(f"save_results cannot write {type(obj).__name__}")
    data, keys, shapes, extras = {}, [], {}, {"none": [], "integers": [], "logicals": []}
    used = set()
    for key, value in fields.items():
        name = matlab_name(key, used)
        if name != key:
            keys.append([name, key])
        data[name] = _encode_value(name, key, value, shapes, extras)
    dims = {n: np.array(d, dtype=object).reshape(1, -1) for n, d in DIMS.get(kind, {}).items() if n in data}
    encoded = {
        "type": kind,
        "data": data,
        "dims": dims,
        "units": {n: UNITS[n] for n in data if n in UNITS and kind in DIMS},
        "shapes": shapes,
        "keys": np.array(keys, dtype=object).reshape(-1, 2),
    }
    encoded.update({k: np.array(v, dtype=object).reshape(1, -1) for k, v in extras.items()})
    encoded["one_based"] = np.array([n for n in extras["integers"] if n in _ONE_BASED], dtype=object).reshape(1, -1)
    return encoded


def _encode_value(name, key, value, shapes, extras):
    if value is None:
        extras["none"].append(name)
        return np.zeros((0, 0))
    if isinstance(value, (str, np.str_)):
        return str(value)
    if isinstance(value, (dict, pd.DataFrame)) or dataclasses.is_dataclass(value):
        return _encode(value)
    array = np.asarray(value)
    if array.dtype == object or array.dtype.kind == "U":
        if all(isinstance(v, (str, np.str_)) for v in array.ravel()):
            shapes[name] = np.array(array.shape, dtype=float).reshape(1, -1)
            return np.array([str(v) for v in array.ravel()], dtype=object).reshape(-1, 1 if array.ndim else 1).T
        raise TypeError(f"save_results: field {key!r} mixes types that MATLAB cannot hold in one array")
    shapes[name] = np.array(array.shape, dtype=float).reshape(1, -1)
    if array.dtype.kind == "b":
        extras["logicals"].append(name)
        return array.astype(np.uint8)
    if array.dtype.kind in "iu":
        extras["integers"].append(name)
        return array.astype(float) + (1.0 if name in _ONE_BASED else 0.0)
    return array.astype(float) if array.dtype.kind == "f" else array


def _decode(struct):
    kind = struct["type"]
    renamed = {str(m): str(p) for m, p in np.asarray(struct.get("keys", []), dtype=object).reshape(-1, 2)}
    shapes = struct.get("shapes", [{}])
    shapes = shapes[0] if isinstance(shapes, list) and shapes else {}
    flags = {k: set(_strings(struct.get(k, []))) for k in ("none", "integers", "logicals")}
    data = struct["data"][0] if isinstance(struct["data"], list) and struct["data"] else {}
    fields = {}
    for name, value in data.items():
        fields[renamed.get(name, name)] = _decode_value(name, value, shapes, flags)
    if kind == "table":
        return pd.DataFrame(fields)
    if kind == "dict":
        return fields
    from rsa_mirror import inference

    cls = getattr(inference, kind, None)
    if cls is None or not dataclasses.is_dataclass(cls):
        raise MatFormatError(f"unknown result type {kind!r} (written by a newer rsa_mirror?)")
    return cls(**fields)


def _decode_value(name, value, shapes, flags):
    if name in flags["none"]:
        return None
    if isinstance(value, list) and value and isinstance(value[0], dict) and "type" in value[0]:
        return _decode(value[0])
    shape = tuple(int(v) for v in np.asarray(shapes[name]).ravel()) if name in shapes else None
    if isinstance(value, str) and shape is None:
        return value
    if isinstance(value, (list, str)):
        items = [value] if isinstance(value, str) else [str(v) for v in value]
        return items if shape is None or len(shape) <= 1 else np.array(items).reshape(shape)
    array = np.asarray(value)
    if shape is not None:
        array = array.reshape(shape, order="C") if array.size == int(np.prod(shape)) else array
    if name in flags["logicals"]:
        array = array.astype(bool)
    elif name in flags["integers"]:
        array = array.astype(np.int64) - (1 if name in _ONE_BASED else 0)
    return array.item() if shape == () else array


def _all_keys(struct):
    for key, value in struct.items():
        yield key
        if isinstance(value, dict):
            yield from _all_keys(value)
