"""Training many control networks at once on one device, each bit-identical to ``train`` alone.

``train_many(jobs, device=...)`` trains one ``ControlNet`` per job (a dict of ``train``'s
arguments) and returns their ``TrainResult`` in the order of ``jobs``. Each network runs
``train``'s own epoch loop (``_train_run.TrainRun``) on a host thread of its own and, on CUDA, a
CUDA stream of its own, so its operations are those of ``train`` alone, kernel for kernel; its
dropout draws from a generator of its own seeded as ``train`` seeds torch's global one, so its
random numbers are those of ``train`` alone. Checkpoints, resume, early stopping and the
fingerprint are ``train``'s: a job's checkpoint is interchangeable with ``train``'s.

Why threads and streams rather than one fused model (``torch.func.stack_module_state`` +
``vmap``): a control network's step is small (a batch of 256 images of 32 x 32 pixels, about
30 GFLOP forward and backward), so alone on a large GPU it is bound by the host launching its
kernels, not by the GPU: on one H200 the paper's schedule runs at 0.69 s per epoch of 176
steps (``benchmarks/bench_training.py``), 3.9 ms per step, a few per cent of what the GPU's
bfloat16 arithmetic allows. To fill the GPU, many networks must be launched at once. ``vmap``
does that with one kernel per layer for all networks, but it computes other kernels (a
convolution over stacked weights runs as a grouped convolution, a linear layer as a batched
product) that round differently: on 2 CPU cores, one thread, a vmapped conv2d (32 -> 64
channels, 4 networks) differs from the networks' own conv2d in the last bit of 33% of its
outputs, a vmapped linear layer in 64%, so weights drift apart over epochs; dropout under vmap
cannot draw each network's own stream, and BatchNorm's running statistics need functional
handling. Interleaving the networks' steps on one host thread keeps them exact but leaves the
host's launch work as it was (N networks, N times the launches from one thread): no faster.
Host threads launch in parallel (torch releases the GIL while it dispatches an operation) and
each network's own stream lets the GPU overlap their kernels. How far this fills the GPU (the
GIL's share of each step, autograd's one engine thread per device) is not yet measured;
``benchmarks/bench_training_many.py`` measures it, beside ``train`` on worker processes
sharing the GPU (``tasks.run_tasks``), the other exact way.

On the CPU the networks train one after another by default (``workers=1``): each network's
operations already share the CPU's threads.
"""

from __future__ import annotations

import contextlib
import os
import threading
from collections.abc import Callable, Iterator, Mapping, Sequence
from pathlib import Path
from typing import Any

import torch
from torch import nn
from tqdm.auto import tqdm

from .._utils import check_count
from ..errors import InvalidArgumentError, InvalidTypeError, RsaMirrorError
from ._train_checks import check_device
from ._train_run import TrainRun
from .training import TrainResult, _devices, _plan

# A job's keys: train's arguments, less device and verbose (train_many's own).
JOB_KEYS = (
    "data",
    "regime",
    "variant",
    "patience",
    "epochs",
    "batch_size",
    "optimizer",
    "lr",
    "halve_every",
    "val_fraction",
    "random_state",
    "checkpoint",
)
_DEFAULTS: dict[str, Any] = {key: None for key in JOB_KEYS} | {
    "regime": "original",
    "variant": "paper",
    "val_fraction": 0.1,
}
_DEFAULTS["random_state"] = 0


class GeneratorDropout(nn.Module):
    """``nn.Dropout(p)`` drawing from ``generator`` rather than torch's global random state.

    With ``generator`` in the state torch's global generator of that device would be in, the
    output and gradient are bit-identical to ``nn.Dropout``'s: on the CPU the same Bernoulli
    noise scaled by 1 / (1 - p) and multiplied in; on CUDA the same fused dropout kernel.

    Args:
        p: the share of units zeroed in training, in (0, 1).
        generator: a ``torch.Generator`` on the input's device.
    """

    def __init__(self, p: float, generator: torch.Generator | None) -> None:
        super().__init__()
        self.p, self.generator = float(p), generator

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        """``x`` with a share ``p`` of its values zeroed and the others scaled by 1 / (1 - p) (training), else ``x``."""
        if not self.training or self.p == 0 or x.numel() == 0:
            return x
        if x.device.type == "cuda":
            return torch._fused_dropout(x, 1 - self.p, self.generator)[0]  # native_dropout's kernel, with a generator
        noise = torch.empty_like(x).bernoulli_(1 - self.p, generator=self.generator).div_(1 - self.p)
        return x * noise


