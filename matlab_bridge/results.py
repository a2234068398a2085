"""Result objects to and from .mat files as nested structs with labelled dimensions.

``save_results(path, result)`` writes one variable ``result``, a struct with

- ``type``: the Python type (``BootstrapResult``, ``CeilingResult``, ``ShapleyResult``,
  ``AlignmentResult``, ``ImportanceResult``, ``TrainResult``, ..., ``table`` for a pandas
  DataFrame, ``dict`` for a mapping), and for a result ``class``, its import path
  (``rsa_mirror.inference.BootstrapResult``);
- ``version`` and ``created``: package version and ISO time of writing;
- ``data``: the result's ``to_dict()``, each value a double (or single) array, char, cell of
  char, or a nested struct of the same layout (a ``BootstrapResult``'s ceilings, a dict's
  values, a table's columns);
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
``load_results`` reads back equals what was saved (types, shapes, dtypes, names); a file whose
fields disagree with its ``shapes``, or whose type or fields ``load_results`` does not know, is
refused, naming the field.

The bridge knows no result class by name: a result travels as its ``to_dict()`` and comes back
through its class's ``from_dict()`` (``rsa_mirror.results.Result``); the class's ``DIMS``,
``UNITS`` and ``ONE_BASED`` say what is written beside the values. Reading, the class is
resolved from ``class`` with importlib, and only a result class of the rsa_mirror package is
ever made (a file without ``class``, as written before it existed, is resolved by ``type``
among them); anything else is refused.
"""

from __future__ import annotations

import importlib
import re
from collections.abc import Collection, Iterator, Mapping
from datetime import datetime, timezone
from pathlib import Path
from typing import TYPE_CHECKING, Any, TypeGuard

import numpy as np
import pandas as pd

from rsa_mirror.errors import DataError, InvalidArgumentError, InvalidTypeError
from rsa_mirror.results import Result, result_types

from ._matfile import MatFormatError, read_mat, write_mat
from ._values import Cell, texts, version_stamp
from .rdms import matlab_name

if TYPE_CHECKING:
    from rsa_mirror._typing import PathLike

_PUBLIC_PATH = re.compile(r"rsa_mirror(\.[A-Za-z][A-Za-z0-9_]*)+")  # no private or dunder parts


def save_results(path: PathLike, result: Result | pd.DataFrame | Mapping[str, Any], *, format: str = "v7") -> Path:
    """Write a result object (or a DataFrame, or a dict of them) as the struct ``result``.

    Args:
        path: target .mat file (atomic write).
        result: a result of rsa_mirror (``BootstrapResult``, ``CeilingResult``, ``ShapleyResult``,
            ``AlignmentResult``, ``ImportanceResult``, ``TrainResult``, ...: any class with
            ``to_dict()`` / ``from_dict()``), a pandas DataFrame (index tables, equivariance
            tables, ...) or a dict of these.
        format: ``"v7"`` (default) or ``"v7.3"``.

    Returns:
        The path written.

    Raises:
        InvalidTypeError: an object (or a field) that has no MATLAB form here.
        InvalidArgumentError: an unknown ``format``.
    """
    encoded = _encode(result)
    encoded["version"] = version_stamp()
    encoded["created"] = datetime.now(timezone.utc).isoformat(timespec="seconds")
    long_names = any(len(k) > 31 for k in _all_keys(encoded))
    return write_mat(path, {"result": encoded}, format=format, long_field_names=long_names)


def load_results(path: PathLike) -> Result | pd.DataFrame | dict[str, Any]:
    """Read a file written by ``save_results`` back into the same Python object.

    Raises:
        MatFormatError: no ``result`` variable, or one not written by ``save_results``: an
            unknown type, a missing or unknown field, or a field whose size disagrees with its
            recorded shape (the message names the file and the field).
    """
    contents = read_mat(path)
    if "result" not in contents:
        raise MatFormatError(f"{path}: no variable 'result' (holds {', '.join(contents) or 'nothing'})")
    value = contents["result"]
    if not (isinstance(value, list) and len(value) == 1 and "type" in value[0]):
        raise MatFormatError(f"{path}: 'result' is not a struct written by save_results (no field 'type')")
    return _decode(value[0], path, "result")


