"""Which stimulus each recorded row is, and which axis of a matrix holds the stimuli.

The rules of ``load_freiwald_tsao`` (its module docstring, rules 2 and 3) for the layout: the
files' metadata vectors (which must agree between files), a stated layout (which must agree
with them), and the orientation of each matrix (rows are stimuli unless said otherwise; a
matrix whose both dimensions fit the layout is refused rather than guessed).
"""

from __future__ import annotations

import dataclasses
from collections.abc import Mapping
from pathlib import Path
from typing import Any, Protocol, TypeVar

import numpy as np
import pandas as pd

from .errors import RecordingFormatError
from .layout import METADATA_NAMES, StimulusLayout, same_rows


class _Found(Protocol):
    """What ``orient`` reads of one patch's matrices as found in its file (``io._Patch``)."""

    @property
    def file(self) -> Path: ...

    @property
    def name(self) -> str: ...

    @property
    def responses(self) -> np.ndarray: ...

    @property
    def trials(self) -> np.ndarray | None: ...


_F = TypeVar("_F", bound=_Found)


def metadata_layout(file: Path, variables: Mapping[str, Any]) -> StimulusLayout | None:
    """The file's metadata vectors as a layout (None when it holds none)."""
    vectors: dict[str, np.ndarray] = {}
    for name in METADATA_NAMES:
        if name not in variables:
            continue
        value = variables[name]
        if isinstance(value, str):
            value = [value]
        if isinstance(value, list):
            if not all(isinstance(v, str) for v in value):
                raise RecordingFormatError(
                    f"{file}: metadata variable {name!r} must hold numbers or text, one per stimulus"
                )
            vectors[name] = np.array([v.rstrip() for v in value])
            continue
        array = np.asarray(value)
        if array.ndim > 2 or (array.ndim == 2 and min(array.shape) > 1) or array.dtype.kind not in "biuf":
            raise RecordingFormatError(
                f"{file}: metadata variable {name!r} must be a vector of numbers or a cell of text, one value per "
                f"stimulus; got {array.dtype} of shape {array.shape}"
            )
        vectors[name] = array.ravel()
    if not vectors:
        return None
    lengths = {name: len(v) for name, v in vectors.items()}
    if len(set(lengths.values())) > 1:
        raise RecordingFormatError(
            f"{file}: metadata vectors differ in length ({', '.join(f'{k} {v}' for k, v in lengths.items())}): "
            "each needs one value per stimulus"
        )
    names = ", ".join(vectors)
    return StimulusLayout.from_table(pd.DataFrame(vectors), source=f"the metadata vectors ({names}) in {file}")


def agreeing_metadata(layouts: Mapping[Path, StimulusLayout | None]) -> StimulusLayout | None:
    """One layout from the files' metadata, which must agree (None when no file has any)."""
    given = {file: layout for file, layout in layouts.items() if layout is not None}
    if not given:
        return None
    files = list(given)
    first = given[files[0]]
    if len(given) < len(layouts):
        without = [f.name for f, layout in layouts.items() if layout is None]
        raise RecordingFormatError(
            f"{files[0].parent}: {', '.join(f.name for f in files)} hold metadata vectors but {', '.join(without)} "
            "do not: the files must come from one export"
        )
    for file in files[1:]:
        difference = _difference(first.table, given[file].table)
        if difference:
            raise RecordingFormatError(f"{file}: its metadata vectors disagree with those of {files[0]}: {difference}")
    source = first.source if len(files) == 1 else f"the metadata vectors of {', '.join(f.name for f in files)}"
    return dataclasses.replace(first, source=source)


