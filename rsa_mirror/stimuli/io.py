"""Stimulus sets from files: .npz, a folder of images, a .mat cell array of images.

``load_stimuli`` reads a set saved by ``StimulusSet.save`` (.npz), a folder of images with a
descriptor table, or a .mat cell array of images (through ``matlab_bridge.read_mat``) in the
authors' released layout or the objects x views one; every loader validates and names the file
in its errors and never unpickles.
"""

from __future__ import annotations

import os
import re
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any

import numpy as np
import numpy.typing as npt

from .._typing import PathLike
from .._utils import NPY_READ_ERRORS, check_option, format_indices
from ..errors import DataError, FileFormatError, InvalidArgumentError, InvalidTypeError
from .base import StimulusSet, unit_images
from .objects import PAPER_VIEWS_DEG

MAT_LAYOUTS = ("released", "objects_x_views")  # the layouts of cm_imgs that load_stimuli reads


def load_stimuli(
    path: PathLike,
    *,
    views_deg: npt.ArrayLike | None = None,
    background: float = 0.5,
    layout: str | None = None,
    names: PathLike | Sequence[str] | None = None,
) -> StimulusSet:
    """Read a stimulus set from a .npz, a folder of images with a descriptor table, or a .mat.

    - ``.npz``: written by ``StimulusSet.save``.
    - A folder holding ``descriptors.csv``: one row per image, a column ``file`` (image path
      relative to the folder: PNG, JPEG, TIFF, ...) and any descriptor columns (``object``,
      ``category``, ``view_deg``, ...). Images are read as gray in [0, 1]; all must have the
      same size. ``background`` is their background gray level.
    - ``.mat`` holding a 2-D cell array ``cm_imgs`` (one gray or RGB image per cell, an integer
      type or double in [0, 1], RGB averaged to gray), optionally ``cm_bw_masks`` (a binary
      mask per image, shaped like ``cm_imgs``), and names (``names`` in the file, or the
      ``names`` argument), in one of two layouts (``MAT_LAYOUTS``):

      - ``"released"``, the authors' published file: ``cm_imgs`` is (n_views * n_exemplars) x
        n_categories, row (v-1)*E+e (counting from 1) holding exemplar e of view v and column c
        category c; ``names`` holds the category names. Images come category by category,
        exemplar by exemplar, views left to right, with descriptors ``category`` (the name),
        ``exemplar`` (counted from 0, as ``render_objects`` does: row e of the file is
        exemplar e-1), ``object`` (``"car_00"``) and ``view_deg``. Views are ``views_deg``
        (default the paper's nine yaws, -90..90 in 22.5 degree steps).
      - ``"objects_x_views"``: ``cm_imgs`` is n_objects x n_views, ``names`` one name per
        object; descriptors ``object`` (the name), ``category`` (the name without its trailing
        exemplar number, ``"car_07"`` -> ``"car"``) and ``view_deg`` (``views_deg``; default
        the paper's nine when there are nine columns).

      ``layout=None`` takes the one layout the shape fits and refuses a file both fit (a
      square cell with one exemplar per category, e.g. 9 x 9 with nine names), or none.

    Integer images (uint8, uint16, int16, ...) are divided by their dtype's maximum
    (``np.iinfo(dtype).max``: 255 for uint8, 65535 for uint16); float images must already lie in
    [0, 1]. Arrays are never unpickled.

    Args:
        path: the .npz, .mat or folder.
        views_deg: yaw of each view in degrees, left to right (.mat files).
        background: gray level of the background, in [0, 1] (folders and .mat files; a .npz
            stores its own).
        layout: ``"released"``, ``"objects_x_views"`` or None (from the shape, when it fits
            one layout only); .mat files only.
        names: the names of ``cm_imgs``'s rows (objects) or columns (categories), when the
            file holds no ``names`` or holds others: a path to a .mat file holding ``names``
            (or a single text variable), or a list of strings; .mat files only.

    Raises:
        FileNotFoundError: no such file or folder, no names file, or an image file listed but
            missing.
        FileFormatError: an unsupported, unreadable or inconsistent file, named with the image,
            variable or entry and the problem; a .mat whose layout is ambiguous (the message
            says to pass ``layout``) or fits neither layout.
        InvalidArgumentError: an unknown ``layout``, ``views_deg`` or ``names`` that are not
            what they should be, or ``layout``/``names`` given for a file that is not a .mat.
    """
    path = Path(path)
    if not path.exists():
        raise FileNotFoundError(f"no stimulus file at {path}")
    if (layout is not None or names is not None) and (path.is_dir() or path.suffix.lower() != ".mat"):
        given = " and ".join(repr(k) for k, value in (("layout", layout), ("names", names)) if value is not None)
        raise InvalidArgumentError(
            f"Invalid value for {given}: describes .mat stimulus files only, and {path} is not one"
        )
    if path.is_dir():
        return _load_image_folder(path, background)
    if path.stat().st_size == 0:
        raise FileFormatError(f"{path}: the stimulus file is empty (0 bytes)")
    if path.suffix.lower() == ".mat":
        return _load_cell_array_mat(path, views_deg, background, layout, names)
    if path.suffix.lower() != ".npz":
        raise FileFormatError(
            f"{path}: unsupported stimulus file type {path.suffix or '(no suffix)'!r}; load_stimuli reads a .npz "
            "(written by StimulusSet.save), a .mat in the paper's cm_imgs layout, or a folder holding "
            "descriptors.csv and the images"
        )
    contents = _read_npz(path)
    if "images" not in contents:
        raise FileFormatError(f"{path}: no 'images' array; the file holds {', '.join(contents) or 'nothing'}")
    descriptors = {k.removeprefix("descriptor_"): v for k, v in contents.items() if k.startswith("descriptor_")}
    if "background" in contents:
        value = contents["background"]
        if value.shape != () or value.dtype.kind not in "iuf":
            raise FileFormatError(f"{path}: 'background' must be one number, got {value.dtype} of shape {value.shape}")
        background = float(value)
    return _stimulus_set(path, contents["images"], descriptors, background, contents.get("masks"))


