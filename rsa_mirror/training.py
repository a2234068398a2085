"""Control networks of Figure 4: the paper's small CNN, label regimes, datasets and training.

The network (METHODS.md, "Control networks"): conv3x3(32) - BN - conv3x3(32) - maxpool -
conv3x3(64) - BN - conv3x3(128) - fc(128) - dropout 0.5 - fc(256) - dropout 0.5 - fc(K), ReLU
after every conv and fc but the last, stride 1 and no padding (Keras' defaults, which the
paper's code used), He-uniform weights, zero biases; 32 x 32 RGB input in [0, 1]. Layer
presets conv1..conv4, fc1, fc2 are the ReLU outputs, fc3 the logits.

Label regimes wrap any labelled image set: ``original``; ``mirror_invariant`` (a random half
of the images mirrored, labels kept: symSVHN); ``mirror_sensitive`` (the same half mirrored,
their labels moved to K new classes: asymSVHN).

Datasets: ``digits`` (scikit-learn's 8 x 8 digits, shipped with it, upsampled to 32 x 32;
asymmetric classes like SVHN's), ``rendered`` (the bilaterally symmetric categories of
``render_objects`` without faces, at random yaw, elevation and lighting: a CIFAR-10 stand-in),
and ``cifar10`` / ``svhn`` through torchvision from a local folder (downloaded only when asked).

``train`` keeps the data as tensors on the device, is seeded and deterministic (each epoch's
shuffle and dropout come from the seed and the epoch number), writes an atomic checkpoint
every epoch and resumes exactly where a killed run stopped.
"""

from __future__ import annotations

import time
from collections import OrderedDict
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import pandas as pd
import torch
from torch import nn
from tqdm.auto import tqdm

from ._utils import atomic_path, check_option, check_random_state
from .activations import resolve_device
from .models import LoadedModel

REGIMES = ("original", "mirror_invariant", "mirror_sensitive")
DATASETS = ("digits", "rendered", "cifar10", "svhn")
RENDERED_CATEGORIES = ("car", "boat", "chair", "airplane", "animal", "tool")  # symmetric, no faces
CONTROL_LAYERS = {
    "conv1": "relu1",
    "conv2": "relu2",
    "conv3": "relu3",
    "conv4": "relu4",
    "fc1": "relu5",
    "fc2": "relu6",
    "fc3": "fc3",
}
# The paper's schedules (250 epochs, batch 256) and the ones used here at small scale.
SCHEDULES = {
    "cifar10": {"optimizer": "sgd", "lr": 1e-3, "halve_every": 20, "epochs": 250, "batch_size": 256},
    "svhn": {"optimizer": "adam", "lr": 1e-5, "halve_every": 50, "epochs": 250, "batch_size": 256},
    "rendered": {"optimizer": "sgd", "lr": 1e-2, "halve_every": 10, "epochs": 30, "batch_size": 64},
    "digits": {"optimizer": "adam", "lr": 1e-3, "halve_every": 10, "epochs": 30, "batch_size": 64},
}


# Shipped weights: the rendered-categories network (original labels, seed 0, the README's
# schedule), trained by examples/figure4_control_networks.py on an H200; float16, 3.6 MB.
SHIPPED_NETWORK = Path(__file__).parent / "weights" / "control_rendered.pt"
SHIPPED_SHA256 = "5aa0b244b8e4e85fab281ef8368b9207b67826596ac72d26eccfd34eb196e4f4"


