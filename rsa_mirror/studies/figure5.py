"""Figure 5: which local features drive mirror-symmetric units (importance maps, insertion, shuffle).

``importance_study`` composes the building blocks (``mirror_units``, ``importance.rise_maps``,
``image_edits``, ``networks.forward.unit_responses``, the index of ``symmetry``) into the
figure's numbers for a set of objects; ``ImportanceResult`` holds them.
"""

from __future__ import annotations

import warnings
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

import numpy as np
import pandas as pd
from tqdm.auto import tqdm

from .._utils import (
    check_count,
    check_option,
    check_random_state,
    check_share,
    derive_seed,
    in_unit_interval,
    indexed_seed,
)
from ..errors import DataError, InvalidArgumentError
from ..image_edits import RANKINGS, insertion_deletion, shuffle_components
from ..importance import rise_maps
from ..mirror_units import select_mirror_units
from ..networks.devices import resolve_device
from ..networks.forward import unit_responses
from ..rdm import compute_view_rdms
from ..results import Result
from ..stimuli.base import StimulusSet, check_object_views, gray_images
from ..symmetry import msvt_index

if TYPE_CHECKING:
    import numpy.typing as npt
    import torch

    from .._typing import PathLike, RandomState
    from ..networks.models import LoadedModel

THRESHOLDS = (0.1, 0.2, 0.3, 0.4, 0.5, 0.6, 0.7, 0.8, 0.9)


@dataclass(repr=False)
class ImportanceResult(Result):
    """Figure 5 on a set of objects (each seen at mirror-paired views).

    As in the paper, panels A-C follow one unit per object, its best mirror-symmetric unit
    (the first of ``select_mirror_units``), with insertion / deletion images made from that
    unit's own map; panel D follows the object's mirror-symmetric population (top 5% of the
    template-positive units), with insertion images made from the mean of their maps.

    Attributes:
        layer: the analysed layer.
        units: object -> (n_selected,) indices of its mirror-symmetric units, best first.
        unit_maps: object -> (n_views, H, W) RISE map of its best unit (``units[obj][0]``).
        blank: object -> the best unit's response to a blank (background-only) image.
        maps: object -> (n_views, H, W) mean RISE map of its mirror-symmetric units.
        tuning: tidy table of the best unit's responses: ``object``, ``unit``, ``threshold``,
            ``images`` (original, insertion, deletion, shuffled), ``view_deg``, ``response``.
            ``threshold`` is the share of the foreground left visible, as in the paper's
            Figure 5C: insertion shows the most important share, deletion the least important
            one (the rest hidden); the paper's panel A/B deletion, the most important 25%
            hidden, is deletion at 0.75; shuffled images are the insertion images at 0.25.
        similarity: ``object``, ``threshold``, ``r_insertion``, ``r_deletion``: correlation of
            the best unit's tuning curve on insertion / deletion images (same share of the
            foreground shown) with its original one (NaN where a curve is flat: the unit
            silent on every view).
        msvt: ``object``, ``images``, ``threshold``, ``msvt``: the index of the object's mirror
            units (or of the layer, ``index_units``) on the original images and on the
            population's insertion and shuffled images; NaN where fewer than two units vary.
        ranking: how the insertion / deletion pixels were ranked, ``"paper"`` or
            ``"released"`` (``image_edits.ranked_pixels``).
    """

    layer: str
    units: dict
    unit_maps: dict
    blank: dict
    maps: dict
    tuning: pd.DataFrame
    similarity: pd.DataFrame
    msvt: pd.DataFrame
    ranking: str = "paper"

    def summary(self) -> pd.DataFrame:
        """One row per object: units mapped, the index per image set, mean insertion / deletion r.

        Columns: ``object``, ``n_units``, ``best_unit``, ``msvt_<images>`` (the layer's index
        on the original, insertion and shuffled sets), ``r_insertion`` and ``r_deletion`` of
        the best unit averaged over the thresholds (the areas under Figure 5C's curves, per
        unit of threshold span).
        """
        frame = self.msvt.pivot_table(index="object", columns="images", values="msvt", sort=False)
        frame.columns = [f"msvt_{name}" for name in frame.columns]
        frame.insert(0, "n_units", [len(self.units[obj]) for obj in frame.index])
        frame.insert(1, "best_unit", [self.units[obj][0] for obj in frame.index])
        frame[["r_insertion", "r_deletion"]] = self.similarity.groupby("object")[["r_insertion", "r_deletion"]].mean()
        return frame.reset_index()

    def to_dict(self) -> dict:
        """The fields; per-object mappings with the object names as (string) keys."""
        per_object = ("units", "unit_maps", "blank", "maps")
        return {
            "layer": self.layer,
            **{name: {str(k): v for k, v in getattr(self, name).items()} for name in per_object},
            "tuning": self.tuning,
            "similarity": self.similarity,
            "msvt": self.msvt,
            "ranking": self.ranking,
        }

    def _title(self) -> str:
        return f"{self.layer}, {len(self.units)} objects, {self.ranking} ranking"


