"""Which identity and view each row of a recording shows: the stimulus layout.

A Freiwald-Tsao response matrix has one row per stimulus and one column per neuron. Which
identity and view a row shows is a property of the lab's export, stated once in one of three
ways (``StimulusLayout`` holds each, with ``source`` saying which):

1. **A grid**: n identities x views in ``"view-major"`` order (rows 0..n-1 are the n
   identities in the first view, the next n in the second, ...) or ``"identity-major"`` (all
   views of identity 0, then identity 1, ...). The FIV default is 25 identities x 8 views,
   view-major, views in the order

       left_profile (-90), left_half_profile (-45), frontal (0), right_half_profile (+45),
       right_profile (+90), up, down, back (180)

   and a file may hold the first k of them (125 rows: the five yaw views; 175: + up, down,
   the rows of the EIG-faces reanalysis; 200: + back), unless ``exact_views`` says the file
   holds exactly the views listed.
2. **A table** with one row per recorded row, in the file's row order (``from_table``: a CSV
   or TSV file, a DataFrame or a mapping of columns): ``identity`` (the lab's labels, numbers
   or text), and ``view`` (labels) and/or ``view_deg`` (yaw in degrees; ``yaw_deg`` and
   ``yaw`` are read as the same), optionally ``stimulus`` (the lab's stimulus numbers) and
   ``image`` (an image file per row). A numeric ``view`` column is a label (a view number),
   never degrees.
3. **Metadata vectors inside the .mat file**, the same names as the table's columns, one value
   per stimulus (numbers, or a cell array of text); the loader reads them as a table.

Yaw is in degrees, negative to the viewer's left, so yaw views run left to right; views off
the yaw circle (up, down) have no yaw (NaN). Labels are kept as given: identities numbered
1..25 by the lab stay 1..25. Only a grid generates labels: identities 0..n-1 and stimulus =
row index (0-based).
"""

from __future__ import annotations

import dataclasses
from collections.abc import Collection, Iterable, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from rsa_mirror._utils import check_count, check_option, format_indices
from rsa_mirror.errors import InvalidArgumentError, InvalidTypeError

from .errors import RecordingFormatError

FIV_VIEWS = (
    "left_profile",
    "left_half_profile",
    "frontal",
    "right_half_profile",
    "right_profile",
    "up",
    "down",
    "back",
)
FIV_YAW_DEG = (-90.0, -45.0, 0.0, 45.0, 90.0, np.nan, np.nan, 180.0)
# Names a layout table's columns, or a .mat file's metadata vectors, may have.
YAW_NAMES = ("view_deg", "yaw_deg", "yaw")
METADATA_NAMES = ("identity", "view", *YAW_NAMES, "stimulus", "image")
ORDERS = ("view-major", "identity-major", "table")
DEFAULT_SOURCE = "the FIV default, assumed: nothing stated the layout"