def _read_npz(path: Path) -> dict[str, np.ndarray]:
    """Every array of a .npz file, never unpickled; FileFormatError naming the file and the entry."""
    entry = None
    try:
        contents = np.load(path, allow_pickle=False)
        if isinstance(contents, np.lib.npyio.NpzFile):
            with contents:
                arrays: dict[str, np.ndarray] = {}
                for entry in contents.files:
                    arrays[entry] = contents[entry]
                return arrays
    except (FileNotFoundError, PermissionError, IsADirectoryError):
        raise
    except NPY_READ_ERRORS as error:
        where = "" if entry is None else f" entry {entry!r}"
        raise FileFormatError(
            f"{path}{where}: cannot be read as a .npz file (truncated, corrupt, or pickled Python objects, which are "
            f"never loaded): {type(error).__name__}: {error}"
        ) from error
    raise FileFormatError(f"{path}: holds a single .npy array, not a .npz archive of named arrays")


def _stimulus_set(
    source: PathLike,
    images: np.ndarray,
    descriptors: dict[str, Any],
    background: float,
    masks: np.ndarray | None = None,
) -> StimulusSet:
    """StimulusSet from a file's contents; its argument errors become FileFormatError naming ``source``."""
    try:
        return StimulusSet(images, descriptors, background, masks)
    except (InvalidArgumentError, InvalidTypeError, DataError) as error:
        raise FileFormatError(f"{source}: {error}") from error