def _encode(obj: object) -> dict[str, Any]:
    """One object -> a struct dict of the module docstring's layout."""
    cls: type[Result] | None = None
    one_based: tuple[str, ...] = ()
    if isinstance(obj, pd.DataFrame):
        frame = obj.reset_index() if obj.index.name is not None or obj.index.names[0] is not None else obj
        kind, fields = "table", {str(c): frame[c].to_numpy() for c in frame.columns}
    elif isinstance(obj, dict):
        kind, fields = "dict", {str(k): v for k, v in obj.items()}
    elif _is_result(obj):
        cls = type(obj)
        kind, fields, one_based = cls.__name__, obj.to_dict(), tuple(cls.ONE_BASED)
    else:
        raise InvalidTypeError(
            f"save_results cannot write {type(obj).__name__}: expected a result of rsa_mirror (a class with "
            "to_dict() and from_dict()), a DataFrame or a dict"
        )
    data: dict[str, Any] = {}
    keys: list[list[str]] = []
    shapes: dict[str, np.ndarray] = {}
    extras: dict[str, list[str]] = {"none": [], "integers": [], "logicals": []}
    used: set[str] = set()
    for key, value in fields.items():
        name = matlab_name(key, used)
        if name != key:
            keys.append([name, key])
        data[name] = _encode_value(name, key, value, shapes, extras, one_based)
    encoded: dict[str, Any] = {"type": kind}
    if cls is not None:
        encoded["class"] = f"{cls.__module__}.{cls.__qualname__}"
    dims = (
        {} if cls is None else {n: np.array(d, dtype=object).reshape(1, -1) for n, d in cls.DIMS.items() if n in data}
    )
    encoded.update(
        {
            "data": data,
            "dims": dims,
            "units": {} if cls is None else {n: cls.UNITS[n] for n in data if n in cls.UNITS},
            "shapes": shapes,
            "keys": np.array(keys, dtype=object).reshape(-1, 2),
        }
    )
    encoded.update({k: np.array(v, dtype=object).reshape(1, -1) for k, v in extras.items()})
    encoded["one_based"] = np.array([n for n in extras["integers"] if n in one_based], dtype=object).reshape(1, -1)
    return encoded


def _is_result(obj: object) -> TypeGuard[Result]:
    """A result of the rsa_mirror package: an instance of a ``Result`` class with to_dict and from_dict."""
    return isinstance(obj, Result) and type(obj).__module__.split(".")[0] == "rsa_mirror"


def _encode_value(
    name: str,
    key: str,
    value: object,
    shapes: dict[str, np.ndarray],
    extras: dict[str, list[str]],
    one_based: Collection[str],
) -> Any:
    if value is None:
        extras["none"].append(name)
        return np.zeros((0, 0))
    if isinstance(value, (str, np.str_)):
        return str(value)
    if isinstance(value, (dict, pd.DataFrame)) or _is_result(value):
        return _encode(value)
    array = np.asarray(value)
    if array.dtype == object or array.dtype.kind == "U":
        if all(isinstance(v, (str, np.str_)) for v in array.ravel()):
            shapes[name] = np.array(array.shape, dtype=float).reshape(1, -1)
            return np.array([str(v) for v in array.ravel()], dtype=object).reshape(-1, 1 if array.ndim else 1).T
        raise InvalidTypeError(f"save_results: field {key!r} mixes types that MATLAB cannot hold in one array")
    shapes[name] = np.array(array.shape, dtype=float).reshape(1, -1)
    if array.dtype.kind == "b":
        extras["logicals"].append(name)
        return array.astype(np.uint8)
    if array.dtype.kind in "iu":
        extras["integers"].append(name)
        return array.astype(float) + (1.0 if name in one_based else 0.0)
    if array.dtype.kind == "f":  # float32 stays single (MATLAB's single), every other float is double
        return array.astype(np.float32 if array.dtype == np.float32 else float)
    return array


def _decode(struct: Mapping[str, Any], path: PathLike, where: str) -> Any:
    """One struct of the module docstring's layout -> its object; ``where`` names it in messages."""
    kind = struct.get("type")
    if "data" not in struct:
        raise MatFormatError(f"{path}: {where} has no field 'data' (fields: {', '.join(struct)})")
    if not isinstance(kind, str):
        raise MatFormatError(f"{path}: {where}.type is not a char (a type name), got {kind!r}")
    cls = None if kind in ("table", "dict") else _result_class(struct, kind, path, where)
    keys = struct.get("keys", [])
    keys = keys.to_array() if isinstance(keys, Cell) else np.asarray(keys, dtype=object).reshape(-1, 2)
    if keys.size and (keys.ndim != 2 or keys.shape[1] != 2):  # the (K x 2) cell as written, rows in order
        raise MatFormatError(f"{path}: {where}.keys is not a K x 2 cell of {{MATLAB name, name}}")
    renamed = {str(m): str(p) for m, p in keys.reshape(-1, 2)}
    shapes = struct.get("shapes", [{}])
    shapes = shapes[0] if isinstance(shapes, list) and shapes and isinstance(shapes[0], dict) else {}
    flags = {k: set(texts(struct.get(k, []))) for k in ("none", "integers", "logicals", "one_based")}
    data = struct["data"]
    if not (isinstance(data, list) and len(data) <= 1 and all(isinstance(d, dict) for d in data)):
        raise MatFormatError(f"{path}: {where}.data is not a struct")
    fields: dict[str, Any] = {}
    for name, value in (data[0] if data else {}).items():
        fields[renamed.get(name, name)] = _decode_value(name, value, shapes, flags, path, f"{where}.data.{name}")
    if kind == "table":
        try:
            return pd.DataFrame(fields)
        except ValueError as error:  # columns of different lengths or not 1-D
            raise MatFormatError(f"{path}: {where} is not a table ({error})") from None
    if kind == "dict":
        return fields
    assert cls is not None  # a result class for every other kind
    try:
        return cls.from_dict(fields)
    except (InvalidArgumentError, InvalidTypeError, DataError) as error:
        raise MatFormatError(f"{path}: {where} ({kind}) {error}") from None