class ControlNet(nn.Sequential):
    """The paper's control network for 32 x 32 RGB input and ``n_classes`` outputs."""

    def __init__(self, n_classes=10):
        super().__init__(
            OrderedDict(
                [
                    ("conv1", nn.Conv2d(3, 32, 3)),
                    ("relu1", nn.ReLU()),
                    ("bn1", nn.BatchNorm2d(32)),
                    ("conv2", nn.Conv2d(32, 32, 3)),
                    ("relu2", nn.ReLU()),
                    ("pool", nn.MaxPool2d(2)),
                    ("conv3", nn.Conv2d(32, 64, 3)),
                    ("relu3", nn.ReLU()),
                    ("bn2", nn.BatchNorm2d(64)),
                    ("conv4", nn.Conv2d(64, 128, 3)),
                    ("relu4", nn.ReLU()),
                    ("flatten", nn.Flatten()),
                    ("fc1", nn.Linear(128 * 10 * 10, 128)),
                    ("relu5", nn.ReLU()),
                    ("drop1", nn.Dropout(0.5)),
                    ("fc2", nn.Linear(128, 256)),
                    ("relu6", nn.ReLU()),
                    ("drop2", nn.Dropout(0.5)),
                    ("fc3", nn.Linear(256, n_classes)),
                ]
            )
        )
        for module in self.modules():
            if isinstance(module, (nn.Conv2d, nn.Linear)):
                nn.init.kaiming_uniform_(module.weight, nonlinearity="relu")  # He-uniform: sqrt(6 / fan_in)
                nn.init.zeros_(module.bias)


@dataclass
class ImageData:
    """A labelled image set held as tensors.

    Attributes:
        images: float32 (n, 3, 32, 32) in [0, 1].
        labels: int64 (n,).
        n_classes: number of classes.
        name: where it came from.
    """

    images: torch.Tensor
    labels: torch.Tensor
    n_classes: int
    name: str

    def __len__(self):
        return len(self.labels)


def load_dataset(name, *, root=None, download=False, n_per_class=1000, random_state=0, verbose=False) -> ImageData:
    """One of ``DATASETS`` as 32 x 32 RGB tensors (training split for cifar10/svhn).

    Args:
        name: ``"digits"``, ``"rendered"``, ``"cifar10"`` or ``"svhn"``.
        root: folder of the torchvision datasets (cifar10, svhn).
        download: let torchvision download cifar10/svhn into ``root`` (needs internet).
        n_per_class: images per category of ``rendered``.
        random_state: seed of ``rendered``.
        verbose: progress bar while rendering.

    Raises:
        FileNotFoundError: cifar10/svhn not in ``root`` and ``download`` not set (the message
            says how to get them).
    """
    check_option("name", name, DATASETS)
    if name == "digits":
        from sklearn.datasets import load_digits

        digits = load_digits()
        images = torch.from_numpy(digits.images.astype(np.float32) / 16.0)[:, None]
        images = nn.functional.interpolate(images, size=(32, 32), mode="bilinear", align_corners=False)
        return ImageData(images.expand(-1, 3, -1, -1).contiguous(), torch.from_numpy(digits.target), 10, "digits")
    if name == "rendered":
        return render_training_set(n_per_class=n_per_class, random_state=random_state, verbose=verbose)
    return _torchvision_dataset(name, root, download)