def _load_image_folder(folder: Path, background: float) -> StimulusSet:
    import pandas as pd
    from skimage.color import rgb2gray
    from skimage.io import imread

    table_path = folder / "descriptors.csv"
    if not table_path.exists():
        raise FileNotFoundError(f"{folder}: no descriptors.csv (one row per image, a 'file' column and descriptors)")
    try:
        table = pd.read_csv(table_path, dtype={"file": str})
    except ValueError as error:  # empty, unparsable or not text
        raise FileFormatError(f"{table_path}: cannot be read as a CSV table ({error})") from error
    if "file" not in table.columns:
        raise FileFormatError(f"{table_path}: no 'file' column; columns are {', '.join(map(str, table.columns))}")
    if len(table) == 0:
        raise FileFormatError(f"{table_path}: lists no images (a header and no rows)")
    unnamed = [row for row, name in enumerate(table["file"]) if not isinstance(name, str) or not name.strip()]
    if unnamed:
        raise FileFormatError(f"{table_path}: rows {format_indices(unnamed)} have no file name in column 'file'")
    images = []
    for name in table["file"]:
        file = folder / name
        if not file.is_file():
            raise FileNotFoundError(f"{table_path} lists {name}, which is not in {folder}")
        try:
            image = np.asarray(imread(file))
        except Exception as error:  # each image reader has its own exceptions (PIL: OSError, SyntaxError, ...)
            raise FileFormatError(f"{file}: cannot be read as an image ({type(error).__name__}: {error})") from error
        if image.ndim == 3 and image.shape[-1] in (1, 2):  # gray, gray + alpha
            image = image[..., 0]
        if not (image.ndim == 2 or (image.ndim == 3 and image.shape[-1] in (3, 4))):
            raise FileFormatError(f"{file}: expected a gray or RGB(A) image, got an array of shape {image.shape}")
        image = unit_images(image, str(file), FileFormatError, indexed=False)
        images.append(rgb2gray(image[..., :3]).astype(np.float32) if image.ndim == 3 else image)
    _check_same_size(images, list(table["file"]), folder)
    descriptors = {column: table[column].to_numpy() for column in table.columns if column != "file"}
    return _stimulus_set(table_path, np.stack(images), descriptors, background)


def _check_same_size(images: Sequence[np.ndarray], names: Sequence[str], source: PathLike) -> None:
    """FileFormatError naming the first image whose size differs from the first one's."""
    for image, name in zip(images, names, strict=True):
        if image.shape != images[0].shape:
            raise FileFormatError(
                f"{source}: images differ in size: {names[0]} is {' x '.join(map(str, images[0].shape))} pixels, "
                f"{name} is {' x '.join(map(str, image.shape))}; resize them to one size first"
            )


def _load_cell_array_mat(
    path: Path,
    views_deg: npt.ArrayLike | None,
    background: float,
    layout: str | None,
    names: PathLike | Sequence[str] | None,
) -> StimulusSet:
    """A stimulus set from ``cm_imgs`` in either layout (``MAT_LAYOUTS``), ``names`` and ``cm_bw_masks``."""
    from matlab_bridge import Cell

    if layout is not None:
        check_option("layout", layout, MAT_LAYOUTS)
    contents = _read_mat(path)
    if "cm_imgs" not in contents:
        raise FileFormatError(
            f"{path}: no variable 'cm_imgs' (the paper's stimulus layout); the file holds {', '.join(contents)}"
        )
    name_list = _names(path, contents, names)
    cells = contents["cm_imgs"]
    if not isinstance(cells, Cell) or len(cells.shape) != 2:
        got = f"a cell of shape {cells.shape}" if isinstance(cells, Cell) else _describe(cells)
        raise FileFormatError(f"{path}: 'cm_imgs' must be a 2-D cell array of images, got {got}")
    layout = _resolve_layout(path, cells.shape, len(name_list), layout)
    n_rows, n_columns = cells.shape
    if views_deg is None:
        if layout == "objects_x_views" and n_columns != len(PAPER_VIEWS_DEG):
            raise FileFormatError(
                f"{path}: {n_columns} views per object; pass views_deg (yaw of each view, left to right)"
            )
        views = np.asarray(PAPER_VIEWS_DEG)
    else:
        views = _yaws(path, views_deg, n_columns if layout == "objects_x_views" else None)
    n_views = len(views)
    if layout == "released" and n_rows % n_views:
        raise FileFormatError(
            f"{path}: 'cm_imgs' has {n_rows} rows, not a whole number of exemplars of {n_views} views (the released "
            "layout: row (v-1)*E+e holds exemplar e at view v); pass views_deg when the file has other views"
        )
    cell_of, labels, descriptors = _cell_order(layout, name_list, views, n_rows)
    cells = cells.to_array()
    images = [_cell_image(cells[cell], f"{path}: {label}") for cell, label in zip(cell_of, labels, strict=True)]
    _check_same_size(images, labels, path)
    masks = None
    if "cm_bw_masks" in contents:
        cell_masks = contents["cm_bw_masks"]
        if not isinstance(cell_masks, Cell) or cell_masks.shape != cells.shape:
            got = f"a cell of shape {cell_masks.shape}" if isinstance(cell_masks, Cell) else _describe(cell_masks)
            raise FileFormatError(
                f"{path}: 'cm_bw_masks' must be a cell array shaped like 'cm_imgs' {cells.shape}, got {got}"
            )
        cell_masks = cell_masks.to_array()
        mask_list = [np.asarray(cell_masks[cell], dtype=bool) for cell in cell_of]
        for mask, image, label in zip(mask_list, images, labels, strict=True):
            if mask.shape != image.shape:
                raise FileFormatError(
                    f"{path}: cm_bw_masks{label.removeprefix('cm_imgs')} is {mask.shape}, its image {image.shape}"
                )
        masks = np.stack(mask_list)
    return _stimulus_set(path, np.stack(images), descriptors, background, masks)


