"""Training the control networks of Figure 4, and their network files.

``train`` fits a ``ControlNet`` (``models``) to an ``ImageData`` set (``datasets``) under a
label regime. It keeps the data as tensors on the device, is seeded and deterministic (each
epoch's shuffle and dropout come from the seed and the epoch number; torch's global random
state is left as it was): the same seed, device type and thread count give bit-identical
weights (float rounding depends on how many CPU threads share a sum). It writes an atomic
checkpoint every epoch and resumes exactly where a killed run stopped; the checkpoint's
fingerprint (data, regime, variant, schedule, seed, torch version, device type, thread count)
must match the resumed run. Its epoch loop is ``_train_run.TrainRun``, which ``training_many``
shares to train many networks at once.

``variant="paper"`` (default) trains the network and schedule of the paper's Methods;
``variant="released"`` those of the authors' notebooks (``control.ControlNet``; the learning
rate halved every 50 epochs for CIFAR-10 and every 20 for SVHN, early stopping with the
best weights kept, a Bernoulli(0.5) share of images mirrored).

Network files and checkpoints are read with ``torch.load(weights_only=True)``: tensors and
plain values only, so a crafted file cannot run code; they hold no other Python objects.
"""

from __future__ import annotations

import hashlib
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any

import numpy as np
import pandas as pd
import torch
from tqdm.auto import tqdm

from .._utils import check_count, check_option, derive_seed, seed_sequence
from ..errors import InvalidArgumentError
from ..results import Result
from ._train_checks import check_data, check_device, check_fraction, check_positive
from ._train_run import TrainPlan, TrainRun, early_stop_epoch  # noqa: F401  (early_stop_epoch: public here)
from .control import CONTROL_VARIANTS, ControlNet, control_net_from_state
from .datasets import REGIMES, apply_regime
from .models import INPUT_PATH, LoadedModel

if TYPE_CHECKING:
    from .._typing import PathLike, RandomState
    from .datasets import ImageData

# The paper's schedules (250 epochs, batch 256) and the ones used here at small scale.
SCHEDULES = {
    "cifar10": {"optimizer": "sgd", "lr": 1e-3, "halve_every": 20, "epochs": 250, "batch_size": 256},
    "svhn": {"optimizer": "adam", "lr": 1e-5, "halve_every": 50, "epochs": 250, "batch_size": 256},
    "rendered": {"optimizer": "sgd", "lr": 1e-2, "halve_every": 10, "epochs": 30, "batch_size": 64},
    "digits": {"optimizer": "adam", "lr": 1e-3, "halve_every": 10, "epochs": 30, "batch_size": 64},
}

# The released notebooks' halving periods (StepLR step_size: 50 for CIFAR-10, 20 for SVHN and its
# variants) and early-stopping patience (epochs without a lower validation loss).
RELEASED_HALVE_EVERY = {"cifar10": 50, "svhn": 20}
RELEASED_PATIENCE = 200

_MAX_SEED = (2**63 - 1) // 1_000_003 - 10_000  # indexed_seed(seed, epoch) must fit torch's 64-bit seeds
_REGIME_STREAM = 1  # seed_sequence(seed, 1): which half of the images the regime mirrors