@dataclass(frozen=True)
class StimulusLayout:
    """Which identity and view each row of a (stimuli x neurons) matrix shows.

    Attributes:
        n_identities: identities per view (25 in the FIV set).
        views: view labels in the file's order.
        yaw_deg: yaw of each view in degrees (NaN for views off the yaw circle, e.g. up/down).
        order: ``"view-major"`` (all identities of view 0, then of view 1, ...),
            ``"identity-major"`` (all views of identity 0, then of identity 1, ...) or
            ``"table"`` (one explicit row per stimulus: ``table``; made by ``from_table``).
        exact_views: the file holds exactly ``views`` (so n_identities x len(views) rows);
            False (default): it may hold the first k views, k = 1..len(views).
        table: for ``order="table"``, a DataFrame with columns stimulus, identity, view,
            view_deg (and image when given), one row per recorded row.
        source: where the layout came from, for reports (``describe``).
    """

    n_identities: int = 25
    views: tuple[str, ...] = FIV_VIEWS
    yaw_deg: tuple[float, ...] = FIV_YAW_DEG
    order: str = "view-major"
    exact_views: bool = False
    table: pd.DataFrame | None = field(default=None, compare=False, repr=False)
    source: str = field(default="", compare=False)

    def __post_init__(self) -> None:
        check_option("order", self.order, ORDERS)
        if (self.order == "table") != (self.table is not None):
            raise InvalidArgumentError(
                "a layout has a table exactly when order='table'; build one with StimulusLayout.from_table"
            )
        check_count("n_identities", self.n_identities)
        if len(self.views) != len(self.yaw_deg) or not self.views:
            raise InvalidArgumentError(
                f"views and yaw_deg must have the same non-zero length, got {self.views} and {self.yaw_deg}"
            )
        check_yaw(np.asarray(self.yaw_deg, dtype=float), "yaw_deg", InvalidArgumentError)
        if len(set(self.views)) != len(self.views):
            raise InvalidArgumentError(f"view labels must be unique, got {self.views}")

    @classmethod
    def from_yaw(
        cls, yaw_deg: Iterable[float], *, n_identities: int = 25, order: str = "view-major", exact_views: bool = False
    ) -> StimulusLayout:
        """Layout of yaw views only, labelled with the FIV names where they apply (else 'yaw+30')."""
        yaw = tuple(float(v) for v in yaw_deg)
        return cls(n_identities, tuple(_yaw_name(v) for v in yaw), yaw, order, exact_views)

    @classmethod
    def from_views(
        cls, views: Iterable[str | float], *, n_identities: int = 25, order: str = "view-major"
    ) -> StimulusLayout:
        """Layout of exactly these views, each an FIV view name or a yaw in degrees ("-45").

        Raises:
            ValueError: a view that is neither an FIV name nor a number.
        """
        names, yaws = [], []
        for view in views:
            text = str(view).strip()
            if text in FIV_VIEWS:
                names.append(text)
                yaws.append(FIV_YAW_DEG[FIV_VIEWS.index(text)])
                continue
            try:
                yaw = float(text)
            except ValueError:
                raise InvalidArgumentError(
                    f"Invalid view {text!r}: give FIV view names ({', '.join(FIV_VIEWS)}) or yaw angles in degrees "
                    "(e.g. -90 -45 0 45 90)"
                ) from None
            names.append(_yaw_name(yaw))
            yaws.append(yaw)
        return cls(int(n_identities), tuple(names), tuple(yaws), order, exact_views=True)

    @classmethod
    def from_table(
        cls, table: str | Path | pd.DataFrame | Mapping[str, Any], *, source: str | None = None
    ) -> StimulusLayout:
        """Layout from one row per recorded row (module docstring, point 2).

        Args:
            table: path of a CSV (``.csv``) or TSV (``.tsv``, ``.txt``) file with a header
                line, a pandas DataFrame, or a mapping column -> sequence.
            source: how ``describe`` names it (default: the file, or "a layout table").

        Raises:
            RecordingFormatError: unreadable file; no ``identity`` column; neither ``view``
                nor a yaw column; missing values; view labels that are numbers, or names
                unknown to the FIV set, without a yaw column; a view label with two yaws; two
                views with one yaw; an identity shown twice in one view (naming the rows).
        """
        where = source or "layout table"
        if isinstance(table, (str, Path)):
            where = f"layout table {table}"
            frame = _read_table(Path(table))
            source = source or f"the layout table {table}"
        elif isinstance(table, pd.DataFrame):
            frame = table.reset_index(drop=True)
        elif isinstance(table, Mapping):
            frame = pd.DataFrame({k: list(np.ravel(v)) if not isinstance(v, str) else [v] for k, v in table.items()})
        else:
            raise InvalidTypeError(f"table must be a path, a DataFrame or a mapping, got {type(table).__name__}")
        rows = _rows(frame, where)
        views = tuple(dict.fromkeys(rows["view"].tolist()))
        first = [int(np.flatnonzero(rows["view"] == view)[0]) for view in views]
        return cls(
            n_identities=len(set(rows["identity"].tolist())),
            views=views,
            yaw_deg=tuple(float(rows["view_deg"][i]) for i in first),
            order="table",
            exact_views=True,
            table=pd.DataFrame(rows),
            source=source or "a layout table",
        )

    @property
    def n_stimuli(self) -> int | None:
        """Rows the layout fixes, or None when a file may hold the first k views."""
        if self.table is not None:
            return len(self.table)
        return self.n_identities * len(self.views) if self.exact_views else None

    def row_counts(self) -> tuple[int, ...]:
        """Every number of rows a file in this layout can have."""
        if self.n_stimuli is not None:
            return (self.n_stimuli,)
        return tuple(self.n_identities * k for k in range(1, len(self.views) + 1))

    def n_views_in(self, n_rows: int) -> int:
        """Number of the layout's views present in a file of ``n_rows`` rows.

        Raises:
            ValueError: ``n_rows`` is not one of ``row_counts()``.
        """
        if int(n_rows) not in self.row_counts():
            fits = ", ".join(map(str, self.row_counts()))
            raise InvalidArgumentError(
                f"{n_rows} rows do not fit the layout of {self.describe(with_source=False)}: expected "
                f"{'one of ' if len(self.row_counts()) > 1 else ''}{fits} rows"
            )
        return len(self.views) if self.n_stimuli is not None else int(n_rows) // self.n_identities

    def present(self, n_rows: int) -> StimulusLayout:
        """The layout of a file of ``n_rows`` rows: its views only, the number of rows fixed."""
        n_views = self.n_views_in(n_rows)
        if self.n_stimuli is not None:
            return self
        return dataclasses.replace(self, views=self.views[:n_views], yaw_deg=self.yaw_deg[:n_views], exact_views=True)

    def descriptors(self, n_rows: int) -> dict[str, np.ndarray]:
        """Per-row descriptors: ``stimulus``, ``identity``, ``view``, ``view_deg`` (and ``image``)."""
        n_views = self.n_views_in(n_rows)
        if self.table is not None:
            return {key: self.table[key].to_numpy().copy() for key in self.table.columns}
        view_index, identity = np.divmod(np.arange(n_rows), self.n_identities)
        if self.order == "identity-major":
            identity, view_index = np.divmod(np.arange(n_rows), n_views)
        return {
            "stimulus": np.arange(n_rows),
            "identity": identity,
            "view": np.asarray(self.views[:n_views])[view_index],
            "view_deg": np.asarray(self.yaw_deg[:n_views], dtype=float)[view_index],
        }

    def to_frame(self, n_rows: int | None = None) -> pd.DataFrame:
        """One row per recorded row (what ``from_table`` reads back); ``n_rows`` for a grid."""
        n_rows = self.n_stimuli if n_rows is None else n_rows
        if n_rows is None:
            raise InvalidArgumentError("this layout may hold the first k views: say n_rows")
        return pd.DataFrame(self.descriptors(n_rows))

    def select_views(self, views: Collection[str]) -> StimulusLayout:
        """The layout of the rows showing ``views`` only (rows keep their order)."""
        if self.table is not None:
            kept = self.table[self.table["view"].isin(list(views))]
            return StimulusLayout.from_table(kept, source=self.source)
        index = [i for i, view in enumerate(self.views) if view in views]
        return dataclasses.replace(
            self,
            views=tuple(self.views[i] for i in index),
            yaw_deg=tuple(self.yaw_deg[i] for i in index),
            exact_views=True,
        )

    def describe(self, *, with_source: bool = True) -> str:
        """One line: the layout and where it came from."""
        views = ", ".join(
            f"{v} ({y:+g})" if np.isfinite(y) else str(v) for v, y in zip(self.views, self.yaw_deg, strict=True)
        )
        if self.table is not None:
            n_rows, n_views = len(self.table), len(self.views)
            text = f"{n_rows} rows: {self.n_identities} identities x {n_views} views [{views}], rows as listed"
        else:
            partial = "" if self.n_stimuli is not None else "; a file may hold the first k views"
            text = f"{self.n_identities} identities x {len(self.views)} views [{views}], {self.order}{partial}"
        return f"{text}; {self.source or 'as given'}" if with_source else text


