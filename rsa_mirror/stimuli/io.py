"""Stimulus sets from files, and the photographs and noise of Figure 3.

``load_stimuli`` reads a set saved by ``StimulusSet.save`` (.npz), a folder of images with a
descriptor table, or the paper's published .mat layout (through ``matlab_bridge.read_mat``);
every loader validates and names the file in its errors and never unpickles. ``natural_images``
crops the photographs shipped with scikit-image and scikit-learn; ``noise_images`` draws
uniform noise.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np

from .._utils import NPY_READ_ERRORS, check_count, check_random_state, format_indices
from ..errors import DataError, FileFormatError, InvalidArgumentError, InvalidTypeError
from .base import StimulusSet, unit_images

# Photographs shipped inside scikit-image's and scikit-learn's wheels (no download).
NATURAL_SCENES = (
    "astronaut", "camera", "coffee", "chelsea", "rocket", "brick", "grass", "gravel", "moon", "coins",
    "hubble_deep_field", "retina", "immunohistochemistry", "china.jpg", "flower.jpg",
)  # fmt: skip


def load_stimuli(path, *, views_deg=None, background=0.5) -> StimulusSet:
    """Read a stimulus set from a .npz, a folder of images with a descriptor table, or a .mat.

    - ``.npz``: written by ``StimulusSet.save``.
    - A folder holding ``descriptors.csv``: one row per image, a column ``file`` (image path
      relative to the folder: PNG, JPEG, TIFF, ...) and any descriptor columns (``object``,
      ``category``, ``view_deg``, ...). Images are read as gray in [0, 1]; all must have the
      same size. ``background`` is their background gray level.
    - ``.mat`` in the layout of the paper's published stimuli: a cell array ``cm_imgs`` of
      objects x views (one gray image per cell, an integer type or double in [0, 1]),
      ``names`` (one name per object) and optionally ``cm_bw_masks`` (a binary mask per
      image). Views are ``views_deg`` (default: the paper's nine, -90..90, when there are
      nine). ``category`` is the name without its trailing exemplar number (``"car_07"`` ->
      ``"car"``).

    Integer images (uint8, uint16, int16, ...) are divided by their dtype's maximum
    (``np.iinfo(dtype).max``: 255 for uint8, 65535 for uint16); float images must already lie in
    [0, 1]. Arrays are never unpickled.

    Raises:
        FileNotFoundError: no such file or folder, or an image file listed but missing.
        FileFormatError: an unsupported, unreadable or inconsistent file, named with the image,
            variable or entry and the problem.
    """
    path = Path(path)
    if not path.exists():
        raise FileNotFoundError(f"no stimulus file at {path}")
    if path.is_dir():
        return _load_image_folder(path, background)
    if path.stat().st_size == 0:
        raise FileFormatError(f"{path}: the stimulus file is empty (0 bytes)")
    if path.suffix.lower() == ".mat":
        return _load_cell_array_mat(path, views_deg, background)
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


def _read_npz(path) -> dict:
    """Every array of a .npz file, never unpickled; FileFormatError naming the file and the entry."""
    entry = None
    try:
        contents = np.load(path, allow_pickle=False)
        if isinstance(contents, np.lib.npyio.NpzFile):
            with contents:
                arrays = {}
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


def _stimulus_set(source, images, descriptors, background, masks=None) -> StimulusSet:
    """StimulusSet from a file's contents; its argument errors become FileFormatError naming ``source``."""
    try:
        return StimulusSet(images, descriptors, background, masks)
    except (InvalidArgumentError, InvalidTypeError, DataError) as error:
        raise FileFormatError(f"{source}: {error}") from error


def _load_image_folder(folder, background) -> StimulusSet:
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


def _check_same_size(images, names, source):
    """FileFormatError naming the first image whose size differs from the first one's."""
    for image, name in zip(images, names, strict=True):
        if image.shape != images[0].shape:
            raise FileFormatError(
                f"{source}: images differ in size: {names[0]} is {' x '.join(map(str, images[0].shape))} pixels, "
                f"{name} is {' x '.join(map(str, image.shape))}; resize them to one size first"
            )