@dataclass(repr=False)
class TrainResult(Result):
    """A trained control network and its history.

    Attributes:
        network: the ``ControlNet`` (eval mode, CPU).
        history: one row per epoch: ``epoch``, ``lr``, ``train_loss``, ``train_accuracy``,
            ``val_loss``, ``val_accuracy``, ``seconds`` and ``threads`` (CPU threads of torch).
        config: the training settings (dataset, regime, variant, patience, seed, schedule) and
            the run's fingerprint (``data_sha256``, ``n_per_class``, ``torch_version``,
            ``device_type``, ``threads``); plain values only.
    """

    network: ControlNet
    history: pd.DataFrame
    config: dict[str, Any]

    def summary(self) -> pd.DataFrame:
        """One row: dataset, regime, seed, epochs run, final losses and accuracies, seconds in all."""
        last = self.history.iloc[-1] if len(self.history) else pd.Series(dtype=float)
        row = {key: self.config.get(key) for key in ("dataset", "regime", "seed")}
        row["epochs"] = len(self.history)
        row.update({key: last.get(key) for key in ("train_loss", "train_accuracy", "val_loss", "val_accuracy")})
        row["seconds"] = float(self.history["seconds"].sum()) if len(self.history) else 0.0
        return pd.DataFrame([row])

    def to_dict(self) -> dict[str, Any]:
        """``network``: the state dict as float32 NumPy arrays (parameter name -> array); history and config."""
        state = {k: v.detach().cpu().numpy() for k, v in self.network.state_dict().items()}
        return {"network": state, "history": self.history, "config": dict(self.config)}

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> TrainResult:
        """A ``TrainResult`` from ``to_dict()``'s mapping (the network rebuilt from its state dict).

        Raises:
            InvalidArgumentError: missing or unknown fields, or a state dict that is not a
                control network's.
        """
        data = dict(data)
        if isinstance(data.get("network"), dict):
            variant = (data.get("config") or {}).get("variant")
            data["network"] = control_net_from_state(data["network"], variant)
        if isinstance(data.get("history"), dict):
            data["history"] = pd.DataFrame(data["history"])
        return super().from_dict(data)

    def _title(self) -> str:
        config = self.config
        return f"{config.get('dataset')}, {config.get('regime')}, seed {config.get('seed')}: {len(self.history)} epochs"

    def loaded(self) -> LoadedModel:
        """The network as ``extract_activations`` / ``model_view_rdms`` take it (raw [0, 1] input)."""
        dataset, regime, seed = (self.config.get(key, "?") for key in ("dataset", "regime", "seed"))
        label = f"trained on {dataset} ({regime}, seed {seed})"
        layers, extra = dict(self.network.layers), {"image": INPUT_PATH}
        return LoadedModel("control", self.network.eval(), label, layers, 32, None, None, extra_layers=extra)


