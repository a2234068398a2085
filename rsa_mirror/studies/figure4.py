"""Figure 4: does training on mirror-blind labels make mirror-symmetric viewpoint tuning emerge?

``control_msvt`` measures the index of every layer of a control network on rendered test
objects; ``control_network_study`` trains one network (``networks.training.train``) and measures
it; ``control_experiment`` does so for several datasets, label regimes and seeds, and
``faces_in_fc`` summarizes the faces' index in the fully connected layers over seeds (mean and
95% t interval), the comparison the paper draws.
"""

from __future__ import annotations

import warnings
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any, ClassVar

import numpy as np
import pandas as pd
from scipy import stats

from .._utils import check_count
from ..errors import InvalidArgumentError, InvalidTypeError
from ..networks.activations import model_view_rdms
from ..networks.models import LoadedModel
from ..networks.training import TrainResult, train
from ..results import Result
from ..stimuli.base import StimulusSet
from ..symmetry import msvt_by_object

if TYPE_CHECKING:
    import torch

    from .._typing import PathLike, RandomState
    from ..networks.datasets import ImageData


def control_msvt(
    network: TrainResult | LoadedModel,
    stimuli: StimulusSet,
    *,
    device: str | torch.device = "auto",
    batch_size: int = 256,
) -> pd.DataFrame:
    """Mirror-symmetric viewpoint tuning index of every layer of a control network, per object.

    Args:
        network: ``TrainResult`` or ``LoadedModel`` of a control network.
        stimuli: ``StimulusSet`` with ``object``, ``category`` and ``view_deg`` (e.g.
            ``render_objects(size=64)``; resized to 32 x 32, not normalized).
        device: as in ``model_view_rdms``.
        batch_size: images per forward pass.

    Returns:
        ``msvt_by_object`` table with a ``layer`` column (conv1..fc3). A layer whose units are
        all silent (dead ReLUs, possible in a poorly trained network) has no defined index: its
        rows are NaN, with a warning.

    Raises:
        InvalidTypeError: ``network`` or ``stimuli`` of another type.
        InvalidArgumentError: ``stimuli`` without an ``object``, ``category`` or ``view_deg``
            descriptor, or ``batch_size`` not a whole number >= 1.
    """
    if not isinstance(network, (TrainResult, LoadedModel)):
        raise InvalidTypeError(
            f"Invalid type for 'network': expected TrainResult or LoadedModel, got {type(network).__name__}"
        )
    if not isinstance(stimuli, StimulusSet):
        raise InvalidTypeError(f"Invalid type for 'stimuli': expected StimulusSet, got {type(stimuli).__name__}")
    missing = [key for key in ("object", "category", "view_deg") if key not in stimuli.descriptors]
    if missing:
        raise InvalidArgumentError(
            f"Invalid value for 'stimuli': no descriptor {', '.join(missing)} "
            f"(it has {', '.join(stimuli.descriptors) or 'none'})"
        )
    batch_size = check_count("batch_size", batch_size)
    loaded = network.loaded() if isinstance(network, TrainResult) else network
    tables: list[pd.DataFrame] = []
    for layer in loaded.layers:  # one pass per layer, so a dead layer does not stop the others
        try:
            view_rdms = model_view_rdms(loaded, stimuli, [layer], device=device, batch_size=batch_size)
        except InvalidArgumentError:  # a wrong argument is not a dead layer
            raise
        except ValueError as error:
            warnings.warn(f"{loaded.weights}, {layer}: no index ({error})", stacklevel=2)
            objects = pd.DataFrame(
                {"object": stimuli.descriptors["object"], "category": stimuli.descriptors["category"]}
            )
            tables.append(objects.drop_duplicates("object").assign(name=layer, msvt=np.nan))
            continue
        tables.append(msvt_by_object(view_rdms))
    return pd.concat(tables, ignore_index=True).rename(columns={"name": "layer"})


@dataclass(repr=False)
class ControlResult(Result):
    """One trained control network and its index per layer and object.

    Attributes:
        training: the ``TrainResult`` (network, history, config).
        msvt: ``control_msvt``'s table (object, category, layer, msvt, ...).
    """

    NESTED: ClassVar[dict[str, type[Result]]] = {"training": TrainResult}

    training: TrainResult
    msvt: pd.DataFrame

    def _title(self) -> str:
        return self.training._title()


