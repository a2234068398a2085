"""The base of every result class: ``to_dict()`` / ``from_dict()``, and a repr of a few lines.

A result is a small dataclass of NumPy arrays, labels, tables (DataFrames) and nested results.
``to_dict()`` gives its fields (and, for some classes, values derived from them, ``DERIVED``)
as arrays, lists, strings, numbers, None, DataFrames, dicts of those, and nested results as
result objects; ``from_dict()`` makes an equal object from such a mapping (a nested result may
also be given as its own ``to_dict()``). That is all the .mat bridge needs
(``matlab_bridge.save_results`` / ``load_results``): it keeps no list of classes. Class
attributes say what the bridge writes beside the values: ``DIMS`` (axis names of array fields),
``UNITS`` (what their numbers are) and ``ONE_BASED`` (fields holding positions, stored counting
from 1 in MATLAB files).
"""

from __future__ import annotations

import dataclasses
from collections.abc import Mapping
from typing import TYPE_CHECKING, Any, ClassVar, TypeVar

import numpy as np
import pandas as pd
from rsatoolbox.rdm import RDMs

from .errors import InvalidArgumentError, InvalidTypeError

_R = TypeVar("_R", bound="Result")


class Result:
    """Mixin of the result dataclasses (see the module docstring)."""

    DIMS: ClassVar[dict[str, tuple[str, ...]]] = {}
    UNITS: ClassVar[dict[str, str]] = {}
    ONE_BASED: ClassVar[tuple[str, ...]] = ()
    DERIVED: ClassVar[tuple[str, ...]] = ()  # keys of to_dict() computed from the fields
    NESTED: ClassVar[dict[str, type[Result]]] = {}  # field -> the result class of its value
    NESTED_DICTS: ClassVar[dict[str, type[Result]]] = {}  # field -> the result class of its values (name -> result)
    if TYPE_CHECKING:  # every subclass is a dataclass
        __dataclass_fields__: ClassVar[dict[str, dataclasses.Field[Any]]]

    def to_dict(self) -> dict[str, Any]:
        """The fields as plain values, nested results as result objects."""
        return {f.name: getattr(self, f.name) for f in dataclasses.fields(self)}

    @classmethod
    def from_dict(cls: type[_R], data: dict[str, Any]) -> _R:
        """The result of ``to_dict()``'s mapping.

        Raises:
            InvalidTypeError: ``data`` is not a mapping.
            InvalidArgumentError: fields missing, or keys that are neither fields nor ``DERIVED``
                (the message names them).
        """
        if not isinstance(data, dict):
            raise InvalidTypeError(f"{cls.__name__}.from_dict takes a dict of fields, got {type(data).__name__}")
        fields = {f.name: f for f in dataclasses.fields(cls)}
        required = {
            name
            for name, f in fields.items()
            if f.default is dataclasses.MISSING and f.default_factory is dataclasses.MISSING
        }
        missing = sorted(required - set(data))
        unknown = sorted(set(data) - set(fields) - set(cls.DERIVED))
        if missing or unknown:
            problems = [f"missing field(s) {', '.join(missing)}"] if missing else []
            problems += [f"unknown field(s) {', '.join(unknown)}"] if unknown else []
            raise InvalidArgumentError(f"has {' and '.join(problems)}")
        values = {key: value for key, value in data.items() if key in fields}
        for key, kind in cls.NESTED.items():
            if isinstance(values.get(key), dict):
                values[key] = kind.from_dict(values[key])
        for key, kind in cls.NESTED_DICTS.items():
            if isinstance(values.get(key), dict):
                values[key] = {k: kind.from_dict(v) if isinstance(v, dict) else v for k, v in values[key].items()}
        return cls(**values)

    def __repr__(self) -> str:
        lines = [f"{type(self).__name__}({self._title()})" if self._title() else type(self).__name__]
        lines += [f"  {f.name}: {_describe(getattr(self, f.name))}" for f in dataclasses.fields(self)]
        return "\n".join(lines)

    def _title(self) -> str:
        """A few words after the class name in the repr (subclasses say what the result is)."""
        return ""


def _describe(value: object, width: int = 70) -> str:
    """One line about a field: an array's shape and dtype, a table's size, a list's first items."""
    if isinstance(value, np.ndarray):
        return f"array {value.shape} {value.dtype}"
    if isinstance(value, pd.DataFrame):
        return f"table {len(value)} rows x {value.shape[1]} columns ({', '.join(map(str, value.columns[:6]))}" + (
            ", ...)" if value.shape[1] > 6 else ")"
        )
    if isinstance(value, Result):
        return type(value).__name__
    if isinstance(value, dict):
        keys = ", ".join(map(str, list(value)[:6])) + (", ..." if len(value) > 6 else "")
        return f"{len(value)} entries ({keys})"
    if isinstance(value, (list, tuple)):
        text = ", ".join(map(str, value[:6])) + (", ..." if len(value) > 6 else "")
        return f"[{text}]" if len(text) < width else f"{len(value)} items"
    text = repr(value)
    return text if len(text) < width else f"{type(value).__name__} ({len(text)} characters)"


def result_types() -> dict[str, type[Result]]:
    """Name -> class of every result class defined in the rsa_mirror package and imported so far."""
    found: dict[str, type[Result]] = {}
    todo = list(Result.__subclasses__())
    while todo:
        cls = todo.pop()
        todo.extend(cls.__subclasses__())
        if cls.__module__.split(".")[0] == "rsa_mirror" and dataclasses.is_dataclass(cls):
            found[cls.__name__] = cls
    return dict(sorted(found.items()))


def rdms_to_dict(rdms: RDMs) -> dict[str, Any]:
    """The plain dict of rsatoolbox ``RDMs`` (``RDMs.to_dict()``), for the ``to_dict()`` of a result holding RDMs."""
    return rdms.to_dict()


def rdms_from_plain(value: RDMs | Mapping[str, Any]) -> RDMs:
    """``RDMs`` back from ``rdms_to_dict`` (also as read from a .mat file: descriptor arrays as lists)."""
    if isinstance(value, RDMs):
        return value
    value = dict(value)
    for key in ("descriptors", "rdm_descriptors"):  # lists, as rsatoolbox keeps them
        value[key] = {k: v.tolist() if hasattr(v, "tolist") else list(v) for k, v in dict(value.get(key) or {}).items()}
    patterns = dict(
        value.get("pattern_descriptors") or {}
    )  # arrays, as compute_rdms gives them; rsatoolbox's index a list
    value["pattern_descriptors"] = {k: list(np.ravel(v)) if k == "index" else np.ravel(v) for k, v in patterns.items()}
    return RDMs(
        np.asarray(value["dissimilarities"], dtype=float),
        dissimilarity_measure=value.get("dissimilarity_measure"),
        descriptors=value["descriptors"],
        rdm_descriptors=value["rdm_descriptors"],
        pattern_descriptors=value["pattern_descriptors"],
    )
