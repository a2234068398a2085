"""One control network's training run, epoch by epoch: the loop that ``train`` and ``train_many`` share.

``TrainRun`` builds a ``ControlNet`` from its seed, resumes it from a checkpoint of ``train``
(refused when the checkpoint's fingerprint differs), trains one epoch at a time (seeded shuffle
and dropout, bfloat16 autocast on CUDA), validates, applies early stopping and writes the
checkpoint atomically after every epoch. ``TrainPlan`` is a checked run (``training._plan``).
"""

from __future__ import annotations

import math
import time
import warnings
from collections.abc import Iterable, Iterator, Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any

import pandas as pd
import torch
from torch import nn

from .._utils import atomic_path, indexed_seed
from ..errors import FileFormatError, InvalidArgumentError
from .control import ControlNet
from .devices import autocast
from .models import load_torch_file

if TYPE_CHECKING:
    from .._typing import PathLike
    from .datasets import ImageData

# Settings of a run that may differ on resume: more epochs extend the run; another thread count warns.
_EXTENDABLE, _WARN_ONLY = ("epochs",), ("threads",)
_BEFORE_VARIANTS = {"variant": "paper", "patience": 0}
_LOSS = nn.CrossEntropyLoss()


@dataclass
class TrainPlan:
    """One checked run of ``train``: the regime's data on the device, its split, schedule and config."""

    data: ImageData
    images: torch.Tensor
    labels: torch.Tensor
    fit: torch.Tensor
    val: torch.Tensor
    schedule: dict[str, Any]
    config: dict[str, Any]
    seed: int
    device: torch.device
    checkpoint: PathLike | None


class TrainRun:
    """One network's training, epoch by epoch: ``train`` runs one, ``training_many.train_many`` several.

    Built inside a fork of torch's global random state, which seeds the initial weights.
    ``generator`` is where each epoch's dropout draws from: None, torch's global generators
    (``train``); else a generator of this run, seeded as those would be (the caller routes the
    network's dropout through it, so runs in parallel threads share no random state).
    """

    def __init__(self, plan: TrainPlan, generator: torch.Generator | None = None) -> None:
        self.plan, self.generator = plan, generator
        schedule, config, device = plan.schedule, plan.config, plan.device
        _seed_torch(plan.seed, device)  # the initial weights
        self.network = network = ControlNet(plan.data.n_classes, config["variant"]).to(device)
        self.step: torch.optim.Optimizer
        if schedule["optimizer"] == "sgd":
            self.step = torch.optim.SGD(network.parameters(), lr=schedule["lr"], momentum=0.9)
        else:
            self.step = torch.optim.Adam(network.parameters(), lr=schedule["lr"])
        self.scheduler = torch.optim.lr_scheduler.StepLR(self.step, step_size=schedule["halve_every"], gamma=0.5)
        self.rows: list[dict[str, Any]] = []
        self.start = 0
        self.best: dict[str, torch.Tensor] | None = None
        checkpoint = plan.checkpoint
        if checkpoint is not None and Path(checkpoint).exists():
            state = _read_checkpoint(checkpoint, config, device)
            try:
                network.load_state_dict(state["network"])
                self.step.load_state_dict(state["optimizer"])
                self.scheduler.load_state_dict(state["scheduler"])
            except (RuntimeError, KeyError, ValueError) as error:
                raise FileFormatError(f"{checkpoint}: its network or optimizer state does not fit ({error})") from None
            self.rows, self.start, self.best = state["history"], len(state["history"]), state.get("best")
            config["epochs"] = max(config["epochs"], self.start)
        self.stopped = early_stop_epoch([row["val_loss"] for row in self.rows], config["patience"]) is not None

    @property
    def epochs_left(self) -> int:
        """Epochs still to run (at most: early stopping may end the run sooner)."""
        return 0 if self.stopped else max(self.plan.schedule["epochs"] - self.start, 0)

    def epochs(self) -> Iterator[int]:
        """The 0-based epochs still to run, until the schedule ends or early stopping ends the run."""
        for epoch in range(self.start, self.plan.schedule["epochs"]):
            if self.stopped:
                return
            yield epoch

    def epoch(self, epoch: int) -> None:
        """Train one epoch (0-based), validate, record its row and write the checkpoint."""
        plan, network, step, schedule, config = self.plan, self.network, self.step, self.plan.schedule, self.plan.config
        images, labels, fit, device, seed = plan.images, plan.labels, plan.fit, plan.device, plan.seed
        began = time.perf_counter()
        generator = torch.Generator().manual_seed(indexed_seed(seed, epoch))  # this epoch's shuffle
        if self.generator is None:
            _seed_torch(indexed_seed(seed, epoch), device)  # this epoch's dropout
        else:
            self.generator.manual_seed(indexed_seed(seed, epoch))
        shuffled = fit[torch.randperm(len(fit), generator=generator).to(device)]
        network.train()
        total_loss = torch.zeros((), device=device)
        correct = torch.zeros((), device=device, dtype=torch.long)
        for first in range(0, len(shuffled), schedule["batch_size"]):
            batch = shuffled[first : first + schedule["batch_size"]]
            with autocast(device):
                output = network(images[batch])
                loss = _LOSS(output.float(), labels[batch])
            step.zero_grad(set_to_none=True)
            loss.backward()
            step.step()
            total_loss += loss.detach() * len(batch)
            correct += (output.argmax(1) == labels[batch]).sum()
        lr_used = self.scheduler.get_last_lr()[0]
        self.scheduler.step()
        val_loss, val_accuracy = _evaluate(network, images, labels, plan.val, schedule["batch_size"], device)
        self.rows.append(
            {
                "epoch": epoch + 1,
                "lr": float(lr_used),
                "train_loss": float(total_loss) / len(fit),
                "train_accuracy": float(correct) / len(fit),
                "val_loss": val_loss,
                "val_accuracy": val_accuracy,
                "seconds": time.perf_counter() - began,
                "threads": config["threads"],
            }
        )
        losses, patience = [row["val_loss"] for row in self.rows], config["patience"]
        if patience and losses[-1] <= min(losses):  # the best epoch so far (ties: the later one)
            self.best = {k: v.detach().clone() for k, v in network.state_dict().items()}
        self.stopped = early_stop_epoch(losses, patience) is not None
        if plan.checkpoint is not None:
            state = {
                "config": config,
                "network": network.state_dict(),
                "optimizer": step.state_dict(),
                "scheduler": self.scheduler.state_dict(),
                "history": self.rows,
                "best": self.best,
            }
            with atomic_path(plan.checkpoint) as tmp:
                torch.save(state, tmp)

    def finish(self) -> tuple[ControlNet, pd.DataFrame, dict[str, Any]]:
        """What ``TrainResult`` holds: the network, the history (a DataFrame) and the config.

        The network holds the best epoch's weights under early stopping, else the last; CPU, eval mode.
        """
        if self.best is not None:
            self.network.load_state_dict(self.best)
        return self.network.cpu().eval(), pd.DataFrame(self.rows), self.plan.config