def importance_network(model: str, *, weights: str | None = None, random_state: RandomState = 0) -> LoadedModel:
    """The network of ``rsa-mirror importance``: a registered torchvision model, or ``"control"``.

    Args:
        model: a name of ``networks.models.load_model`` or ``"control"`` (the control networks of
            Figure 4).
        weights: for a registered model as in ``load_model`` (None: ``"imagenet"``); for
            ``"control"``, None or ``"shipped"`` (the shipped network) or a network file written by
            ``rsa-mirror train`` (``save_network``).
        random_state: seed of ``"untrained"`` weights.

    Returns:
        ``LoadedModel``.
    """
    from ..networks.files import load_network, load_shipped_network
    from ..networks.models import load_model

    if model == "control":
        if weights is None or weights == "shipped":
            return load_shipped_network().loaded()
        return load_network(weights).loaded()
    return load_model(model, weights=weights or "imagenet", random_state=random_state)


def importance_study(
    model: LoadedModel | torch.nn.Module,
    stimuli: StimulusSet,
    layer: str,
    *,
    n_masks: int = 5000,
    grid: int = 7,
    fraction: float = 0.05,
    thresholds: Sequence[float] = THRESHOLDS,
    shuffle_threshold: float = 0.25,
    ranking: str = "paper",
    index_units: str = "selected",
    batch_size: int = 256,
    device: str = "auto",
    random_state: RandomState = 0,
    checkpoint_dir: PathLike | None = None,
    compile: bool = False,
    verbose: bool = False,
) -> ImportanceResult:
    """Figure 5: mirror units per object, their importance maps, and the tuning they keep.

    For each object: the layer's units are ranked on the object's views (``select_mirror_units``,
    strict criterion, top ``fraction`` of the template-positive units); one RISE pass gives the
    best unit's map and the mean map of all of them (``rise_maps`` with ``weights``). The best
    unit's map gives, for each share q of the foreground in ``thresholds``, insertion images
    that show its most important q and deletion images that show its least important q (the
    paper's Figure 5C: the same number of pixels shown); the insertion images at
    ``shuffle_threshold`` are also component-shuffled, and deletion images hiding the most
    important ``shuffle_threshold`` are made for panels A/B; the unit's tuning is measured on
    each set. The mean map of all the object's mirror units gives one insertion set at
    ``shuffle_threshold`` and its shuffled version, on which, as on the originals, the
    mirror-symmetric viewpoint tuning index of those units (``index_units``) is measured
    (panel D).

    Args:
        model: ``LoadedModel`` (or plain module; see ``rise_maps``).
        stimuli: ``StimulusSet`` with ``object`` and ``view_deg`` (mirror-paired views) and masks
            or a uniform background.
        layer: any preset name of the model (``LoadedModel.layers``) or a module path. The
            paper mapped AlexNet's fc6 before its ReLU: the preset ``"fc6_pre"`` (torchvision
            ``classifier.1``; the released code reads MATLAB's layer 17, "fc6", ahead of
            "relu6"), not ``"fc6"`` (``classifier.2``, after the ReLU). Before the ReLU a unit's
            responses, and so its map, can be negative, which is where ranking by ``|map|``
            matters.
        n_masks: RISE masks per image (``rise_maps``).
        grid: cells per side of the coarse mask grid.
        fraction: share of the template-positive units called mirror-symmetric per object.
        thresholds: shares of the foreground shown in insertion / deletion images.
        shuffle_threshold: the insertion share whose images are shuffled.
        ranking: ``"paper"`` (default: pixels ranked by ``|map|`` among the foreground pixels, as
            the Methods say: "we sorted the pixels according to their absolute values in the
            importance map ... we only considered foreground pixels") or ``"released"`` (the
            authors' released code, not in the text: the map's spatial mean subtracted, the
            foreground dilated by 5 pixels, and share q counted as (100 q - 1) / 99, so "25%"
            is 24/99); see ``image_edits.ranked_pixels``.
        index_units: the units of panel D's index: ``"selected"`` (each object's mirror units,
            as the paper's caption says: "calculated across the selected units") or
            ``"layer"`` (every unit of the layer). Units are z-scored over all objects' images
            of a set either way.
        batch_size: images per forward pass.
        device: ``"auto"``, ``"cpu"``, ``"cuda"``.
        random_state: seed of the masks and shuffles: an integer >= 0, or a ``np.random.Generator``
            (an integer root seed is derived from it, ``derive_seed``).
        checkpoint_dir: RISE checkpoints (a killed run resumes).
        compile: ``torch.compile`` the RISE forward pass (``rise_maps``).
        verbose: progress bars.

    Returns:
        ``ImportanceResult``. Objects without any unit passing the criterion (all silent) are
        left out, and an image set on which fewer than two units vary gets a NaN index, each
        with a warning.

    Raises:
        InvalidArgumentError: ``n_masks``, ``grid`` or ``batch_size`` not at least 1, ``fraction``
            not in (0, 1], ``thresholds`` not a non-empty sequence of numbers in (0, 1),
            ``shuffle_threshold`` not in (0, 1), ``random_state`` not an integer >= 0, or an
            unknown ``ranking``, ``index_units`` or ``device``.
        InvalidTypeError, DataError: ``stimuli`` is not a ``StimulusSet`` with ``object`` and
            ``view_deg`` descriptors; DataError also when no object has a mirror unit at all.
    """
    check_option("index_units", index_units, ("selected", "layer"))
    check_option("ranking", ranking, RANKINGS)
    n_masks = check_count("n_masks", n_masks, minimum=1)
    grid = check_count("grid", grid, minimum=1)
    batch_size = check_count("batch_size", batch_size, minimum=1)
    fraction = check_share("fraction", fraction, "(]")
    shuffle_threshold = check_share("shuffle_threshold", shuffle_threshold)
    thresholds = _check_thresholds(thresholds)
    random_state = derive_seed(random_state, maximum=None, required=True)  # the root of the masks and shuffles
    resolve_device(device)
    check_object_views(stimuli)
    images, background, objects = gray_images(stimuli)
    assert objects is not None  # check_object_views: the set names its objects
    foreground = stimuli.foreground if hasattr(stimuli, "foreground") else np.abs(images - background) > 1 / 512
    views = np.asarray(stimuli.descriptors["view_deg"], dtype=float)
    rng = check_random_state(random_state)
    units, unit_maps, maps, blank, tuning, similarity, sets = {}, {}, {}, {}, [], [], {}
    everything = unit_responses(model, images, layer, None, device=device, batch_size=batch_size)
    shuffle, thresholds = round(shuffle_threshold, 10), sorted({round(q, 10) for q in thresholds})
    levels = sorted({*thresholds, shuffle, _complement(shuffle)})  # shares shown (A/B: deletion at 1 - 25%)

    def cut(rows: npt.NDArray[np.intp], object_maps: npt.NDArray[Any], q: float) -> tuple[npt.NDArray[Any], ...]:
        """Insertion, deletion and kept masks of the object's views at share q."""
        parts = [
            insertion_deletion(images[r], m, foreground[r], q, background=background, ranking=ranking)
            for r, m in zip(rows, object_maps, strict=True)
        ]
        return tuple(np.stack(part) for part in zip(*parts, strict=True))

    def shuffled(rows: npt.NDArray[np.intp], kept: npt.NDArray[np.bool_]) -> npt.NDArray[np.float32]:
        pairs = zip(rows, kept, strict=True)
        return np.stack([shuffle_components(images[r], k, background=background, random_state=rng) for r, k in pairs])

    for index, obj in enumerate(tqdm(list(dict.fromkeys(objects)), desc="objects", disable=not verbose)):
        rows = np.flatnonzero(objects == obj)
        rows = rows[np.argsort(views[rows])]
        chosen = select_mirror_units(everything[:, rows], views[rows], fraction=fraction).unit.to_numpy()
        if len(chosen) == 0:
            warnings.warn(f"{obj}: no unit of {layer} passes the mirror-unit criterion; left out", stacklevel=2)
            continue
        one_object = StimulusSet(images[rows], {"object": objects[rows]}, background)
        best_and_mean = np.vstack([np.eye(len(chosen))[0], np.full(len(chosen), 1 / len(chosen))])
        unit_maps[obj], maps[obj] = rise_maps(
            model,
            one_object,
            layer,
            chosen,
            weights=best_and_mean,  # the best unit's map and the population's mean map
            n_masks=n_masks,
            grid=grid,
            batch_size=batch_size,
            device=device,
            random_state=indexed_seed(random_state, index, stride=100_003),  # masks differ between objects
            checkpoint_dir=checkpoint_dir,
            compile=compile,
        )
        units[obj] = chosen
        best = chosen[:1]
        # Share q of the foreground shown (the paper's Figure 5C): insertion shows the most
        # important q, deletion the least important q (the most important 1 - q hidden).
        cuts = {q: cut(rows, unit_maps[obj], q) for q in {*levels, *(_complement(q) for q in levels)}}
        made = {("original", 0.0): images[rows], ("shuffled", shuffle): shuffled(rows, cuts[shuffle][2])}
        for q in levels:
            made[("insertion", q)], made[("deletion", q)] = cuts[q][0], cuts[_complement(q)][1]
        made[("blank", 0.0)] = np.full_like(images[rows[:1]], background)  # the paper's dashed line in A/B
        responses = {key: unit_responses(model, value, layer, best, device=device)[0] for key, value in made.items()}
        blank[obj] = float(responses.pop(("blank", 0.0))[0])
        for (kind, q), curve in responses.items():
            tuning += [(obj, best[0], q, kind, v, r) for v, r in zip(views[rows], curve, strict=True)]
        for q in thresholds:
            with np.errstate(invalid="ignore", divide="ignore"):  # a flat curve (unit silenced): r is NaN
                r = [
                    np.corrcoef(responses[(kind, q)], responses[("original", 0.0)])[0, 1]
                    for kind in ("insertion", "deletion")
                ]
            similarity.append((obj, q, *r))
        insertion, _, kept = cut(rows, maps[obj], shuffle)
        sets[obj] = {
            ("original", 0.0): images[rows],
            ("insertion", shuffle): insertion,
            ("shuffled", shuffle): shuffled(rows, kept),
        }
    if not sets:
        raise DataError(f"no object has a unit of {layer} that passes the mirror-unit criterion: nothing to map")
    msvt_rows = []
    for key in (("original", 0.0), ("insertion", shuffle), ("shuffled", shuffle)):
        descriptors = {
            "object": np.repeat(list(sets), [len(sets[obj][key]) for obj in sets]),
            "view_deg": np.concatenate([np.sort(views[objects == obj]) for obj in sets]),
        }
        stack = np.concatenate([sets[obj][key] for obj in sets])
        activations = unit_responses(model, stack, layer, None, device=device, batch_size=batch_size).T

        if index_units == "layer":
            found = _view_indices(activations, descriptors, key[0])
            msvt_rows += [(obj, *key, found.get(obj, np.nan)) for obj in sets]
        else:
            per_object = {obj: _view_indices(activations[:, units[obj]], descriptors, key[0]) for obj in sets}
            msvt_rows += [(obj, *key, per_object[obj].get(obj, np.nan)) for obj in sets]
    return ImportanceResult(
        layer=str(layer),
        units=units,
        unit_maps=unit_maps,
        blank=blank,
        maps=maps,
        tuning=pd.DataFrame(tuning, columns=["object", "unit", "threshold", "images", "view_deg", "response"]),
        similarity=pd.DataFrame(similarity, columns=["object", "threshold", "r_insertion", "r_deletion"]),
        msvt=pd.DataFrame(msvt_rows, columns=["object", "images", "threshold", "msvt"]),
        ranking=ranking,
    )


