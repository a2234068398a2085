"""RDMs to and from .mat files in the struct layout of the MATLAB RSA toolbox.

Written layout (one file, three variables; ``RDMs`` is the variable name by default):

- ``RDMs``: a 1 x N struct array with fields ``RDM`` (n x n double, symmetric, zero diagonal),
  ``name`` (char row) and ``color`` (1 x 3 double in [0, 1]), as the MATLAB RSA toolbox
  (rsagroup/rsatoolbox_matlab) uses them, plus one field per other rdm descriptor (e.g.
  ``n_units``, ``layer``, ``patch``).
- ``RDMs_patterns``: a struct with one field per pattern descriptor (identity, view_deg,
  category, ...): numbers as n x 1 double, text as n x 1 cell of char.
- ``RDMs_info``: ``format``, ``version``, ``dissimilarity_measure``, ``names``, a K x 2 cell
  {MATLAB name, Python name} for every name that had to be changed to be a valid MATLAB
  identifier (so loading restores it), ``labels``: the pattern descriptors, which are labels
  (identity, view, stimulus, ...: as the recordings or stimuli label them; labels generated
  from a row layout count from 0), and ``positions``: how stimuli are addressed (row and
  column k of every RDM is the k-th entry of the pattern descriptors, k counted from 1 in
  MATLAB).

``load_rdms`` reads that layout and what MATLAB users hold: 3-D stacks [n x n x N], single
n x n matrices, vectors in squareform order (1 x n(n-1)/2, or K x n(n-1)/2 for K of them),
struct arrays with an ``RDM`` field (either orientation, matrix or vector entries), and cell
arrays of matrices; files written by MATLAB, Octave or us; v7.3 too. Asymmetric or
non-zero-diagonal input is an error naming the offending cells, never silently fixed.
"""

from __future__ import annotations

import math
import re
from collections.abc import Mapping
from pathlib import Path
from typing import TYPE_CHECKING, Any

import numpy as np
from rsatoolbox.rdm import RDMs
from scipy.spatial.distance import squareform

from rsa_mirror._utils import check_option
from rsa_mirror.errors import InvalidArgumentError, InvalidTypeError

from ._matfile import MAX_NAME, MatFormatError, check_matlab_name, read_mat, write_mat
from ._values import texts, version_stamp

if TYPE_CHECKING:
    from rsa_mirror._typing import PathLike

FORMAT_NAME = "rsa_mirror RDMs"
_RESERVED = ("RDM", "name", "color")


