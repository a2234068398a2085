"""run_tasks: the same outcomes serially, on joblib workers and on a dask LocalCluster; failures kept apart."""

import numpy as np
import pytest

from rsa_mirror.errors import InvalidArgumentError, InvalidTypeError
from rsa_mirror.tasks import TaskError, raise_failures, run_tasks


def seeded_draws(seed, n):
    """A task whose value depends only on its arguments."""
    if seed < 0:
        raise ValueError(f"negative seed {seed}")
    return np.random.default_rng(seed).normal(size=n)


TASKS = [{"seed": seed, "n": 5} for seed in (3, 1, 4, 1, 5)]


def expected():
    return [np.random.default_rng(task["seed"]).normal(size=task["n"]) for task in TASKS]


def test_serial_and_joblib_workers_give_each_tasks_own_value_in_order():
    for n_jobs in (1, 2):
        outcomes = run_tasks(seeded_draws, TASKS, n_jobs=n_jobs, verbose=False)
        assert [outcome.task for outcome in outcomes] == TASKS
        for outcome, values in zip(outcomes[: len(TASKS)], expected(), strict=True):
            assert outcome.ok and np.array_equal(outcome.value, values)


def test_a_failing_task_is_reported_with_its_inputs_and_the_others_finish():
    tasks = [{"seed": 2, "n": 3}, {"seed": -7, "n": 3}, {"seed": 9, "n": 3}]
    seen = []
    outcomes = run_tasks(seeded_draws, tasks, n_jobs=2, on_done=lambda i, o: seen.append(i), verbose=False)
    assert sorted(seen) == [0, 1, 2]
    assert outcomes[1].error == "ValueError: negative seed -7" and "Traceback" in outcomes[1].details
    assert np.array_equal(outcomes[2].value, np.random.default_rng(9).normal(size=3))
    with pytest.raises(TaskError, match=r"1 of 3 tasks failed \(the others finished\):\n  seed=-7, n=3: ValueError"):
        raise_failures(outcomes)
    assert raise_failures(outcomes[::2]) == outcomes[::2]


def test_a_local_dask_cluster_of_two_processes_gives_the_serial_values():
    pytest.importorskip("distributed")
    outcomes = run_tasks(seeded_draws, TASKS + [{"seed": -1, "n": 2}], n_jobs=2, scheduler="local", verbose=False)
    for outcome, values in zip(outcomes[: len(TASKS)], expected(), strict=True):
        assert outcome.ok and np.array_equal(outcome.value, values)
    assert outcomes[-1].error == "ValueError: negative seed -1"


def shifted_draws(seed, n, shift):
    """A task with an argument shared by every task."""
    return seeded_draws(seed, n) + shift


def test_shared_arguments_reach_every_task_and_stay_out_of_the_outcomes():
    for n_jobs in (1, 2):
        outcomes = run_tasks(shifted_draws, TASKS, shared={"shift": 10.0}, n_jobs=n_jobs, verbose=False)
        assert [outcome.task for outcome in outcomes] == TASKS
        for outcome, values in zip(outcomes, expected(), strict=True):
            assert np.array_equal(outcome.value, values + 10.0)
    with pytest.raises(InvalidArgumentError, match=r"'tasks\[0\]': repeats the shared argument\(s\) \['n'\]"):
        run_tasks(shifted_draws, TASKS, shared={"n": 2, "shift": 1.0})
    with pytest.raises(InvalidTypeError, match="'shared': expected a dict"):
        run_tasks(shifted_draws, TASKS, shared=[1.0])


def test_bad_arguments_are_refused():
    with pytest.raises(InvalidTypeError, match="'function': expected a callable"):
        run_tasks(3, TASKS)
    with pytest.raises(InvalidTypeError, match=r"'tasks\[1\]': expected a dict"):
        run_tasks(seeded_draws, [{"seed": 1, "n": 1}, (2, 1)])
    with pytest.raises(InvalidArgumentError, match="'n_jobs'"):
        run_tasks(seeded_draws, TASKS, n_jobs=0)
    with pytest.raises(InvalidArgumentError, match="'scheduler'"):
        run_tasks(seeded_draws, TASKS, scheduler=2)