def _view_indices(
    activations: npt.NDArray[Any], descriptors: Mapping[str, npt.ArrayLike], label: str
) -> dict[Any, float]:
    """Object -> mirror-symmetric viewpoint tuning index of (n_images, n_units) activations.

    Empty, with a warning naming ``label``, when fewer than two units vary (no view RDM).
    """
    try:
        view_rdms = compute_view_rdms({"units": activations}, descriptors=descriptors)
    except ValueError as error:
        warnings.warn(f"{label} images: no index ({error})", stacklevel=3)
        return {}
    matrices = view_rdms.get_matrices()
    return dict(zip(view_rdms.rdm_descriptors["object"], map(msvt_index, matrices), strict=True))


def _check_thresholds(thresholds: Sequence[float]) -> list[float]:
    """Shares of the foreground, a non-empty sequence of numbers in (0, 1)."""
    values = None if isinstance(thresholds, (str, bytes)) or np.ndim(thresholds) != 1 else list(thresholds)
    if not values or not all(in_unit_interval(q) for q in values):
        raise InvalidArgumentError(
            f"Invalid value for 'thresholds': expected a non-empty sequence of numbers in (0, 1), got {thresholds!r}"
        )
    return [float(q) for q in values]


def _complement(share: float) -> float:
    """1 - share, rounded to 10 decimals so that shares can be matched (1 - 0.7 != 0.3 in floats)."""
    return round(1 - share, 10)