def _load_cell_array_mat(path, views_deg, background) -> StimulusSet:
    """The paper's layout: ``cm_imgs`` (a 2-D cell, objects x views), ``names``, optional ``cm_bw_masks``."""
    import re

    from matlab_bridge import Cell, MatFormatError, read_mat

    try:
        contents = read_mat(path)  # any .mat version; cells keep their (objects x views) shape
    except MatFormatError as error:
        reason = str(error).removeprefix(f"{path}: ")
        raise FileFormatError(f"{path}: cannot be read as a MATLAB .mat file ({reason})") from error
    for variable in ("cm_imgs", "names"):
        if variable not in contents:
            present = ", ".join(contents)
            raise FileFormatError(
                f"{path}: no variable {variable!r} (the paper's stimulus layout); the file holds {present}"
            )
    names = contents["names"]
    names = [names] if isinstance(names, str) else [str(name) for name in np.ravel(np.asarray(names, dtype=object))]
    cells = contents["cm_imgs"]
    if not isinstance(cells, Cell) or len(cells.shape) != 2 or cells.shape[0] != len(names):
        got = f"a cell of shape {cells.shape}" if isinstance(cells, Cell) else f"{_describe(cells)}"
        raise FileFormatError(f"{path}: 'cm_imgs' must be a cell array of {len(names)} objects x views, got {got}")
    cells = cells.to_array()
    n_views = cells.shape[1]
    if views_deg is None:
        if n_views != 9:
            raise FileFormatError(
                f"{path}: {n_views} views per object; pass views_deg (yaw of each view, left to right)"
            )
        views_deg = np.linspace(-90.0, 90.0, 9)
    views = np.asarray(views_deg, dtype=float) if np.asarray(views_deg).dtype.kind in "iuf" else None
    if views is None or views.shape != (n_views,) or not np.all(np.isfinite(views)):
        raise InvalidArgumentError(
            f"Invalid value for 'views_deg': expected {n_views} finite yaws in degrees (one per view of {path}), got "
            f"{views_deg!r}"
        )
    cell_names = [
        f"cm_imgs{{{i + 1},{j + 1}}} ({names[i]}, view {j + 1})" for i in range(len(names)) for j in range(n_views)
    ]
    images = [
        _cell_image(cells[i, j], f"{path}: {cell_names[i * n_views + j]}")
        for i in range(len(names))
        for j in range(n_views)
    ]
    _check_same_size(images, cell_names, path)
    masks = None
    if "cm_bw_masks" in contents:
        cell_masks = contents["cm_bw_masks"]
        if not isinstance(cell_masks, Cell) or cell_masks.shape != cells.shape:
            got = f"a cell of shape {cell_masks.shape}" if isinstance(cell_masks, Cell) else _describe(cell_masks)
            raise FileFormatError(
                f"{path}: 'cm_bw_masks' must be a cell array shaped like 'cm_imgs' {cells.shape}, got {got}"
            )
        cell_masks = cell_masks.to_array()
        masks = [np.asarray(cell_masks[i, j], dtype=bool) for i in range(len(names)) for j in range(n_views)]
        for mask, image, name in zip(masks, images, cell_names, strict=True):
            if mask.shape != image.shape:
                raise FileFormatError(
                    f"{path}: cm_bw_masks{name.removeprefix('cm_imgs')} is {mask.shape}, its image {image.shape}"
                )
        masks = np.stack(masks)
    descriptors = {
        "object": np.repeat(names, n_views),
        "category": np.repeat([re.sub(r"[_\s-]*\d+$", "", name) for name in names], n_views),
        "view_deg": np.tile(views, len(names)),
    }
    return _stimulus_set(path, np.stack(images), descriptors, background, masks)


def _describe(value) -> str:
    """What a variable of a .mat file is, for messages ('uint8 (4, 4)', 'text', 'a struct')."""
    if isinstance(value, str) or (isinstance(value, list) and all(isinstance(v, str) for v in value)):
        return "text"
    if isinstance(value, list):
        return "a struct"
    return f"{np.asarray(value).dtype} {np.asarray(value).shape}"


def _cell_image(image, where) -> np.ndarray:
    """One cell of cm_imgs as a gray float32 image in [0, 1] (integers scaled by their dtype's maximum)."""
    image = np.asarray(image)
    if image.dtype.kind not in "biuf" or image.size == 0:
        raise FileFormatError(f"{where}: expected a gray or RGB image, got {image.dtype} of shape {image.shape}")
    if not (image.ndim == 2 or (image.ndim == 3 and image.shape[-1] in (3, 4))):
        raise FileFormatError(f"{where}: expected a gray or RGB image, got an array of shape {image.shape}")
    image = unit_images(image, where, FileFormatError, indexed=False)
    return image[..., :3].mean(axis=-1) if image.ndim == 3 else image


def natural_images(n_images=200, *, size=227, random_state=None) -> StimulusSet:
    """Random square crops of the photographs shipped with scikit-image and scikit-learn.

    Each crop is taken from a random scene (``NATURAL_SCENES``), with a side of 40-100 % of the
    scene's shorter side at a random position, converted to gray and resized (antialiased).
    Descriptors: ``scene``, ``crop`` (row, column, side in source pixels, as a string).
    """
    import skimage.data
    from skimage.color import rgb2gray
    from skimage.transform import resize
    from sklearn.datasets import load_sample_images

    n_images, size = check_count("n_images", n_images), check_count("size", size)
    rng = check_random_state(random_state)
    samples = dict(zip(("china.jpg", "flower.jpg"), load_sample_images().images, strict=True))
    images, scenes, crops = [], [], []
    for _ in range(n_images):
        scene = NATURAL_SCENES[rng.integers(len(NATURAL_SCENES))]
        photo = samples[scene] if scene in samples else getattr(skimage.data, scene)()
        gray = rgb2gray(photo[..., :3]) if photo.ndim == 3 else photo / 255.0
        side = int(rng.uniform(0.4, 1.0) * min(gray.shape))
        top, left = rng.integers(gray.shape[0] - side + 1), rng.integers(gray.shape[1] - side + 1)
        images.append(resize(gray[top : top + side, left : left + side], (size, size), anti_aliasing=True))
        scenes.append(scene)
        crops.append(f"{top},{left},{side}")
    return StimulusSet(np.clip(np.stack(images), 0, 1), {"scene": np.array(scenes), "crop": np.array(crops)})


def noise_images(n_images=200, *, size=227, random_state=None) -> StimulusSet:
    """Uniform white-noise images in [0, 1] (Figure 3's noise condition)."""
    n_images, size = check_count("n_images", n_images), check_count("size", size)
    rng = check_random_state(random_state)
    return StimulusSet(rng.uniform(0.0, 1.0, (n_images, size, size)).astype(np.float32))
