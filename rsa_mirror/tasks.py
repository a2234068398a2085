"""Running many independent tasks: in this process, on joblib workers, or on a dask.distributed cluster.

``run_tasks(function, tasks)`` calls ``function(**shared, **task)`` for every task (a dict of
keyword arguments; ``shared`` holds the arguments common to all, sent to each worker once) and
returns one ``TaskOutcome`` per task, in the order of ``tasks``. A task that raises does not
stop the others: its outcome holds the error, with the task's inputs, and ``raise_failures``
reports every failed task at once. Results do not depend on where the tasks ran, provided each
task draws its randomness from its own arguments (every task of this package does).

Where tasks run (``scheduler``):

- ``None``: in this process with ``n_jobs=1``, else on ``n_jobs`` joblib (loky) worker processes;
- ``"local"``: a ``distributed.LocalCluster`` of ``n_jobs`` worker processes, started for the call
  and closed after it; where CUDA devices are visible, worker i sees only device i mod (number
  of devices), so each worker has a GPU of its own;
- any other string: the address of a running dask scheduler (``"tcp://host:8786"``); its
  workers must be able to import this package;
- a ``distributed.Client`` that is already open (``dask_client``), so that several calls, and
  joblib work inside ``joblib.parallel_config(backend="dask")``, share one cluster.
"""

from __future__ import annotations

import contextlib
import os
import sys
import time
import traceback
from collections.abc import Callable, Iterable, Iterator, Mapping, Sequence
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any, TypeVar, cast

import joblib
from tqdm.auto import tqdm

from ._utils import check_count, optional_import
from .errors import InvalidArgumentError, InvalidTypeError, RsaMirrorError

if TYPE_CHECKING:
    from distributed import Client, Worker
    from typing_extensions import TypeIs


@dataclass
class TaskOutcome:
    """What one task gave.

    Attributes:
        task: the task's keyword arguments.
        value: what the function returned (None when it failed).
        error: None, or the exception's type and message.
        details: the traceback of a failure ("" otherwise).
        seconds: the task's wall time in seconds.
    """

    task: dict[str, Any]
    value: Any = None
    error: str | None = None
    details: str = field(default="", repr=False)
    seconds: float = 0.0

    @property
    def ok(self) -> bool:
        """True when the task returned."""
        return self.error is None


class TaskError(RsaMirrorError):
    """One or more tasks failed; the message lists each with its inputs and error."""


_Outcomes = TypeVar("_Outcomes", bound=Sequence[TaskOutcome])


def run_tasks(
    function: Callable[..., Any],
    tasks: Iterable[dict[str, Any]],
    *,
    shared: dict[str, Any] | None = None,
    n_jobs: int = 1,
    scheduler: str | Client | None = None,
    description: str = "tasks",
    on_done: Callable[[int, TaskOutcome], object] | None = None,
    verbose: bool = True,
) -> list[TaskOutcome]:
    """``function(**shared, **task)`` for every task, each failure kept apart from the others.

    Args:
        function: a module-level callable (it is pickled for worker processes).
        tasks: sequence of dicts of keyword arguments.
        shared: optional dict of keyword arguments common to every task (e.g. the images), sent
            to each dask worker once (scattered) rather than with every task; not part of the
            outcomes' ``task``.
        n_jobs: worker processes (joblib, or a LocalCluster's workers); ignored with a scheduler
            address.
        scheduler: None, ``"local"``, a dask scheduler's address or an open ``distributed.Client``
            (module docstring).
        description: the progress bar's label.
        on_done: optional callable(index, ``TaskOutcome``) run in this process as each task
            ends (in the order they end), e.g. to write tables as they grow.
        verbose: a progress bar over tasks.

    Returns:
        list of ``TaskOutcome``, one per task, in the order of ``tasks``.

    Raises:
        InvalidTypeError: ``function`` not callable, a task or ``shared`` that is not a dict.
        InvalidArgumentError: ``n_jobs`` not a whole number >= 1, ``scheduler`` neither a string
            nor a ``distributed.Client``, or a task repeating a key of ``shared``.
        MissingDependencyError: a dask scheduler asked for without ``distributed`` installed.
    """
    if not callable(function):
        raise InvalidTypeError(f"Invalid type for 'function': expected a callable, got {type(function).__name__}")
    tasks = list(tasks)
    for i, task in enumerate(tasks):
        if not isinstance(task, dict):
            kind = type(task).__name__
            raise InvalidTypeError(f"Invalid type for 'tasks[{i}]': expected a dict of arguments, got {kind}")
    shared = {} if shared is None else shared
    if not isinstance(shared, dict):
        raise InvalidTypeError(f"Invalid type for 'shared': expected a dict of arguments, got {type(shared).__name__}")
    for i, task in enumerate(tasks):
        if set(task) & set(shared):
            raise InvalidArgumentError(
                f"Invalid value for 'tasks[{i}]': repeats the shared argument(s) {sorted(set(task) & set(shared))}"
            )
    n_jobs = check_count("n_jobs", n_jobs)
    if scheduler is not None and not isinstance(scheduler, str) and not _is_client(scheduler):
        raise InvalidArgumentError(
            "Invalid value for 'scheduler': expected None, 'local', a scheduler address or a distributed.Client, "
            f"got {scheduler!r}"
        )
    outcomes: list[TaskOutcome | None] = [None] * len(tasks)
    bar = tqdm(total=len(tasks), desc=description, disable=not verbose or not tasks)

    def done(index: int, outcome: TaskOutcome) -> None:
        outcomes[index] = outcome
        bar.update()
        if on_done is not None:
            on_done(index, outcome)

    try:
        if scheduler is not None:
            _run_on_dask(function, tasks, shared, n_jobs, scheduler, done)
        elif n_jobs == 1 or len(tasks) < 2:
            for index, task in enumerate(tasks):
                done(index, _call(function, task, shared))
        else:
            calls = (joblib.delayed(_call)(function, task, shared) for task in tasks)
            for index, outcome in enumerate(joblib.Parallel(n_jobs=n_jobs, return_as="generator")(calls)):
                done(index, outcome)
    finally:
        bar.close()
    return cast("list[TaskOutcome]", outcomes)  # every task is done