def _result_class(struct: Mapping[str, Any], kind: str, path: PathLike, where: str) -> type[Result]:
    """The result class a struct names: by its import path (``class``), else by ``type``; MatFormatError if none.

    Only a ``Result`` class of the rsa_mirror package is ever imported or made; its module path
    must be public (no ``_private`` or ``__dunder__`` part), so reading runs no module's main code.
    """
    name = struct.get("class")
    if name is not None:
        module, _, qualname = str(name).rpartition(".")
        if not (isinstance(name, str) and _PUBLIC_PATH.fullmatch(module) and qualname.isidentifier()):
            raise MatFormatError(f"{path}: {where}.class {name!r} is not the import path of an rsa_mirror result")
        try:
            cls = getattr(importlib.import_module(module), qualname, None)
        except ImportError as error:
            raise MatFormatError(f"{path}: {where}.class {name!r} cannot be imported ({error})") from None
        if not (isinstance(cls, type) and issubclass(cls, Result) and cls.__module__ == module):
            raise MatFormatError(f"{path}: {where}.class {name!r} is not a result class of rsa_mirror")
        if cls.__name__ != kind:
            raise MatFormatError(f"{path}: {where}.class {name!r} does not match its type {kind!r}")
        return cls
    known = result_types()
    if kind not in known:
        raise MatFormatError(
            f"{path}: {where} has the unknown result type {kind!r} (known: table, dict, {', '.join(known)}; "
            "written by a newer rsa_mirror?)"
        )
    return known[kind]


def _decode_value(
    name: str, value: object, shapes: Mapping[str, Any], flags: Mapping[str, set[str]], path: PathLike, where: str
) -> Any:
    if name in flags["none"]:
        return None
    if isinstance(value, list) and value and isinstance(value[0], dict) and "type" in value[0]:
        return _decode(value[0], path, where)
    shape = _shape(shapes[name], path, where) if name in shapes else None
    if isinstance(value, str) and shape is None:
        return value
    if isinstance(value, (list, str)):
        items = [value] if isinstance(value, str) else [str(v) for v in value]
        if shape is not None and len(items) != int(np.prod(shape)):
            raise MatFormatError(f"{path}: {where} holds {len(items)} texts, but its shape is recorded as {shape}")
        return items if shape is None or len(shape) <= 1 else np.array(items).reshape(shape)
    array = np.asarray(value)
    if shape is not None:
        if array.size != int(np.prod(shape)):
            raise MatFormatError(
                f"{path}: {where} has shape {array.shape} in the file, but its shape is recorded as {shape} "
                f"(in 'shapes'): {array.size} values for {int(np.prod(shape))}"
            )
        array = array.reshape(shape, order="C")
    if name in flags["logicals"]:
        array = array.astype(bool)
    elif name in flags["integers"]:
        if array.dtype.kind not in "biuf" or not np.all(np.isfinite(array) & (np.mod(array, 1) == 0)):
            raise MatFormatError(f"{path}: {where} is recorded as integers but holds other values")
        array = array.astype(np.int64) - (1 if name in flags["one_based"] else 0)
    return array.item() if shape == () else array


def _shape(value: object, path: PathLike, where: str) -> tuple[int, ...]:
    numbers = np.asarray(value).ravel() if not isinstance(value, (str, list)) else np.array([None])
    if numbers.dtype.kind not in "biuf" or not np.all((numbers >= 0) & (np.mod(numbers, 1) == 0)):
        raise MatFormatError(f"{path}: the recorded shape of {where} is not a list of sizes: {value!r}")
    return tuple(int(v) for v in numbers)


def _all_keys(struct: Mapping[str, Any]) -> Iterator[str]:
    for key, value in struct.items():
        yield key
        if isinstance(value, dict):
            yield from _all_keys(value)
