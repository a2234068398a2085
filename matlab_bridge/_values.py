"""MATLAB values as plain Python: structs, cells (``Cell``, keeping their shape), text, numbers.

The one conversion of what scipy and hdf5storage return into the values ``read_mat`` gives
(its module docstring says which); ``_hdf5`` builds the same values for Octave's own HDF5 files.
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

import numpy as np
import scipy.sparse


class Cell(list):
    """A MATLAB cell array as read: its elements in MATLAB's linear (column-major) order, and its shape.

    Attributes:
        shape: the cell's size as MATLAB gives it, e.g. (n_objects, n_views) for a 2-D cell.
    """

    def __init__(self, items: Iterable[Any] = (), shape: Iterable[int] | None = None) -> None:
        super().__init__(items)
        self.shape = (1, len(self)) if shape is None else tuple(int(n) for n in shape)
        if int(np.prod(self.shape)) != len(self):
            raise ValueError(f"a cell of shape {self.shape} holds {int(np.prod(self.shape))} elements, got {len(self)}")

    def to_array(self) -> np.ndarray:
        """The elements as an object array of ``shape`` (``[i, j]`` is MATLAB's ``{i+1, j+1}``)."""
        array = np.empty(len(self), dtype=object)
        for k, item in enumerate(self):
            array[k] = item
        return array.reshape(self.shape, order="F")

    def __repr__(self) -> str:
        return f"Cell({list(self)!r}, shape={self.shape})"


def to_python(value: Any) -> Any:
    """One MATLAB value as loaded by scipy or hdf5storage -> plain Python (see module docstring)."""
    if isinstance(value, (str, np.str_)):
        return str(value)
    if isinstance(value, bytes):
        return value.decode("utf-8")
    if value is None:  # scipy's reading of a struct with no fields
        return {}
    if isinstance(value, dict):  # hdf5storage's reading of a 1 x 1 struct
        return [{name: to_python(item) for name, item in value.items()}]
    if scipy.sparse.issparse(value):  # a MATLAB sparse matrix: its dense values
        return value.toarray()
    value = np.asarray(value)
    if value.dtype.names:  # struct array, column-major like MATLAB's linear indexing
        return [{name: to_python(item[name]) for name in value.dtype.names} for item in value.ravel(order="F")]
    if value.dtype.kind == "U":
        if value.size == 0:  # MATLAB's '' (a 0 x 0 char)
            return ""
        rows = [str(row) for row in value.ravel(order="F")]
        return rows[0] if len(rows) == 1 else rows
    if value.dtype == object:  # cell array
        return Cell([to_python(item) for item in value.ravel(order="F")], value.shape)
    return value if value.ndim >= 2 else np.atleast_2d(value)


def texts(value: object) -> list[str]:
    """A char (one text) or a cell of char as a list of str; anything else as an empty list."""
    if isinstance(value, str):
        return [value]
    return [str(v) for v in value] if isinstance(value, list) else []


def version_stamp() -> str:
    """What the bridge writes as ``version``: ``"rsa_mirror <version>"``."""
    from rsa_mirror._version import __version__

    return f"rsa_mirror {__version__}"