def train_many(
    jobs: Sequence[Mapping[str, Any]],
    *,
    device: str | torch.device = "auto",
    workers: int | None = None,
    verbose: bool = False,
) -> list[TrainResult]:
    """Train one control network per job on ``device``, all at once, each as ``train`` would alone.

    Every job is checked, and its data prepared, before any training. Each network's weights,
    history (but for its ``seconds``) and config are bit-identical to ``train(**job,
    device=device)`` on the same device type and CPU thread count; its checkpoint is
    ``train``'s, written after every epoch, and a rerun resumes every network where it stopped.
    A failing network stops the others after their current epoch (their checkpoints hold it),
    then its error is raised, with a note naming the job.

    Args:
        jobs: a non-empty sequence of dicts of ``train``'s keyword arguments (``JOB_KEYS``):
            ``data`` (required), ``regime``, ``variant``, ``patience``, ``epochs``,
            ``batch_size``, ``optimizer``, ``lr``, ``halve_every``, ``val_fraction``,
            ``random_state``, ``checkpoint``; missing ones take ``train``'s defaults. Jobs may
            share a data set (it is hashed and copied to the device once); no two may share a
            checkpoint file.
        device: ``"auto"``, ``"cpu"`` or ``"cuda"`` (``"cuda:<index>"``): where every network trains.
        workers: networks training at the same time (host threads; each on a CUDA stream of
            its own on CUDA), >= 1. None: on CUDA, all the jobs up to the CPU count; on the
            CPU, 1 (one network after another: each already uses the CPU's threads).
        verbose: one tqdm progress bar over the epochs of all networks.

    Returns:
        list of ``TrainResult``, one per job, in the order of ``jobs``.

    Raises:
        InvalidTypeError: ``jobs`` not a sequence of dicts.
        InvalidArgumentError: no jobs, a job without ``data`` or with a key ``train`` does not
            take here (named), two jobs writing one checkpoint, ``workers`` not a whole number
            >= 1, a device other than the CPU or CUDA, or any of ``train``'s errors for a job's
            arguments or checkpoint (raised with the job's position in front).
    """
    jobs = _check_jobs(jobs)
    device = check_device(device)
    if device.type not in ("cpu", "cuda"):
        raise InvalidArgumentError(
            f"Invalid value for 'device': train_many trains on cpu or cuda, got {device.type!r}; use train for it"
        )
    if workers is None:
        workers = min(len(jobs), os.cpu_count() or 1) if device.type == "cuda" else 1
    workers = min(check_count("workers", workers), len(jobs))
    cache: dict[tuple[str, int], Any] = {}
    runs: list[TrainRun] = []
    with torch.random.fork_rng(devices=_devices(device)):  # each run seeds its initial weights; left as it was
        for index, job in enumerate(jobs):
            with _naming_the_job(index):
                plan = _plan(**{**_DEFAULTS, **job}, device=device, cache=cache)
                runs.append(TrainRun(plan, torch.Generator(device)))
    bar = tqdm(total=sum(run.epochs_left for run in runs), desc=f"training {len(runs)} networks", disable=not verbose)
    lock, stop = threading.Lock(), threading.Event()

    def advance() -> None:
        with lock:
            bar.update()

    try:
        if workers == 1:
            results: list[TrainResult] = []
            for index, run in enumerate(runs):
                try:
                    results.append(_train_one(run, advance, stop))
                except BaseException as error:
                    _note(error, f"(train_many: raised by jobs[{index}]; the jobs after it did not start)")
                    raise
        else:
            results = _train_in_threads(runs, workers, advance, stop, device)
    finally:
        bar.close()
    return results