def render_training_set(*, n_per_class=1000, views_per_exemplar=10, random_state=0, verbose=False) -> ImageData:
    """Bilaterally symmetric categories (``RENDERED_CATEGORIES``) at random viewpoints and light.

    Each exemplar (``render.build_object``) is rendered ``views_per_exemplar`` times at yaw
    uniform in [-180, 180), elevation uniform in [-25, 25] degrees and a random light from the
    front hemisphere, at 32 x 32 with 2x supersampling.
    """
    from .render import build_object, render_mesh

    rng = check_random_state(random_state)
    n_exemplars = -(-int(n_per_class) // views_per_exemplar)
    images, labels = [], []
    todo = [(k, e) for k in range(len(RENDERED_CATEGORIES)) for e in range(n_exemplars)]
    for label, _ in tqdm(todo, desc="rendering training set", disable=not verbose):
        mesh = build_object(RENDERED_CATEGORIES[label], rng)
        for _ in range(views_per_exemplar):
            light = rng.normal(size=3)
            light[2] = abs(light[2]) + 0.5
            image, _coverage = render_mesh(
                mesh,
                rng.uniform(-180, 180),
                size=32,
                elevation_deg=rng.uniform(-25, 25),
                light=light / np.linalg.norm(light),
            )
            images.append(image)
            labels.append(label)
    images = torch.from_numpy(np.stack(images)[:, None]).expand(-1, 3, -1, -1).contiguous()
    return ImageData(images, torch.tensor(labels), len(RENDERED_CATEGORIES), "rendered")


def _torchvision_dataset(name, root, download) -> ImageData:
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


def apply_regime(data, regime, *, random_state=0) -> ImageData:
    """The label regime over ``data``: which half is mirrored comes from ``random_state``."""
    check_option("regime", regime, REGIMES)
    if regime == "original":
        return data
    rng = check_random_state(random_state)
    mirrored = torch.from_numpy(rng.permutation(len(data)) < len(data) // 2)
    images = data.images.clone()
    images[mirrored] = images[mirrored].flip(-1)
    labels, n_classes = data.labels.clone(), data.n_classes
    if regime == "mirror_sensitive":
        labels[mirrored] += data.n_classes
        n_classes *= 2
    return ImageData(images, labels, n_classes, f"{data.name} ({regime})")


@dataclass
class TrainResult:
    """A trained control network and its history.

    Attributes:
        network: the ``ControlNet`` (eval mode, CPU).
        history: one row per epoch: ``epoch``, ``lr``, ``train_loss``, ``train_accuracy``,
            ``val_loss``, ``val_accuracy``, ``seconds``.
        config: the training settings (dataset, regime, seed, schedule, ...).
    """

    network: ControlNet
    history: pd.DataFrame
    config: dict

    def summary(self) -> pd.DataFrame:
        """One row: dataset, regime, seed, epochs run, final losses and accuracies, seconds in all."""
        last = self.history.iloc[-1] if len(self.history) else pd.Series(dtype=float)
        row = {key: self.config.get(key) for key in ("dataset", "regime", "seed")}
        row["epochs"] = len(self.history)
        row.update({key: last.get(key) for key in ("train_loss", "train_accuracy", "val_loss", "val_accuracy")})
        row["seconds"] = float(self.history["seconds"].sum()) if len(self.history) else 0.0
        return pd.DataFrame([row])

    def loaded(self) -> LoadedModel:
        """The network as ``extract_activations`` / ``model_view_rdms`` take it (raw [0, 1] input)."""
        label = f"trained on {self.config['dataset']} ({self.config['regime']}, seed {self.config['seed']})"
        return LoadedModel("control", self.network.eval(), label, dict(CONTROL_LAYERS), 32, mean=None, std=None)


def train(
    data,
    *,
    regime="original",
    epochs=None,
    batch_size=None,
    optimizer=None,
    lr=None,
    halve_every=None,
    val_fraction=0.1,
    random_state=0,
    device="auto",
    checkpoint=None,
    verbose=False,
) -> TrainResult:
    """Train a ``ControlNet`` on ``data`` under a label regime.

    Schedule arguments left None come from ``SCHEDULES[data.name]`` (the paper's for cifar10
    and svhn; shorter ones with larger steps for the small offline sets). The learning rate is
    halved every ``halve_every`` epochs; no augmentation.

    Args:
        data: ``ImageData`` (``load_dataset``).
        regime: one of ``REGIMES`` (applied here, seeded by ``random_state``).
        epochs: passes over the training images.
        batch_size: images per step.
        optimizer: ``"sgd"`` (momentum 0.9) or ``"adam"``.
        lr: initial learning rate.
        halve_every: epochs between halvings of the learning rate.
        val_fraction: share of the images held out for validation (seeded split).
        random_state: int seed of the split, the regime, the initial weights, every epoch's
            shuffle and dropout: the same seed gives the same network bit for bit (on one
            device type).
        device: ``"auto"``, ``"cpu"``, ``"cuda"``; on CUDA the forward pass runs in bfloat16
            autocast.
        checkpoint: file written atomically after every epoch; when it exists and holds the
            same settings (``epochs`` may grow), training resumes after its last epoch, with
            the same result as an uninterrupted run (a finished run returns at once).
        verbose: tqdm progress over epochs.

    Returns:
        ``TrainResult``.
    """
    seed = int(random_state)
    base = data.name.split(" ")[0]
    schedule = {**SCHEDULES.get(base, SCHEDULES["cifar10"])}
    given = {"epochs": epochs, "batch_size": batch_size, "optimizer": optimizer, "lr": lr, "halve_every": halve_every}
    schedule.update({k: v for k, v in given.items() if v is not None})
    check_option("optimizer", schedule["optimizer"], ("sgd", "adam"))
    config = {"dataset": data.name, "regime": regime, "seed": seed, "val_fraction": val_fraction, **schedule}
    data = apply_regime(data, regime, random_state=seed)
    device = resolve_device(device)
    order = torch.from_numpy(np.random.default_rng(seed).permutation(len(data)))
    n_val = int(round(val_fraction * len(data)))
    images, labels = data.images.to(device), data.labels.to(device)
    val, fit = order[:n_val].to(device), order[n_val:].to(device)
    torch.manual_seed(seed)
    network = ControlNet(data.n_classes).to(device)
    if schedule["optimizer"] == "sgd":
        step = torch.optim.SGD(network.parameters(), lr=schedule["lr"], momentum=0.9)
    else:
        step = torch.optim.Adam(network.parameters(), lr=schedule["lr"])
    scheduler = torch.optim.lr_scheduler.StepLR(step, step_size=schedule["halve_every"], gamma=0.5)
    rows, start = [], 0
    if checkpoint is not None and Path(checkpoint).exists():
        state = torch.load(checkpoint, map_location=device, weights_only=False)
        if {k: v for k, v in state["config"].items() if k != "epochs"} != {
            k: v for k, v in config.items() if k != "epochs"
        }:
            raise ValueError(f"checkpoint {checkpoint} was written with other settings: {state['config']} vs {config}")
        network.load_state_dict(state["network"])
        step.load_state_dict(state["optimizer"])
        scheduler.load_state_dict(state["scheduler"])
        rows, start = state["history"], len(state["history"])
        config["epochs"] = max(config["epochs"], start)
    autocast = {"device_type": device.type, "dtype": torch.bfloat16, "enabled": device.type == "cuda"}
    loss_function = nn.CrossEntropyLoss()
    for epoch in tqdm(range(start, schedule["epochs"]), desc=f"training {data.name}", disable=not verbose):
        began = time.perf_counter()
        generator = torch.Generator().manual_seed(seed * 1_000_003 + epoch)
        torch.manual_seed(seed * 1_000_003 + epoch)  # dropout of this epoch
        shuffled = fit[torch.randperm(len(fit), generator=generator).to(device)]
        network.train()
        total_loss = torch.zeros((), device=device)
        correct = torch.zeros((), device=device, dtype=torch.long)
        for first in range(0, len(shuffled), schedule["batch_size"]):
            batch = shuffled[first : first + schedule["batch_size"]]
            with torch.autocast(**autocast):
                output = network(images[batch])
                loss = loss_function(output.float(), labels[batch])
            step.zero_grad(set_to_none=True)
            loss.backward()
            step.step()
            total_loss += loss.detach() * len(batch)
            correct += (output.argmax(1) == labels[batch]).sum()
        lr_used = scheduler.get_last_lr()[0]
        scheduler.step()
        val_loss, val_accuracy = _evaluate(network, images, labels, val, schedule["batch_size"], autocast)
        rows.append(
            {
                "epoch": epoch + 1,
                "lr": lr_used,
                "train_loss": float(total_loss) / len(fit),
                "train_accuracy": float(correct) / len(fit),
                "val_loss": val_loss,
                "val_accuracy": val_accuracy,
                "seconds": time.perf_counter() - began,
            }
        )
        if checkpoint is not None:
            state = {
                "config": config,
                "network": network.state_dict(),
                "optimizer": step.state_dict(),
                "scheduler": scheduler.state_dict(),
                "history": rows,
            }
            with atomic_path(checkpoint) as tmp:
                torch.save(state, tmp)
    network = network.cpu().eval()
    return TrainResult(network, pd.DataFrame(rows), config)


@torch.no_grad()
def _evaluate(network, images, labels, rows, batch_size, autocast) -> tuple:
    if len(rows) == 0:
        return float("nan"), float("nan")
    network.eval()
    loss, correct = 0.0, 0
    for first in range(0, len(rows), batch_size * 4):
        batch = rows[first : first + batch_size * 4]
        with torch.autocast(**autocast):
            output = network(images[batch]).float()
        loss += float(nn.functional.cross_entropy(output, labels[batch], reduction="sum"))
        correct += int((output.argmax(1) == labels[batch]).sum())
    return loss / len(rows), correct / len(rows)


def save_network(path, result, *, dtype=torch.float16) -> Path:
    """Write a trained network's weights (float16 by default, a few MB) and settings atomically."""
    state = {k: v.to(dtype) if v.is_floating_point() else v for k, v in result.network.state_dict().items()}
    with atomic_path(path) as tmp:
        torch.save({"config": result.config, "network": state, "history": result.history.to_dict("list")}, tmp)
    return Path(path)


def load_network(path) -> TrainResult:
    """Read ``save_network``'s file back (weights widened to float32)."""
    state = torch.load(path, map_location="cpu", weights_only=False)
    n_classes = state["network"]["fc3.weight"].shape[0]
    network = ControlNet(n_classes)
    network.load_state_dict({k: v.float() if v.is_floating_point() else v for k, v in state["network"].items()})
    return TrainResult(network.eval(), pd.DataFrame(state["history"]), state["config"])


def control_msvt(network, stimuli, *, device="auto", batch_size=256) -> pd.DataFrame:
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
    """
    import warnings

    from .activations import model_view_rdms
    from .symmetry import msvt_by_object

    loaded = network.loaded() if isinstance(network, TrainResult) else network
    tables = []
    for layer in loaded.layers:  # one pass per layer, so a dead layer does not stop the others
        try:
            view_rdms = model_view_rdms(loaded, stimuli, [layer], device=device, batch_size=batch_size)
        except ValueError as error:
            warnings.warn(f"{loaded.weights}, {layer}: no index ({error})", stacklevel=2)
            objects = pd.DataFrame(
                {"object": stimuli.descriptors["object"], "category": stimuli.descriptors["category"]}
            )
            tables.append(objects.drop_duplicates("object").assign(name=layer, msvt=np.nan))
            continue
        tables.append(msvt_by_object(view_rdms))
    return pd.concat(tables, ignore_index=True).rename(columns={"name": "layer"})


def load_shipped_network() -> TrainResult:
    """The control network shipped with the package (``SHIPPED_NETWORK``), checked by SHA-256.

    Raises:
        FileNotFoundError: the file is missing from the installation.
        ValueError: its SHA-256 differs from ``SHIPPED_SHA256`` (a damaged or replaced file).
    """
    import hashlib

    if not SHIPPED_NETWORK.is_file():
        raise FileNotFoundError(f"{SHIPPED_NETWORK} is missing: reinstall rsa_mirror (it is package data)")
    digest = hashlib.sha256(SHIPPED_NETWORK.read_bytes()).hexdigest()
    if digest != SHIPPED_SHA256:
        raise ValueError(f"{SHIPPED_NETWORK}: SHA-256 {digest} differs from the recorded {SHIPPED_SHA256}")
    return load_network(SHIPPED_NETWORK)