def save_rdms(
    path: PathLike, rdms: RDMs, *, format: str = "v7", long_field_names: bool | None = None, variable: str = "RDMs"
) -> Path:
    """Write rsatoolbox ``RDMs`` as a MATLAB RSA toolbox struct array (module docstring).

    Args:
        path: target .mat file (written atomically).
        rdms: rsatoolbox ``RDMs``.
        format: ``"v7"`` (default) or ``"v7.3"`` (HDF5; automatic beyond v7's 2 GB).
        long_field_names: allow field names of up to 63 characters; default: only when a
            descriptor name needs it (longer names are shortened reversibly).
        variable: name of the struct array variable (companions get ``_patterns``/``_info``).

    Returns:
        The path written.

    Raises:
        InvalidTypeError: ``rdms`` is not rsatoolbox ``RDMs``.
        InvalidArgumentError: an unknown ``format`` or ``long_field_names``, or a ``variable``
            that is no MATLAB name (at most 54 characters, leaving room for ``_patterns``).
    """
    if not isinstance(rdms, RDMs):
        raise InvalidTypeError(f"Invalid type for 'rdms': expected rsatoolbox RDMs, got {type(rdms).__name__}")
    check_option("format", format, ("v7", "v7.3"))
    check_option("long_field_names", long_field_names, (None, True, False))
    check_matlab_name(variable, "value for 'variable'")
    if len(variable) > 63 - len("_patterns"):
        raise InvalidArgumentError(
            f"Invalid value for 'variable': expected at most {63 - len('_patterns')} characters (its companion "
            f"{variable}_patterns must fit MATLAB's 63), got {variable!r}"
        )
    matrices = rdms.get_matrices()
    names_used: set[str] = set()
    renamed: list[list[str]] = []

    def field(name: str) -> str:
        matlab = matlab_name(name, names_used, long_field_names is not False)
        if matlab != name:
            renamed.append([matlab, name])
        return matlab

    descriptors = {k: v for k, v in rdms.rdm_descriptors.items() if k not in ("index", "name", "color")}
    extra = {field(k): v for k, v in descriptors.items()}
    names = rdms.rdm_descriptors.get("name", [f"RDM {i + 1}" for i in range(rdms.n_rdm)])
    colors = rdms.rdm_descriptors.get("color", _default_colors(rdms.n_rdm))
    struct = np.empty((1, rdms.n_rdm), dtype=[(k, object) for k in (*_RESERVED, *extra)])
    for i in range(rdms.n_rdm):
        values = [matrices[i], str(names[i]), np.asarray(colors[i], dtype=float).reshape(1, 3)]
        struct[0, i] = (*values, *(_matlab_value(v[i]) for v in extra.values()))
    names_used.clear()
    patterns = {field(k): _column(v, rdms.n_cond) for k, v in rdms.pattern_descriptors.items() if k != "index"}
    integers = [
        k
        for k, v in {**descriptors, **rdms.pattern_descriptors}.items()
        if k != "index" and np.asarray(v).dtype.kind in "biu"
    ]
    info: dict[str, Any] = {
        "format": FORMAT_NAME,
        "version": version_stamp(),
        "dissimilarity_measure": str(rdms.dissimilarity_measure or ""),
        "names": np.array(renamed, dtype=object).reshape(-1, 2),
        "integers": np.array(integers, dtype=object).reshape(1, -1),
        "labels": np.array([k for k in patterns], dtype=object).reshape(1, -1),
        "positions": "RDM row/column k (1-based) is entry k of every pattern descriptor; descriptors are labels",
    }
    long_names = any(len(k) > MAX_NAME[False] for k in (*extra, *patterns))
    variables = {variable: struct, f"{variable}_patterns": patterns, f"{variable}_info": info}
    return write_mat(path, variables, format=format, long_field_names=long_names)