def early_stop_epoch(val_losses: Iterable[float], patience: int) -> int | None:
    """The epoch (1-based) after which early stopping ends a run, or None while it goes on.

    The rule of the authors' released notebooks: an epoch whose validation loss is at most the
    lowest so far resets a counter, any other adds one, and the run stops when the counter
    reaches ``patience`` (0: never).
    """
    lowest, waited = math.inf, 0
    for epoch, loss in enumerate(val_losses, start=1):
        if loss <= lowest:
            lowest, waited = loss, 0
        else:
            waited += 1
            if patience and waited >= patience:
                return epoch
    return None


def _seed_torch(seed: int, device: torch.device) -> None:
    """Seed the random state that dropout draws from: the CPU's and, on CUDA, that device's."""
    torch.default_generator.manual_seed(seed)
    if device.type == "cuda":
        with torch.cuda.device(device):
            torch.cuda.manual_seed(seed)


def _read_checkpoint(path: PathLike, config: Mapping[str, Any], device: torch.device) -> dict[str, Any]:
    """A checkpoint of ``train``, refused when its fingerprint differs from ``config``'s."""
    state = load_torch_file(path, device, ("config", "network", "optimizer", "scheduler", "history"))
    if not isinstance(state["config"], dict) or not isinstance(state["history"], list):
        raise FileFormatError(f"{path}: not a checkpoint of train (config or history of the wrong type)")
    old = {**_BEFORE_VARIANTS, **state["config"]}  # checkpoints written before variants were paper runs
    keys = [k for k in dict.fromkeys([*old, *config]) if k not in _EXTENDABLE]
    changed = [k for k in keys if old.get(k, "(absent)") != config.get(k, "(absent)")]
    refused = [k for k in changed if k not in _WARN_ONLY]
    if refused:
        listed = "; ".join(f"{k}: {old.get(k, '(absent)')} vs {config.get(k, '(absent)')}" for k in refused)
        raise InvalidArgumentError(
            f"checkpoint {path} was written with other settings (checkpoint vs now): {listed}. Rerun with the "
            "checkpoint's settings, or remove it (or use another output folder) to start afresh"
        )
    if "threads" in changed:
        warnings.warn(
            f"checkpoint {path} was written with {old.get('threads')} CPU threads, this run uses {config['threads']}: "
            "the resumed epochs round differently, so the weights will not be bit-identical to an uninterrupted run",
            UserWarning,
            stacklevel=3,
        )
    return state


@torch.no_grad()
def _evaluate(
    network: nn.Module,
    images: torch.Tensor,
    labels: torch.Tensor,
    rows: torch.Tensor,
    batch_size: int,
    device: torch.device,
) -> tuple[float, float]:
    if len(rows) == 0:
        return float("nan"), float("nan")
    network.eval()
    loss, correct = 0.0, 0
    for first in range(0, len(rows), batch_size * 4):
        batch = rows[first : first + batch_size * 4]
        with autocast(device):
            output = network(images[batch]).float()
        loss += float(nn.functional.cross_entropy(output, labels[batch], reduction="sum"))
        correct += int((output.argmax(1) == labels[batch]).sum())
    return loss / len(rows), correct / len(rows)
