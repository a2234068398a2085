"""Labelled image sets for the control networks of Figure 4, and the label regimes.

Datasets: ``digits`` (scikit-learn's 8 x 8 digits, shipped with it, upsampled to 32 x 32;
asymmetric classes like SVHN's), ``rendered`` (the bilaterally symmetric categories of
``render_objects`` without faces, at random yaw, elevation and lighting: a CIFAR-10 stand-in),
and ``cifar10`` / ``svhn`` through torchvision from a local folder (downloaded only when asked).

Label regimes wrap any labelled image set: ``original``; ``mirror_invariant`` (a random half
of the images mirrored, labels kept: symSVHN); ``mirror_sensitive`` (the same half mirrored,
their labels moved to K new classes: asymSVHN). The released notebooks mirror each image with
probability 0.5 instead (``mirroring="bernoulli"``). ``class_split`` is the class-count control
of the mirror-sensitive regime: 2K classes without any mirroring, each class split by the sign
of the camera elevation (rendered sets carry it, ``ImageData.elevation_deg``).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING

import numpy as np
import torch
from torch import nn
from tqdm.auto import tqdm

from .._utils import check_count, check_option, check_random_state
from ..errors import InvalidArgumentError, InvalidTypeError

if TYPE_CHECKING:
    from .._typing import PathLike, RandomState

REGIMES = ("original", "mirror_invariant", "mirror_sensitive", "class_split")
MIRRORING = ("half", "bernoulli")  # which images a mirror regime flips: exactly half, or each with p = 0.5
DATASETS = ("digits", "rendered", "cifar10", "svhn")
RENDERED_CATEGORIES = ("car", "boat", "chair", "airplane", "animal", "tool")  # symmetric, no faces


@dataclass
class ImageData:
    """A labelled image set held as tensors.

    Attributes:
        images: float32 (n, 3, 32, 32) in [0, 1].
        labels: int64 (n,).
        n_classes: number of classes.
        name: where it came from.
        elevation_deg: float64 (n,), the camera elevation of each image in degrees, or None
            where unknown (only rendered sets know it; the ``class_split`` regime needs it).
            Not part of a training run's fingerprint.
    """

    images: torch.Tensor
    labels: torch.Tensor
    n_classes: int
    name: str
    elevation_deg: torch.Tensor | None = None

    def __len__(self) -> int:
        return len(self.labels)


def load_dataset(
    name: str,
    *,
    root: PathLike | None = None,
    download: bool = False,
    n_per_class: int = 1000,
    random_state: RandomState = 0,
    verbose: bool = False,
) -> ImageData:
    """One of ``DATASETS`` as 32 x 32 RGB tensors (training split for cifar10/svhn).

    Args:
        name: ``"digits"``, ``"rendered"``, ``"cifar10"`` or ``"svhn"``.
        root: folder of the torchvision datasets (cifar10, svhn).
        download: let torchvision download cifar10/svhn into ``root`` (needs internet).
        n_per_class: images per category of ``rendered``.
        random_state: seed of ``rendered``.
        verbose: progress bar while rendering.

    Raises:
        InvalidArgumentError: an unknown ``name``, or ``n_per_class`` not a whole number >= 1.
        FileNotFoundError: cifar10/svhn not in ``root`` and ``download`` not set (the message
            says how to get them).
    """
    check_option("name", name, DATASETS)
    check_count("n_per_class", n_per_class)
    if name == "digits":
        from sklearn.datasets import load_digits

        digits = load_digits()
        images = torch.from_numpy(digits.images.astype(np.float32) / 16.0)[:, None]
        images = nn.functional.interpolate(images, size=(32, 32), mode="bilinear", align_corners=False)
        return ImageData(images.expand(-1, 3, -1, -1).contiguous(), torch.from_numpy(digits.target), 10, "digits")
    if name == "rendered":
        return render_training_set(n_per_class=n_per_class, random_state=random_state, verbose=verbose)
    return _torchvision_dataset(name, root, download)


def render_training_set(
    *,
    n_per_class: int = 1000,
    views_per_exemplar: int = 10,
    geometry: str = "bilateral",
    yaw_range: Sequence[float] = (-180.0, 180.0),
    random_state: RandomState = 0,
    verbose: bool = False,
) -> ImageData:
    """Bilaterally symmetric categories (``RENDERED_CATEGORIES``) at random viewpoints and light.

    Each exemplar (``stimuli.objects.build_object``) is rendered ``views_per_exemplar`` times at yaw
    uniform in ``yaw_range`` (default [-180, 180)), elevation uniform in [-25, 25] degrees and a
    random light from the front hemisphere, at 32 x 32 with 2x supersampling. Each category gets
    exactly ``n_per_class`` images: the first ones of ceil(n_per_class / views_per_exemplar)
    exemplars. The defaults give the images of earlier versions bit for bit.

    Args:
        n_per_class: images per category.
        views_per_exemplar: images of each exemplar.
        geometry: ``"bilateral"`` (the categories as built) or ``"chiral"`` (their one-sided
            halves, ``build_object``); the same random draws either way.
        yaw_range: (low, high) of the yaw in degrees, low < high, both finite.
        random_state: seed or ``np.random.Generator``.
        verbose: progress bar.

    Returns:
        ``ImageData`` named ``"rendered"``, with the geometry and yaw range in brackets where
        they are not the defaults (e.g. ``"rendered (chiral)"``), and ``elevation_deg`` set.

    Raises:
        InvalidArgumentError: ``n_per_class`` or ``views_per_exemplar`` not a whole number >= 1,
            an unknown ``geometry``, or a ``yaw_range`` that is not two finite increasing numbers.
    """
    from ..stimuli.mesh import render_mesh
    from ..stimuli.objects import GEOMETRIES, build_object

    n_per_class = check_count("n_per_class", n_per_class)
    views_per_exemplar = check_count("views_per_exemplar", views_per_exemplar)
    check_option("geometry", geometry, GEOMETRIES)
    low, high = _check_yaw_range(yaw_range)
    rng = check_random_state(random_state)
    n_exemplars = -(-n_per_class // views_per_exemplar)
    images: list[np.ndarray] = []
    labels: list[int] = []
    elevations: list[float] = []
    todo = [(k, e) for k in range(len(RENDERED_CATEGORIES)) for e in range(n_exemplars)]
    for label, _ in tqdm(todo, desc="rendering training set", disable=not verbose):
        mesh = build_object(RENDERED_CATEGORIES[label], rng, geometry=geometry)
        for _ in range(views_per_exemplar):
            light = rng.normal(size=3)
            light[2] = abs(light[2]) + 0.5
            yaw, elevation = rng.uniform(low, high), rng.uniform(-25, 25)
            image, _coverage = render_mesh(
                mesh, yaw, size=32, elevation_deg=elevation, light=light / np.linalg.norm(light)
            )
            images.append(image)
            labels.append(label)
            elevations.append(elevation)
    per_class = n_exemplars * views_per_exemplar
    keep = [i for i in range(len(labels)) if i % per_class < n_per_class]  # the first n_per_class of each class
    stacked = torch.from_numpy(np.stack(images)[keep, None]).expand(-1, 3, -1, -1).contiguous()
    details = [geometry] * (geometry != "bilateral") + [f"yaw {low:g} to {high:g}"] * ((low, high) != (-180, 180))
    name = f"rendered ({', '.join(details)})" if details else "rendered"
    elevation_deg = torch.tensor(elevations, dtype=torch.float64)[keep]
    return ImageData(stacked, torch.tensor(labels)[keep], len(RENDERED_CATEGORIES), name, elevation_deg)


def _check_yaw_range(yaw_range: Sequence[float]) -> tuple[float, float]:
    try:
        low, high = (float(value) for value in yaw_range)
    except (TypeError, ValueError):
        low, high = np.nan, np.nan
    if not (np.isfinite(low) and np.isfinite(high) and low < high):
        raise InvalidArgumentError(
            f"Invalid value for 'yaw_range': expected (low, high) in degrees, finite, low < high, got {yaw_range!r}"
        )
    return low, high


def _torchvision_dataset(name: str, root: PathLike | None, download: bool) -> ImageData:
    import torchvision

    if root is None:
        raise FileNotFoundError(f"{name}: give root= (the folder holding torchvision's {name} files)")
    try:
        if name == "cifar10":
            data = torchvision.datasets.CIFAR10(root, train=True, download=download)
            images, labels = data.data, np.asarray(data.targets)  # (n, 32, 32, 3) uint8
            images = images.transpose(0, 3, 1, 2)
        else:
            data = torchvision.datasets.SVHN(root, split="train", download=download)
            images, labels = data.data, np.asarray(data.labels)  # (n, 3, 32, 32) uint8
    except RuntimeError as error:  # torchvision: "Dataset not found or corrupted ..."
        raise FileNotFoundError(
            f"{name} is not in {root} ({error}). It is never downloaded implicitly: on a machine with internet run "
            f"`rsa-mirror train --dataset {name} --root {root} --download`, or copy torchvision's {name} files there"
        ) from None
    images = torch.from_numpy(np.ascontiguousarray(images)).float() / 255.0
    return ImageData(images, torch.from_numpy(labels.astype(np.int64)), 10, name)


def apply_regime(data: ImageData, regime: str, *, random_state: RandomState = 0, mirroring: str = "half") -> ImageData:
    """The label regime over ``data``, its mirrored images drawn from ``random_state``.

    ``class_split`` mirrors nothing: label k becomes k + K * [elevation > 0] (2K classes),
    from ``data.elevation_deg``; ``random_state`` and ``mirroring`` do not enter.

    Args:
        data: ``ImageData``.
        regime: one of ``REGIMES``.
        random_state: seed or ``np.random.Generator`` of the draw.
        mirroring: ``"half"`` (the paper's text: exactly floor(n / 2) images, a random
            permutation's first) or ``"bernoulli"`` (the authors' released notebooks: each image
            with probability 0.5, so the share varies around a half).

    Raises:
        InvalidArgumentError: an unknown ``regime`` or ``mirroring``, or ``class_split`` on data
            without elevations (or with elevations of another length).
        InvalidTypeError: ``data`` is not an ``ImageData``.
    """
    check_option("regime", regime, REGIMES)
    check_option("mirroring", mirroring, MIRRORING)
    if not isinstance(data, ImageData):
        raise InvalidTypeError(f"Invalid type for 'data': expected ImageData (load_dataset), got {type(data).__name__}")
    if regime == "original":
        return data
    if regime == "class_split":
        return _class_split(data)
    rng = check_random_state(random_state)
    if mirroring == "half":
        mirrored = torch.from_numpy(rng.permutation(len(data)) < len(data) // 2)
    else:
        mirrored = torch.from_numpy(rng.random(len(data)) < 0.5)
    images = data.images.clone()
    images[mirrored] = images[mirrored].flip(-1)
    labels, n_classes = data.labels.clone(), data.n_classes
    if regime == "mirror_sensitive":
        labels[mirrored] += data.n_classes
        n_classes *= 2
    return ImageData(images, labels, n_classes, f"{data.name} ({regime})", data.elevation_deg)


def _class_split(data: ImageData) -> ImageData:
    """``data`` with 2K classes: label k + K * [elevation > 0] (the class-count control)."""
    elevation = data.elevation_deg
    if elevation is None:
        raise InvalidArgumentError(
            f"Invalid value for 'data': regime 'class_split' splits classes by camera elevation, but {data.name} "
            "carries none (elevation_deg is None); use a rendered set (render_training_set)"
        )
    if not isinstance(elevation, torch.Tensor) or elevation.shape != (len(data),):
        shape = tuple(getattr(elevation, "shape", ()))
        raise InvalidArgumentError(
            f"Invalid value for 'data': elevation_deg must be a tensor of one elevation per image ({len(data)}), "
            f"got shape {shape}"
        )
    labels = data.labels + data.n_classes * (elevation > 0).to(data.labels.dtype)
    return ImageData(data.images, labels, 2 * data.n_classes, f"{data.name} (class_split)", elevation)