def load_rdms(path: PathLike, *, variable: str | None = None, atol: float = 1e-10) -> RDMs:
    """Read RDMs from a .mat file in any of the layouts of the module docstring.

    Args:
        path: .mat file (v4-v7 or v7.3; written by MATLAB, Octave or ``save_rdms``).
        variable: which variable holds the RDMs; default ``RDMs``, else ``RDM``, else the only
            numeric, cell or struct variable in the file.
        atol: tolerance of the symmetry and zero-diagonal checks.

    Returns:
        rsatoolbox ``RDMs`` (descriptors restored from a ``save_rdms`` file).

    Raises:
        MatFormatError: unreadable file, missing variable (the message lists those present),
            non-square or asymmetric matrices, non-zero diagonals, NaN/Inf (with the offending
            indices, 1-based as in MATLAB), vectors of no triangular length, RDMs of different
            sizes, or an empty struct array.
        InvalidArgumentError: ``atol`` not a finite number >= 0.
        InvalidTypeError: ``variable`` not a str (or None).
    """
    if variable is not None and not isinstance(variable, str):
        raise InvalidTypeError(f"Invalid type for 'variable': expected a str or None, got {type(variable).__name__}")
    if (
        isinstance(atol, bool)
        or not isinstance(atol, (int, float, np.integer, np.floating))
        or not (math.isfinite(atol) and atol >= 0)
    ):
        raise InvalidArgumentError(f"Invalid value for 'atol': expected a finite number >= 0, got {atol!r}")
    contents = read_mat(path)
    variable = _choose_variable(path, contents, variable)
    value = contents[variable]
    rdm_descriptors: dict[str, Any] = {}
    names: list[Any] | None = None
    matrices: list[np.ndarray]
    if isinstance(value, list) and value and isinstance(value[0], dict):  # struct array
        if "RDM" not in value[0]:
            raise MatFormatError(f"{path}: struct {variable!r} has no field 'RDM' (fields: {', '.join(value[0])})")
        matrices = [_as_matrix(path, f"{variable}({i + 1}).RDM", s["RDM"], atol) for i, s in enumerate(value)]
        names = [s.get("name", f"RDM {i + 1}") for i, s in enumerate(value)]
        if "color" in value[0]:
            rdm_descriptors["color"] = [
                _color(path, f"{variable}({i + 1}).color", s["color"]) for i, s in enumerate(value)
            ]
        for key in value[0]:
            if key not in _RESERVED:
                rdm_descriptors[key] = [_python_value(s[key]) for s in value]
    elif isinstance(value, list):  # cell array of matrices or vectors
        if not value:
            raise MatFormatError(f"{path}: {variable!r} is empty (an empty struct or cell array): it holds no RDMs")
        matrices = [_as_matrix(path, f"{variable}{{{i + 1}}}", m, atol) for i, m in enumerate(value)]
    else:
        matrices = _numeric_rdms(path, variable, np.asarray(value, dtype=float), atol)
    sizes = sorted({len(m) for m in matrices})
    if len(sizes) > 1:
        raise MatFormatError(f"{path}: {variable!r} mixes RDMs of {sizes} stimuli; all must cover the same stimuli")
    if names is not None:
        rdm_descriptors["name"] = [str(n) for n in names]
    info = contents.get(f"{variable}_info")
    info = info[0] if isinstance(info, list) and info and info[0].get("format") == FORMAT_NAME else {}
    pairs = np.asarray(info.get("names", []), dtype=object).reshape(-1, 2)
    renamed = {str(m): str(p) for m, p in pairs}
    integers = set(texts(info.get("integers", [])))
    patterns = contents.get(f"{variable}_patterns")
    pattern_descriptors: dict[str, Any] = {}
    if isinstance(patterns, list) and patterns:
        pattern_descriptors = {renamed.get(k, k): _pattern_values(v) for k, v in patterns[0].items()}
    for key, values in pattern_descriptors.items():
        if len(values) != sizes[0]:
            raise MatFormatError(
                f"{path}: {variable}_patterns.{key} has {len(values)} values for RDMs of {sizes[0]} stimuli"
            )
    rdm_descriptors = {renamed.get(k, k): v for k, v in rdm_descriptors.items()}
    for descriptors in (pattern_descriptors, rdm_descriptors):
        for key in integers & set(descriptors):
            descriptors[key] = _integers(path, key, descriptors[key])
    measure = info.get("dissimilarity_measure") or None
    return RDMs(
        np.stack([squareform(m, checks=False) for m in matrices]),
        dissimilarity_measure=measure,
        rdm_descriptors=rdm_descriptors,
        pattern_descriptors=pattern_descriptors,
    )


def matlab_name(name: object, used: set[str], long_field_names: bool = True) -> str:
    """A valid, unused MATLAB identifier for ``name`` (letters, digits, '_'; a letter first).

    Invalid characters become '_', a leading non-letter gets 'x' before it, names are cut to
    63 (or 31) characters, and clashes get a numeric suffix. ``used`` collects the results.
    """
    limit = MAX_NAME[bool(long_field_names)]
    candidate = re.sub(r"[^A-Za-z0-9_]", "_", str(name))
    if not candidate or not candidate[0].isalpha():
        candidate = "x" + candidate
    candidate = candidate[:limit]
    base, k = candidate, 1
    while candidate in used:
        suffix = f"_{k}"
        candidate, k = base[: limit - len(suffix)] + suffix, k + 1
    used.add(candidate)
    return candidate


def _choose_variable(path: PathLike, contents: Mapping[str, Any], variable: str | None) -> str:
    if variable is not None:
        if variable not in contents:
            raise MatFormatError(f"{path}: no variable {variable!r}; the file holds {', '.join(contents) or 'nothing'}")
        return variable
    for candidate in ("RDMs", "RDM"):
        if candidate in contents:
            return candidate
    usable = [k for k, v in contents.items() if not isinstance(v, str) and not k.endswith(("_patterns", "_info"))]
    if len(usable) != 1:
        raise MatFormatError(
            f"{path}: cannot tell which variable holds the RDMs ({', '.join(contents) or 'none'}); pass variable="
        )
    return usable[0]