def same_rows(a: Mapping[str, Any], b: Mapping[str, Any]) -> str | None:
    """None when two per-row descriptor sets describe the same design, else the first difference.

    The same design: equal yaw on every row (NaN = NaN), and rows grouped into the same
    identities (the labels themselves may differ, e.g. 0..24 against a lab's 1..25).
    """
    yaw_a, yaw_b = np.asarray(a["view_deg"], dtype=float), np.asarray(b["view_deg"], dtype=float)
    if yaw_a.shape != yaw_b.shape:
        return f"{len(yaw_a)} rows against {len(yaw_b)}"
    differ = np.flatnonzero(~((yaw_a == yaw_b) | (np.isnan(yaw_a) & np.isnan(yaw_b))))
    if len(differ):
        k = differ[0]
        return f"row {k} (0-based) has yaw {yaw_a[k]:g} against {yaw_b[k]:g} ({len(differ)} rows differ)"
    ids_a = pd.factorize(pd.Series(a["identity"]).astype(str))[0]
    ids_b = pd.factorize(pd.Series(b["identity"]).astype(str))[0]
    differ = np.flatnonzero(ids_a != ids_b)
    if len(differ):
        k = differ[0]
        return (
            f"row {k} (0-based) shows identity {np.asarray(a['identity'])[k].tolist()!r} against "
            f"{np.asarray(b['identity'])[k].tolist()!r}, which group "
            f"the rows into different identities ({len(differ)} rows differ)"
        )
    return None