def _check_jobs(jobs: object) -> list[dict[str, Any]]:
    """``jobs`` as a list of dicts, refused with the job and the key at fault."""
    if isinstance(jobs, (str, bytes, Mapping)) or not isinstance(jobs, Sequence):
        raise InvalidTypeError(
            f"Invalid type for 'jobs': expected a list of dicts of train's arguments, got {type(jobs).__name__}"
        )
    if len(jobs) == 0:
        raise InvalidArgumentError("Invalid value for 'jobs': expected at least one job, got none")
    owners: dict[Path, int] = {}
    for index, job in enumerate(jobs):
        if not isinstance(job, Mapping):
            raise InvalidTypeError(
                f"Invalid type for 'jobs[{index}]': expected a dict of train's arguments, got {type(job).__name__}"
            )
        unknown = [key for key in job if key not in JOB_KEYS]
        if unknown:
            shared = (
                " (device and verbose are train_many's, the same for every job)"
                if {"device", "verbose"} & set(unknown)
                else ""
            )
            raise InvalidArgumentError(
                f"Invalid value for 'jobs[{index}]': unknown keys {unknown}{shared}; "
                f"expected some of {', '.join(JOB_KEYS)}"
            )
        if "data" not in job:
            raise InvalidArgumentError(f"Invalid value for 'jobs[{index}]': no 'data' (the ImageData to train on)")
        if job.get("checkpoint") is not None:
            try:
                path = Path(job["checkpoint"]).expanduser().resolve()
            except TypeError:
                kind = type(job["checkpoint"]).__name__
                raise InvalidTypeError(
                    f"Invalid type for 'jobs[{index}]['checkpoint']': expected a path, got {kind}"
                ) from None
            if path in owners:
                raise InvalidArgumentError(
                    f"Invalid value for 'jobs[{index}]': its checkpoint {job['checkpoint']} is also that of "
                    f"jobs[{owners[path]}]; give every job a file of its own"
                )
            owners[path] = index
    return [dict(job) for job in jobs]


@contextlib.contextmanager
def _naming_the_job(index: int) -> Iterator[None]:
    """Raise the package's errors inside with the job's position in front of their message."""
    try:
        yield
    except RsaMirrorError as error:
        raise type(error)(f"jobs[{index}]: {error}") from None


def _train_one(run: TrainRun, advance: Callable[[], None], stop: threading.Event) -> TrainResult:
    """Train ``run`` to its end (or to the end of the epoch in which ``stop`` is set), its dropout on its generator."""
    network = run.network
    dropouts = {name: m for name, m in network.named_children() if isinstance(m, nn.Dropout)}
    for name, module in dropouts.items():
        setattr(network, name, GeneratorDropout(module.p, run.generator))
    try:
        for epoch in run.epochs():
            if stop.is_set():
                break
            run.epoch(epoch)
            advance()
    finally:
        for name, module in dropouts.items():
            setattr(network, name, module)
    return TrainResult(*run.finish())


def _train_in_threads(
    runs: Sequence[TrainRun], workers: int, advance: Callable[[], None], stop: threading.Event, device: torch.device
) -> list[TrainResult]:
    """Train ``runs`` on ``workers`` host threads (on CUDA each run on a stream of its own); errors stop the rest."""
    results: list[Any] = [None] * len(runs)  # each filled by its thread
    errors: dict[int, BaseException] = {}
    queue = list(range(len(runs)))
    if device.type == "cuda":
        streams = [torch.cuda.Stream(device) for _ in runs]
        for stream in streams:
            stream.wait_stream(torch.cuda.current_stream(device))  # the data and weights copied to the device
    taken = threading.Lock()

    def work() -> None:
        while not stop.is_set():
            with taken:
                if not queue:
                    return
                index = queue.pop(0)
            try:
                if device.type == "cuda":
                    with torch.cuda.device(device), torch.cuda.stream(streams[index]):
                        results[index] = _train_one(runs[index], advance, stop)
                        streams[index].synchronize()
                else:
                    results[index] = _train_one(runs[index], advance, stop)
            except BaseException as error:  # noqa: BLE001 - kept, the others stopped, raised below
                errors[index] = error
                stop.set()

    threads = [threading.Thread(target=work, name=f"train_many-{i}", daemon=True) for i in range(workers)]
    for thread in threads:
        thread.start()
    try:
        for thread in threads:
            thread.join()
    except BaseException:  # interrupted: the networks stop after their current epoch
        stop.set()
        for thread in threads:
            thread.join()
        raise
    if errors:
        index = min(errors)
        error = errors[index]
        _note(error, f"(train_many: raised by jobs[{index}]; the other networks stopped after their current epoch)")
        raise error
    return results


def _note(error: BaseException, text: str) -> None:
    """Add ``text`` to the message of ``error`` as it is shown (Python >= 3.11; before, nothing)."""
    if hasattr(error, "add_note"):
        error.add_note(text)