def _numeric_rdms(path: PathLike, variable: str, array: np.ndarray, atol: float) -> list[np.ndarray]:
    """A 3-D stack, one square matrix, or squareform vectors (one per row)."""
    if array.ndim == 3:
        return [_as_matrix(path, f"{variable}(:,:,{i + 1})", array[:, :, i], atol) for i in range(array.shape[2])]
    if array.ndim == 2 and array.shape[0] == array.shape[1] and array.shape[0] > 1:
        return [_as_matrix(path, variable, array, atol)]
    if array.ndim == 2:
        rows = array if array.shape[0] != 1 and array.shape[1] != 1 else array.reshape(1, -1)
        return [_as_matrix(path, f"{variable}({i + 1},:)", row, atol) for i, row in enumerate(rows)]
    raise MatFormatError(f"{path}: {variable!r} of shape {array.shape} is not an RDM, a stack or RDM vectors")


def _as_matrix(path: PathLike, where: str, value: object, atol: float) -> np.ndarray:
    """Check one RDM (matrix or squareform vector) and return it as a square float matrix."""
    if isinstance(value, (list, str, dict)):
        raise MatFormatError(f"{path}: {where} is not numeric")
    array = np.asarray(value, dtype=float)
    if array.ndim == 1 or (array.ndim == 2 and 1 in array.shape and array.size > 1):
        n = (1 + np.sqrt(1 + 8 * array.size)) / 2
        if n != int(n):
            raise MatFormatError(
                f"{path}: {where} is a vector of length {array.size}, not n(n-1)/2 for any n (squareform order)"
            )
        array = squareform(array.ravel(), checks=False)
    if array.ndim != 2 or array.shape[0] != array.shape[1] or array.shape[0] < 2:
        raise MatFormatError(f"{path}: {where} of shape {array.shape} is not a square RDM")
    bad = np.argwhere(~np.isfinite(array))
    if len(bad):
        raise MatFormatError(f"{path}: {where} holds NaN or Inf at {_cells(bad)} (row, column; 1-based)")
    diagonal = np.flatnonzero(np.abs(np.diag(array)) > atol)
    if len(diagonal):
        raise MatFormatError(f"{path}: {where} has a non-zero diagonal at {_cells(np.c_[diagonal, diagonal])}")
    asymmetric = np.argwhere(np.triu(np.abs(array - array.T) > atol * max(1.0, np.abs(array).max())))
    if len(asymmetric):
        raise MatFormatError(f"{path}: {where} is not symmetric at {_cells(asymmetric)} (and their mirror cells)")
    return array


def _color(path: PathLike, where: str, value: object) -> np.ndarray:
    color = np.asarray(value).ravel() if not isinstance(value, (str, list)) else np.array([])
    if color.dtype.kind not in "biuf" or color.size != 3:
        raise MatFormatError(f"{path}: {where} must be 3 numbers (RGB), got {value!r}")
    return color.astype(float)


def _integers(path: PathLike, key: str, values: object) -> np.ndarray:
    """A descriptor recorded as integers in the file's info, checked to hold whole numbers."""
    array = np.asarray(values)
    if array.dtype.kind not in "biuf" or not np.all(np.isfinite(array) & (np.mod(array, 1) == 0)):
        raise MatFormatError(f"{path}: descriptor {key!r} is listed as integers but holds {array.ravel()[:5]!r} ...")
    return array.astype(np.int64)


def _cells(indices: np.ndarray, limit: int = 5) -> str:
    shown = ", ".join(f"({i + 1}, {j + 1})" for i, j in indices[:limit])
    return shown + (f" ... ({len(indices)} in all)" if len(indices) > limit else "")


def _matlab_value(value: object) -> np.ndarray | str:
    """One rdm descriptor value in MATLAB form: numbers -> double, text -> char, None -> []."""
    if value is None:
        return np.zeros((0, 0))
    if isinstance(value, (str, np.str_)):
        return str(value)
    array = np.asarray(value)
    return array.astype(float) if array.dtype.kind in "biuf" else str(value)


def _python_value(value: object) -> Any:
    return value.item() if isinstance(value, np.ndarray) and value.size == 1 else value


def _column(values: object, n: int) -> np.ndarray:
    values = np.asarray(values)
    if values.dtype.kind in "biuf":
        return values.astype(float).reshape(n, 1)
    return np.array([str(v) for v in values], dtype=object).reshape(n, 1)


def _pattern_values(value: object) -> np.ndarray:
    if isinstance(value, list):
        return np.array([str(v) for v in value])
    return np.asarray(value).ravel()


def _default_colors(n: int) -> list[tuple[float, float, float]]:
    from matplotlib import colormaps

    return [colormaps["tab10"](i % 10)[:3] for i in range(n)]