def check_yaw(yaw: np.ndarray, what: str, error: type[Exception]) -> None:
    """Refuse yaw angles that are infinite, outside [-180, 180], or that name the back view twice."""
    finite = yaw[np.isfinite(yaw)]
    bad = np.flatnonzero(np.isinf(yaw) | (np.abs(np.nan_to_num(yaw)) > 180))
    if len(bad):
        raise error(
            f"{what} must be in degrees from -180 to 180 (NaN for views off the yaw circle); "
            f"got {yaw[bad[0]]:g} at row {bad[0]} (0-based)"
        )
    if 180 in finite and -180 in finite:
        raise error(f"{what}: 180 and -180 are the same (back) view; give it one yaw")


def _yaw_name(yaw: float) -> str:
    named = dict(zip(FIV_YAW_DEG[:5], FIV_VIEWS[:5], strict=True))
    return named.get(yaw, f"yaw{yaw:+g}")


def _read_table(path: Path) -> pd.DataFrame:
    if not path.is_file():
        raise FileNotFoundError(f"no layout table at {path}")
    separator = {".csv": ",", ".tsv": "\t", ".txt": "\t"}.get(path.suffix.lower())
    try:
        return pd.read_csv(path, sep=separator, engine="python" if separator is None else "c", skipinitialspace=True)
    except (ValueError, pd.errors.ParserError, UnicodeDecodeError) as error:
        raise RecordingFormatError(f"layout table {path}: cannot be read as CSV/TSV ({error})") from None


def _rows(frame: pd.DataFrame, where: str) -> dict[str, np.ndarray]:
    """Validated per-row columns stimulus, identity, view, view_deg (and image) of a layout table."""
    columns = {str(c).strip().lower(): c for c in frame.columns}
    n = len(frame)
    if n == 0:
        raise RecordingFormatError(f"{where}: has no rows")
    if "identity" not in columns:
        raise RecordingFormatError(
            f"{where}: needs a column 'identity' (and 'view' or 'view_deg'); it has "
            f"{', '.join(map(str, frame.columns))}"
        )
    rows: dict[str, np.ndarray] = {}
    if "stimulus" in columns:
        rows["stimulus"] = _labels(frame[columns["stimulus"]], "stimulus", where)
    else:
        rows["stimulus"] = np.arange(n)
    rows["identity"] = _labels(frame[columns["identity"]], "identity", where)
    yaw = _yaw(frame, columns, where)
    if "view" in columns:
        view = frame[columns["view"]]
        numeric = pd.to_numeric(view, errors="coerce")
        if numeric.notna().all() and yaw is None:
            raise RecordingFormatError(
                f"{where}: 'view' holds numbers ({', '.join(map(str, pd.unique(numeric)[:5]))}, ...), which could be "
                "view numbers or degrees: give the yaw in degrees as 'view_deg' (then 'view' is a label) or name the "
                "views"
            )
        labels = _labels(view, "view", where).astype(str)
        if yaw is None:
            unknown = sorted(set(labels.tolist()) - set(FIV_VIEWS))
            if unknown:
                raise RecordingFormatError(
                    f"{where}: view labels {unknown} are not FIV view names ({', '.join(FIV_VIEWS)}): add a "
                    "column 'view_deg' with each row's yaw in degrees (empty for up/down)"
                )
            yaw = np.array([FIV_YAW_DEG[FIV_VIEWS.index(v)] for v in labels])
    elif yaw is None:
        raise RecordingFormatError(f"{where}: needs 'view' (labels) or 'view_deg' (yaw in degrees) besides 'identity'")
    else:
        missing = np.flatnonzero(np.isnan(yaw))
        if len(missing):
            raise RecordingFormatError(
                f"{where}: rows {format_indices(missing)} (0-based) have no yaw and no 'view' label to name them"
            )
        labels = np.array([_yaw_name(float(v)) for v in yaw])
    rows["view"], rows["view_deg"] = labels, yaw.astype(float)
    check_yaw(rows["view_deg"], f"{where}: yaw", RecordingFormatError)
    _check_views(labels, rows["view_deg"], where)
    _check_unique(rows["identity"], labels, where)
    if "image" in columns:
        rows["image"] = _labels(frame[columns["image"]], "image", where).astype(str)
    return rows