def control_network_study(
    data: ImageData,
    test_objects: StimulusSet,
    *,
    regime: str = "original",
    variant: str = "paper",
    patience: int | None = None,
    random_state: RandomState = 0,
    device: str | torch.device = "auto",
    epochs: int | None = None,
    batch_size: int | None = None,
    lr: float | None = None,
    checkpoint: PathLike | None = None,
    verbose: bool = False,
) -> ControlResult:
    """Train a control network on ``data`` under ``regime`` and measure its index on ``test_objects``.

    Args:
        data: ``ImageData`` (``networks.datasets.load_dataset``).
        test_objects: ``StimulusSet`` of rendered objects (``control_msvt``).
        regime: label regime, as in ``networks.training.train``.
        variant: ``"paper"`` or ``"released"`` (the authors' notebooks), as in ``train``.
        patience: early stopping, as in ``train`` (None: the variant's).
        random_state: seed of the run, as in ``train``.
        device: as in ``train`` and ``control_msvt``.
        epochs: as in ``train`` (None: the dataset's schedule).
        batch_size: as in ``train`` (None: the dataset's schedule).
        lr: as in ``train`` (None: the dataset's schedule).
        checkpoint: as in ``train`` (a killed run resumes).
        verbose: progress bars.

    Returns:
        ``ControlResult``.
    """
    options: dict[str, Any] = {
        "epochs": epochs,
        "batch_size": batch_size,
        "lr": lr,
        "variant": variant,
        "patience": patience,
    }
    result = train(
        data, regime=regime, random_state=random_state, device=device, checkpoint=checkpoint, verbose=verbose, **options
    )
    return ControlResult(result, control_msvt(result, test_objects, device=device))


@dataclass(repr=False)
class ControlExperiment(Result):
    """Control networks over datasets, label regimes and seeds (Figure 4).

    Attributes:
        msvt: every network's ``control_msvt`` table with ``dataset``, ``regime`` and ``seed``.
        histories: every network's training history with the same three columns.
        networks: ``"<dataset>, <regime>, seed <seed>"`` -> ``TrainResult``.
    """

    NESTED_DICTS: ClassVar[dict[str, type[Result]]] = {"networks": TrainResult}

    msvt: pd.DataFrame
    histories: pd.DataFrame
    networks: dict[str, TrainResult]

    def _title(self) -> str:
        return f"{len(self.networks)} networks"


def control_experiment(
    datasets: Mapping[str, ImageData],
    test_objects: StimulusSet,
    *,
    runs: Iterable[tuple[str, str]],
    seeds: Sequence[int],
    variant: str = "paper",
    device: str | torch.device = "auto",
    epochs: int | None = None,
    on_network: Callable[[str, str, int, ControlResult], None] | None = None,
) -> ControlExperiment:
    """Train and measure one control network per (dataset, regime) in ``runs`` and seed in ``seeds``.

    Args:
        datasets: mapping dataset name -> ``ImageData``.
        test_objects: ``StimulusSet`` of rendered test objects.
        runs: sequence of (dataset name, regime).
        seeds: sequence of integer seeds.
        variant: ``"paper"`` or ``"released"``, as in ``networks.training.train``.
        device: as in ``networks.training.train``.
        epochs: None (each dataset's schedule) or the epochs of every network.
        on_network: optional callable (dataset, regime, seed, ``ControlResult``) -> None, called
            after each network (e.g. to report progress or write tables as they grow).

    Returns:
        ``ControlExperiment``.
    """
    tables: list[pd.DataFrame] = []
    histories: list[pd.DataFrame] = []
    networks: dict[str, TrainResult] = {}
    for dataset, regime in runs:
        for seed in seeds:
            options: dict[str, Any] = {
                "regime": regime,
                "variant": variant,
                "random_state": seed,
                "device": device,
                "epochs": epochs,
            }
            result = control_network_study(datasets[dataset], test_objects, **options)
            labels = {"dataset": dataset, "regime": regime, "seed": seed}
            tables.append(result.msvt.assign(**labels))
            histories.append(result.training.history.assign(**labels))
            networks[f"{dataset}, {regime}, seed {seed}"] = result.training
            if on_network is not None:
                on_network(dataset, regime, seed, result)
    return ControlExperiment(pd.concat(tables, ignore_index=True), pd.concat(histories, ignore_index=True), networks)


def faces_in_fc(msvt: pd.DataFrame, *, layers: Iterable[str] = ("fc1", "fc2")) -> pd.DataFrame:
    """The faces' index in the fully connected layers, per dataset and regime: mean and 95% interval over seeds.

    Args:
        msvt: ``ControlExperiment.msvt``.
        layers: the layers summarized.

    Returns:
        DataFrame: ``dataset``, ``regime``, ``layer``, ``face_msvt`` (mean over seeds of the
        seed's mean over faces), ``ci_low``, ``ci_high`` (t interval; NaN with one seed),
        ``n_seeds`` (seeds whose layer has an index: a dead layer has none).
    """
    faces = msvt[(msvt.category == "face") & msvt.layer.isin(list(layers))]
    per_seed = faces.groupby(["dataset", "regime", "layer", "seed"], sort=False).msvt.mean()
    rows = []
    for (dataset, regime, layer), values in per_seed.groupby(level=[0, 1, 2], sort=False):
        values = values.dropna()
        n = len(values)
        half = stats.t.ppf(0.975, n - 1) * values.std(ddof=1) / np.sqrt(n) if n > 1 else np.nan
        rows.append((dataset, regime, layer, values.mean(), values.mean() - half, values.mean() + half, n))
    return pd.DataFrame(rows, columns=["dataset", "regime", "layer", "face_msvt", "ci_low", "ci_high", "n_seeds"])