def _cell_order(
    layout: str, names: list[str], views: np.ndarray, n_rows: int
) -> tuple[list[tuple[int, int]], list[str], dict[str, np.ndarray]]:
    """([(row, column) of each image], [its cell for messages], descriptors), images in the set's order."""
    n_views = len(views)
    if layout == "objects_x_views":
        cell_of = [(i, j) for i in range(n_rows) for j in range(n_views)]
        labels = [f"cm_imgs{{{i + 1},{j + 1}}} ({names[i]}, view {j + 1})" for i, j in cell_of]
        descriptors = {
            "object": np.repeat(names, n_views),
            "category": np.repeat([re.sub(r"[_\s-]*\d+$", "", name) for name in names], n_views),
            "view_deg": np.tile(views, n_rows),
        }
    else:  # row (v-1)*E+e (1-based) is exemplar e at view v; one column per category
        n_exemplars = n_rows // n_views
        order = [(c, e, v) for c in range(len(names)) for e in range(n_exemplars) for v in range(n_views)]
        cell_of = [(v * n_exemplars + e, c) for c, e, v in order]
        labels = [
            f"cm_imgs{{{v * n_exemplars + e + 1},{c + 1}}} ({names[c]}, exemplar {e + 1}, view {v + 1})"
            for c, e, v in order
        ]
        descriptors = {
            "object": np.array([f"{names[c]}_{e:02d}" for c, e, _ in order]),
            "category": np.array([names[c] for c, _, _ in order]),
            "exemplar": np.array([e for _, e, _ in order]),
            "view_deg": np.array([views[v] for _, _, v in order]),
        }
    return cell_of, labels, descriptors


def _read_mat(path: Path) -> dict[str, Any]:
    """Every variable of a .mat file of any version; FileFormatError naming the file when unreadable."""
    from matlab_bridge import MatFormatError, read_mat

    try:
        return read_mat(path)  # cells keep their MATLAB shape
    except MatFormatError as error:
        reason = str(error).removeprefix(f"{path}: ")
        raise FileFormatError(f"{path}: cannot be read as a MATLAB .mat file ({reason})") from error


def _names(path: Path, contents: Mapping[str, Any], names: PathLike | Sequence[str] | None) -> list[str]:
    """The names of the rows (objects) or columns (categories): from ``names``, else the file's variable."""
    if names is None:
        if "names" not in contents:
            raise FileFormatError(
                f"{path}: no variable 'names' (one name per object or category; the file holds "
                f"{', '.join(contents)}); pass names= (a .mat file holding 'names', or the names themselves)"
            )
        return _texts(path, "names", contents["names"])
    if not isinstance(names, (str, os.PathLike)):
        return _texts("Invalid value for 'names'", "names", names, InvalidArgumentError)
    file = Path(names)
    if not file.is_file():
        raise FileNotFoundError(f"no names file at {file} (the 'names' argument: a .mat file holding 'names')")
    other = _read_mat(file)
    if "names" not in other and len(other) != 1:
        raise FileFormatError(f"{file}: no variable 'names'; the file holds {', '.join(other) or 'nothing'}")
    variable = "names" if "names" in other else next(iter(other))
    return _texts(file, variable, other[variable])