def _difference(a: pd.DataFrame, b: pd.DataFrame) -> str | None:
    """The first column and row where two files' metadata tables differ (numbers compared as numbers)."""
    if len(a) != len(b):
        return f"{len(a)} rows against {len(b)}"
    for key in ("identity", "view", "view_deg", "stimulus"):
        x, y = a[key].to_numpy(), b[key].to_numpy()
        if x.dtype.kind in "iuf" and y.dtype.kind in "iuf":
            differ = ~((x == y) | (np.isnan(x.astype(float)) & np.isnan(y.astype(float))))
        else:
            differ = x.astype(str) != y.astype(str)
        if differ.any():
            row = int(np.flatnonzero(differ)[0])
            return f"{key} of row {row} (0-based) is {x[row].tolist()!r} against {y[row].tolist()!r}"
    return None


def resolve_layout(stated: StimulusLayout | None, metadata: StimulusLayout | None, n_stimuli: int) -> StimulusLayout:
    """The layout of ``n_stimuli`` rows; a stated layout must describe the same rows as the metadata.

    At least one of ``stated`` and ``metadata`` is given.
    """
    if metadata is None or stated is None:
        chosen = metadata if stated is None else stated
        assert chosen is not None  # the caller states a layout when the files have none
        return chosen
    try:
        rows = stated.descriptors(n_stimuli)
    except ValueError as error:
        raise RecordingFormatError(f"the layout given does not fit {metadata.source}: {error}") from None
    difference = same_rows(rows, metadata.descriptors(n_stimuli))
    if difference:
        raise RecordingFormatError(
            f"the layout given ({stated.describe()}) disagrees with {metadata.source}: {difference}. Drop the "
            "layout (the metadata define it) or correct it"
        )
    return dataclasses.replace(
        metadata, source=f"{metadata.source}, which agree with {stated.source or 'the layout given'}"
    )


def orient(
    found: Mapping[str, _F], layout: StimulusLayout, orientation: str
) -> dict[str, tuple[_F, np.ndarray, np.ndarray | None]]:
    """Patch -> (item, responses (n_stimuli, n_neurons), trials or None), by the module's rule 3."""
    counts = set(layout.row_counts())
    if orientation == "auto" and layout.n_stimuli is None:
        # The patches of one recording share its stimuli: a count that only one dimension of
        # some matrix allows decides it for all.
        candidates = [set(item.responses.shape) & counts for item in found.values()]
        common = set.intersection(*candidates) if candidates else set()
        if len(common) == 1:
            counts = common
    oriented: dict[str, tuple[_F, np.ndarray, np.ndarray | None]] = {}
    for patch, item in found.items():
        responses, trials = item.responses, item.trials
        if orientation == "neurons-by-stimuli":
            responses = responses.T
            trials = None if trials is None else trials.swapaxes(0, 1)
        rows_fit, columns_fit = responses.shape[0] in counts, responses.shape[1] in counts
        where = f"{item.file}: variable {item.name!r} of shape {item.responses.shape}"
        if orientation == "auto" and rows_fit and columns_fit:
            raise RecordingFormatError(
                f"{where}: both dimensions fit the layout ({layout.describe(with_source=False)}), so it cannot tell "
                "whether rows are stimuli or neurons. Say it: orientation='stimuli-by-neurons' or "
                "'neurons-by-stimuli' (command line: --orientation), or state a layout that fixes the number of "
                "stimuli (a layout table --layout, metadata vectors in the file, or the exact views --views)"
            )
        if not rows_fit:
            fits = ", ".join(map(str, sorted(counts)))
            hint = ""
            if columns_fit and orientation == "auto":
                hint = (
                    f"; its {responses.shape[1]} columns fit: if it is stored neurons x stimuli, say "
                    "orientation='neurons-by-stimuli' (command line: --orientation neurons-by-stimuli)"
                )
            raise RecordingFormatError(
                f"{where}: {responses.shape[0]} {'columns' if orientation == 'neurons-by-stimuli' else 'rows'} do not "
                f"fit the layout of {layout.describe(with_source=False)}: expected "
                f"{'one of ' if len(counts) > 1 else ''}"
                f"{fits} rows (stimuli){hint}"
            )
        oriented[patch] = (item, responses, trials)
    return oriented