def train(
    data: ImageData,
    *,
    regime: str = "original",
    variant: str = "paper",
    patience: int | None = None,
    epochs: int | None = None,
    batch_size: int | None = None,
    optimizer: str | None = None,
    lr: float | None = None,
    halve_every: int | None = None,
    val_fraction: float = 0.1,
    random_state: RandomState = 0,
    device: str | torch.device = "auto",
    checkpoint: PathLike | None = None,
    verbose: bool = False,
) -> TrainResult:
    """Train a ``ControlNet`` on ``data`` under a label regime.

    Schedule arguments left None come from ``SCHEDULES[data.name]`` (the paper's for cifar10
    and svhn; shorter ones with larger steps for the small offline sets), with
    ``RELEASED_HALVE_EVERY`` for the released variant. The learning rate is halved every
    ``halve_every`` epochs; no augmentation. Every argument and the data are checked before
    any work.

    Args:
        data: ``ImageData`` (``load_dataset``): float images (n, 3, 32, 32) in [0, 1], integer
            labels (n,) in [0, n_classes).
        regime: one of ``REGIMES`` (applied here, seeded by ``random_state``; the paper variant
            mirrors exactly half the images, the released one each image with probability 0.5).
        variant: ``"paper"`` or ``"released"`` (the network, its initialization, the halving
            period of cifar10 and svhn, the mirrored share and the default ``patience``; see
            ``control.ControlNet``).
        patience: early stopping: training stops once the validation loss has not fallen to or
            below its lowest value for ``patience`` epochs in a row, and the network returned
            holds the weights of the epoch with the lowest validation loss (the released
            notebooks' rule). 0: no early stopping, the last epoch's weights. None: the
            variant's (paper: 0; released: ``RELEASED_PATIENCE``, 200).
        epochs: passes over the training images (>= 1).
        batch_size: images per step (>= 1).
        optimizer: ``"sgd"`` (momentum 0.9) or ``"adam"``.
        lr: initial learning rate (> 0).
        halve_every: epochs between halvings of the learning rate (>= 1).
        val_fraction: share of the images held out for validation (seeded split), in [0, 1),
            leaving at least one training image.
        random_state: seed (an integer >= 0, or a ``np.random.Generator`` from which one is
            derived, ``derive_seed``; the integer is recorded in ``config``) of the validation split
            (``default_rng(seed)``), the regime's mirrored half (the independent stream
            ``seed_sequence(seed, 1)``), the initial weights and every epoch's shuffle and dropout
            (``indexed_seed(seed, epoch)``). torch's global random state is forked
            (``torch.random.fork_rng``) and left as it was. The same seed, device type and CPU thread count
            (``torch.get_num_threads()``) give bit-identical weights; another thread count
            rounds sums differently (weights then differ in the last bits, growing with epochs).
        device: ``"auto"``, ``"cpu"``, ``"cuda"``; on CUDA the forward pass runs in bfloat16
            autocast.
        checkpoint: file written atomically after every epoch. When it exists, training resumes
            after its last epoch, with the same result as an uninterrupted run (a finished run
            returns at once), provided its fingerprint matches this run: the SHA-256 of the
            images and labels, images per class, dataset, regime, variant, patience, schedule,
            optimizer, seed, validation share, torch version and device type. ``epochs`` may
            differ (the run is extended, or returned as it stands; a run that stopped early
            stays stopped); a different thread count warns (the resumed epochs will not be
            bit-identical to an uninterrupted run) rather than refuses. The checkpoint also
            holds the best epoch's weights when early stopping is on.
        verbose: tqdm progress over epochs.

    Returns:
        ``TrainResult``; its ``config`` holds the fingerprint and ``threads``, the thread count
        of this call (the history's ``threads`` column says it per epoch).

    Raises:
        InvalidArgumentError: an argument out of range (named), early stopping without
            validation images, or a checkpoint written by a run with another fingerprint (each
            changed field, checkpoint vs now).
        InvalidTypeError: ``data`` is not an ``ImageData``.
        DataError: images or labels of the wrong shape, type or range.
        FileFormatError: a checkpoint that cannot be read safely or is not one of ``train``'s.
    """
    plan = _plan(
        data,
        regime=regime,
        variant=variant,
        patience=patience,
        epochs=epochs,
        batch_size=batch_size,
        optimizer=optimizer,
        lr=lr,
        halve_every=halve_every,
        val_fraction=val_fraction,
        random_state=random_state,
        device=device,
        checkpoint=checkpoint,
    )
    with torch.random.fork_rng(devices=_devices(plan.device)):  # torch's global RNG is left as it was
        run = TrainRun(plan)
        for epoch in tqdm(run.epochs(), total=run.epochs_left, desc=f"training {data.name}", disable=not verbose):
            run.epoch(epoch)
        return TrainResult(*run.finish())