def _texts(source: PathLike, variable: str, value: object, error: type[Exception] = FileFormatError) -> list[str]:
    """A text variable (one name, a cell or list of names) as distinct strings, else ``error``."""
    values = [value] if isinstance(value, str) else np.ravel(np.asarray(value, dtype=object)).tolist()
    if not values or not all(isinstance(v, str) and v.strip() for v in values):
        raise error(f"{source}: {variable!r} must hold text (a cell of names), got {_describe(value)}")
    repeated = sorted({v for v in values if values.count(v) > 1})
    if repeated:
        raise error(f"{source}: {variable!r} names {', '.join(repeated)} more than once; names must differ")
    return [str(v) for v in values]


def _yaws(path: Path, views_deg: npt.ArrayLike, n_views: int | None = None) -> npt.NDArray[np.float64]:
    """``views_deg`` as finite yaws in degrees (``n_views`` of them, when given), else InvalidArgumentError."""
    views = np.asarray(views_deg, dtype=float) if np.asarray(views_deg).dtype.kind in "iuf" else None
    count = len(views) if views is not None and views.ndim == 1 else -1
    if views is None or count < 1 or (n_views is not None and count != n_views) or not np.all(np.isfinite(views)):
        how_many = "one or more" if n_views is None else str(n_views)
        raise InvalidArgumentError(
            f"Invalid value for 'views_deg': expected {how_many} finite yaws in degrees (one per view of {path}, left "
            f"to right), got {views_deg!r}"
        )
    return views


def _resolve_layout(path: Path, shape: tuple[int, ...], n_names: int, layout: str | None) -> str:
    """``cm_imgs``'s layout: ``layout`` when its names fit, else the one layout they fit; never a guess.

    The names count the rows in the objects x views layout and the columns in the released one,
    so a square cell with as many names as rows fits both and needs ``layout``.
    """
    n_rows, n_columns = shape
    fits = {"objects_x_views": n_rows == n_names, "released": n_columns == n_names}
    expected = {
        "objects_x_views": f"one row per name ({n_names} objects) x one column per view",
        "released": f"one column per name ({n_names} categories), row (v-1)*E+e holding exemplar e at view v",
    }
    got = f"'cm_imgs' is {n_rows} x {n_columns} with {n_names} names"
    if layout is not None:
        if not fits[layout]:
            raise FileFormatError(f"{path}: {got}; layout={layout!r} expects {expected[layout]}")
        return layout
    if all(fits.values()):
        raise FileFormatError(
            f"{path}: {got}, which fits both layouts; pass layout='released' (the authors' file: "
            f"{expected['released']}) or layout='objects_x_views' ({expected['objects_x_views']})"
        )
    if not any(fits.values()):
        raise FileFormatError(
            f"{path}: {got}, which fits neither layout: 'objects_x_views' has {expected['objects_x_views']}, "
            f"'released' {expected['released']}; check the names (or pass names=)"
        )
    return next(name for name, fit in fits.items() if fit)


def _describe(value: object) -> str:
    """What a variable of a .mat file is, for messages ('uint8 (4, 4)', 'text', 'a struct')."""
    if isinstance(value, str) or (isinstance(value, list) and all(isinstance(v, str) for v in value)):
        return "text"
    if isinstance(value, list) and hasattr(value, "shape"):  # a matlab_bridge Cell
        return f"a cell of shape {value.shape}"
    if isinstance(value, list):
        return "a struct"
    return f"{np.asarray(value).dtype} {np.asarray(value).shape}"


def _cell_image(image: npt.ArrayLike, where: str) -> npt.NDArray[np.float32]:
    """One cell of cm_imgs as a gray float32 image in [0, 1] (integers scaled by their dtype's maximum)."""
    image = np.asarray(image)
    if image.dtype.kind not in "biuf" or image.size == 0:
        raise FileFormatError(f"{where}: expected a gray or RGB image, got {image.dtype} of shape {image.shape}")
    if not (image.ndim == 2 or (image.ndim == 3 and image.shape[-1] in (3, 4))):
        raise FileFormatError(f"{where}: expected a gray or RGB image, got an array of shape {image.shape}")
    image = unit_images(image, where, FileFormatError, indexed=False)
    return image[..., :3].mean(axis=-1) if image.ndim == 3 else image