def raise_failures(outcomes: _Outcomes, *, what: str = "task") -> _Outcomes:
    """Raise ``TaskError`` listing every failed outcome (its inputs and error); return the outcomes otherwise."""
    failed = [outcome for outcome in outcomes if not outcome.ok]
    if failed:
        lines = [f"  {_describe(outcome.task)}: {outcome.error}" for outcome in failed]
        raise TaskError(f"{len(failed)} of {len(outcomes)} {what}s failed (the others finished):\n" + "\n".join(lines))
    return outcomes


def _describe(task: Mapping[str, Any]) -> str:
    return ", ".join(f"{key}={value!r}" for key, value in task.items())


def _call(function: Callable[..., Any], task: dict[str, Any], shared: Mapping[str, Any] | None = None) -> TaskOutcome:
    began = time.perf_counter()
    try:
        value = function(**(shared or {}), **task)
    except Exception as error:  # noqa: BLE001 - a failed task is reported, the others go on
        details = traceback.format_exc()
        return TaskOutcome(task, None, f"{type(error).__name__}: {error}", details, time.perf_counter() - began)
    return TaskOutcome(task, value, None, "", time.perf_counter() - began)


@contextlib.contextmanager
def dask_client(scheduler: str = "local", n_jobs: int = 1) -> Iterator[Client]:
    """An open ``distributed.Client``, closed (with the cluster it started) on the way out.

    Args:
        scheduler: ``"local"`` (a ``LocalCluster`` of ``n_jobs`` single-threaded worker
            processes, its dashboard at ``client.dashboard_link``; where CUDA devices are
            visible, worker i sees only device i mod their number) or a running scheduler's
            address.
        n_jobs: the LocalCluster's workers (ignored with an address).

    Raises:
        MissingDependencyError: ``distributed`` not installed.
        InvalidArgumentError: ``scheduler`` not a string, or ``n_jobs`` not a whole number >= 1.
    """
    distributed = optional_import("distributed", "running tasks on a dask cluster")
    if not isinstance(scheduler, str):
        raise InvalidArgumentError(f"Invalid value for 'scheduler': expected 'local' or an address, got {scheduler!r}")
    n_jobs = check_count("n_jobs", n_jobs)
    cluster = None
    if scheduler == "local":
        # dashboard on a free port: with None dask still binds 8787 and warns where that is taken
        cluster = distributed.LocalCluster(
            n_workers=n_jobs, threads_per_worker=1, processes=True, dashboard_address=":0"
        )
    try:
        with distributed.Client(cluster if cluster is not None else scheduler) as client:
            if cluster is not None and _visible_gpus():
                client.run(_pin_gpu, _visible_gpus())
            yield client
    finally:
        if cluster is not None:
            cluster.close()


def _is_client(scheduler: object) -> TypeIs[Client]:
    """True for a ``distributed.Client`` (without importing distributed when it is not loaded)."""
    distributed = sys.modules.get("distributed")
    return distributed is not None and isinstance(scheduler, distributed.Client)


def _run_on_dask(
    function: Callable[..., Any],
    tasks: Sequence[dict[str, Any]],
    shared: Mapping[str, Any],
    n_jobs: int,
    scheduler: str | Client,
    done: Callable[[int, TaskOutcome], None],
) -> None:
    if not _is_client(scheduler):
        with dask_client(scheduler, n_jobs) as client:
            _run_on_dask(function, tasks, shared, n_jobs, client, done)
        return
    distributed = optional_import("distributed", "running tasks on a dask cluster")
    client = scheduler
    common = client.scatter([shared], broadcast=True, hash=False)[0] if shared else None
    n = len(tasks)
    futures = client.map(_call, [function] * n, tasks, [common] * n, pure=False)
    index_of = {future.key: index for index, future in enumerate(futures)}
    for future in distributed.as_completed(futures):
        done(index_of[future.key], future.result())


def _visible_gpus() -> list[str]:
    """The CUDA devices this process may use, without initializing CUDA (empty without torch)."""
    visible = os.environ.get("CUDA_VISIBLE_DEVICES")
    if visible is not None:
        return [device for device in visible.split(",") if device.strip()]
    try:
        import torch
    except ImportError:
        return []
    return [str(i) for i in range(torch.cuda.device_count())]


def _pin_gpu(gpus: Sequence[str], dask_worker: Worker) -> None:
    """Run on each worker of a LocalCluster (before any task): worker i sees only GPU i mod len(gpus)."""
    position = int(dask_worker.name) if str(dask_worker.name).isdigit() else 0
    os.environ["CUDA_VISIBLE_DEVICES"] = gpus[position % len(gpus)]