def _plan(
    data: ImageData, *, regime: str, variant: str, patience: int | None, epochs: int | None,
    batch_size: int | None, optimizer: str | None, lr: float | None, halve_every: int | None,
    val_fraction: float, random_state: RandomState, device: str | torch.device, checkpoint: PathLike | None,
    cache: dict[tuple[str, int], Any] | None = None,
) -> TrainPlan:  # fmt: skip
    """Check ``train``'s arguments and data and prepare the run.

    ``cache``: a dict that several plans share, so data that several runs train on is hashed
    and copied to the device once (it holds the data it was computed from).
    """
    cache = {} if cache is None else cache
    check_data(data)
    check_option("regime", regime, REGIMES)
    check_option("variant", variant, CONTROL_VARIANTS)
    released = variant == "released"
    default_patience = RELEASED_PATIENCE if released else 0
    patience = default_patience if patience is None else check_count("patience", patience, minimum=0)
    seed = derive_seed(random_state, maximum=_MAX_SEED, required=True)
    base = data.name.split(" ")[0]
    schedule = {**SCHEDULES.get(base, SCHEDULES["cifar10"])}
    if released and base in RELEASED_HALVE_EVERY:
        schedule["halve_every"] = RELEASED_HALVE_EVERY[base]
    given = {"epochs": epochs, "batch_size": batch_size, "optimizer": optimizer, "lr": lr, "halve_every": halve_every}
    schedule.update({k: v for k, v in given.items() if v is not None})
    check_option("optimizer", schedule["optimizer"], ("sgd", "adam"))
    for name in ("epochs", "batch_size", "halve_every"):
        schedule[name] = check_count(name, schedule[name])
    schedule["lr"] = check_positive("lr", schedule["lr"])
    val_fraction = check_fraction(val_fraction, len(data))
    if patience and int(round(val_fraction * len(data))) == 0:
        raise InvalidArgumentError(
            f"Invalid value for 'patience': early stopping watches the validation loss, but val_fraction "
            f"{val_fraction} leaves no validation images; give val_fraction > 0 or patience=0"
        )
    device = check_device(device)
    if checkpoint is not None and Path(checkpoint).exists() and not Path(checkpoint).is_file():
        raise InvalidArgumentError(f"Invalid value for 'checkpoint': expected a file, got the folder {checkpoint}")
    config = {
        "dataset": data.name,
        "regime": regime,
        "variant": variant,
        "patience": patience,
        "seed": seed,
        "val_fraction": val_fraction,
        **schedule,
        **_fingerprint(data, device, cache),
    }
    # the mirrored half and the validation split come from independent streams of the seed
    mirroring = "bernoulli" if released else "half"
    data = apply_regime(data, regime, random_state=seed_sequence(seed, _REGIME_STREAM), mirroring=mirroring)
    order = torch.from_numpy(np.random.default_rng(seed).permutation(len(data)))
    n_val = int(round(val_fraction * len(data)))
    images, labels = (_cached(cache, "on device", t, lambda t: t.to(device)) for t in (data.images, data.labels))
    val, fit = order[:n_val].to(device), order[n_val:].to(device)
    return TrainPlan(data, images, labels, fit, val, schedule, config, seed, device, checkpoint)


def _devices(device: torch.device) -> list[int]:
    """The CUDA devices whose random state ``train`` forks (none on the CPU)."""
    if device.type != "cuda":
        return []
    return [device.index if device.index is not None else torch.cuda.current_device()]


def _fingerprint(data: ImageData, device: torch.device, cache: dict[tuple[str, int], Any]) -> dict[str, Any]:
    """What else determines a run besides the schedule: the data's content and the software."""
    counts = torch.bincount(data.labels.long(), minlength=data.n_classes).tolist()
    return {
        "data_sha256": _cached(cache, "sha256", data, _data_sha256),
        "n_per_class": counts[0] if len(set(counts)) == 1 else counts,
        "torch_version": str(torch.__version__),
        "device_type": device.type,
        "threads": torch.get_num_threads(),
    }


def _data_sha256(data: ImageData) -> str:
    """The SHA-256 of the images (as float32), the labels (as int64), their shapes and the class count."""
    digest = hashlib.sha256()
    for tensor in (data.images.float(), data.labels.long()):
        digest.update(repr(tuple(tensor.shape)).encode())
        digest.update(np.ascontiguousarray(tensor.cpu().numpy()).data)
    digest.update(str(data.n_classes).encode())
    return digest.hexdigest()


def _cached(cache: dict[tuple[str, int], Any], what: str, source: Any, compute: Callable[[Any], Any]) -> Any:
    """``compute(source)``, kept in ``cache`` under ``(what, id(source))`` with ``source`` (so its id stays unique)."""
    key = (what, id(source))
    if key not in cache:
        cache[key] = (source, compute(source))
    return cache[key][1]