def _labels(column: pd.Series, name: str, where: str) -> np.ndarray:
    """A label column: integers when every value is a whole number, else text; no blanks."""
    values = pd.Series(column).reset_index(drop=True)
    blank = values.isna() | (values.astype(str).str.strip() == "")
    if blank.any():
        raise RecordingFormatError(
            f"{where}: '{name}' is empty at rows {format_indices(np.flatnonzero(blank))} (0-based)"
        )
    numeric = pd.to_numeric(values, errors="coerce")
    if numeric.notna().all() and np.all(np.mod(numeric, 1) == 0):
        return numeric.to_numpy().astype(np.int64)
    if numeric.notna().all():
        return numeric.to_numpy().astype(float)
    return values.astype(str).str.strip().to_numpy().astype(str)


def _yaw(frame: pd.DataFrame, columns: Mapping[str, Any], where: str) -> np.ndarray | None:
    found = [name for name in YAW_NAMES if name in columns]
    if not found:
        return None
    values: list[np.ndarray] = []
    for name in found:
        column = frame[columns[name]]
        numeric = pd.to_numeric(column, errors="coerce")
        bad = numeric.isna() & column.notna() & (column.astype(str).str.strip().str.lower() != "nan")
        if bad.any():
            rows = np.flatnonzero(bad)
            raise RecordingFormatError(
                f"{where}: '{name}' must hold yaw angles in degrees (empty for views off the yaw circle); rows "
                f"{format_indices(rows)} (0-based) hold {column.iloc[rows[0]]!r}"
            )
        values.append(numeric.to_numpy(dtype=float))
    for name, other in zip(found[1:], values[1:], strict=True):
        if not np.array_equal(values[0], other, equal_nan=True):
            raise RecordingFormatError(f"{where}: '{found[0]}' and '{name}' both give the yaw and disagree")
    return values[0]


def _check_views(labels: np.ndarray, yaw: np.ndarray, where: str) -> None:
    for view in dict.fromkeys(labels.tolist()):
        angles = np.unique(yaw[labels == view])
        if len(angles) > 1 and not np.all(np.isnan(angles)):
            raise RecordingFormatError(f"{where}: view {view!r} has several yaws: {angles.tolist()}")
    named: dict[float, str] = {}
    for view, angle in zip(labels.tolist(), yaw.tolist(), strict=True):
        if np.isfinite(angle) and named.setdefault(angle, view) != view:
            raise RecordingFormatError(f"{where}: views {named[angle]!r} and {view!r} have the same yaw {angle:g}")


def _check_unique(identity: np.ndarray, labels: np.ndarray, where: str) -> None:
    pairs = pd.DataFrame({"identity": identity, "view": labels})
    repeated = pairs.duplicated(keep=False)
    if repeated.any():
        rows = np.flatnonzero(repeated)
        identity, view = identity[rows[0]].tolist(), labels[rows[0]].tolist()
        raise RecordingFormatError(
            f"{where}: identity {identity!r} in view {view!r} appears more than once (rows "
            f"{format_indices(rows)}, 0-based): each row must be a different stimulus"
        )
