"""Many control networks trained at once: each bit-identical to ``train`` alone, resumable, jobs checked."""

import pandas as pd
import pytest
import torch

from rsa_mirror.errors import InvalidArgumentError, InvalidTypeError
from rsa_mirror.networks import _train_run
from rsa_mirror.networks.datasets import ImageData, load_dataset
from rsa_mirror.networks.training import train
from rsa_mirror.networks.training_many import GeneratorDropout, train_many


@pytest.fixture(scope="module", autouse=True)
def _one_torch_thread():
    """One CPU thread for torch here (fast on a shared machine; equality holds at any fixed count)."""
    threads = torch.get_num_threads()
    torch.set_num_threads(1)
    yield
    torch.set_num_threads(threads)


@pytest.fixture(scope="module")
def tiny_digits():
    """120 of scikit-learn's digits at 32 x 32 (the digits schedule applies)."""
    digits = load_dataset("digits")
    return ImageData(digits.images[:120], digits.labels[:120], 10, "digits")


@pytest.fixture(scope="module")
def two_jobs(tiny_digits):
    """Two jobs that differ in seed, regime, variant, batch, optimizer and early stopping."""
    return [
        {"data": tiny_digits, "epochs": 2, "batch_size": 32, "random_state": 1},
        {
            "data": tiny_digits,
            "epochs": 2,
            "batch_size": 40,
            "random_state": 2,
            "regime": "mirror_sensitive",
            "variant": "released",
            "optimizer": "sgd",
            "lr": 0.01,
            "patience": 5,
        },
    ]


@pytest.fixture(scope="module")
def pair(two_jobs):
    """The two jobs, each trained alone on the CPU."""
    return two_jobs, [train(**job, device="cpu") for job in two_jobs]


def assert_same_training(one, other):
    """Every state-dict tensor equal, the history equal but for its seconds, the config equal."""
    first, second = one.network.state_dict(), other.network.state_dict()
    assert first.keys() == second.keys()
    for name, tensor in first.items():
        assert torch.equal(tensor, second[name]), name
    pd.testing.assert_frame_equal(one.history.drop(columns="seconds"), other.history.drop(columns="seconds"))
    assert one.config == other.config


@pytest.mark.parametrize("workers", [1, 2])
def test_networks_trained_together_equal_each_trained_alone(pair, workers):
    jobs, alone = pair
    state = torch.random.get_rng_state()
    together = train_many(jobs, device="cpu", workers=workers)
    assert torch.equal(torch.random.get_rng_state(), state)  # torch's global random state left as it was
    assert len(together) == 2
    for one, other in zip(alone, together, strict=True):
        assert_same_training(one, other)
        assert all(type(module) is not GeneratorDropout for module in other.network.modules())
    # the two networks did differ (the comparison above is not between copies of one network)
    assert alone[0].network.fc3.weight.shape != alone[1].network.fc3.weight.shape
    assert alone[0].history.lr.tolist() == [1e-3, 1e-3] and alone[1].history.lr.tolist() == [0.01, 0.01]


def test_an_interrupted_pair_resumes_to_the_uninterrupted_result(tmp_path, pair, monkeypatch):
    jobs, alone = pair
    jobs = [{**job, "checkpoint": tmp_path / f"net{i}.pt"} for i, job in enumerate(jobs)]
    original = _train_run.TrainRun.epoch

    def failing(run, epoch):  # the second network dies in its second epoch, after the first was written
        if epoch == 1 and run.plan.config["variant"] == "released":
            raise RuntimeError("killed")
        return original(run, epoch)

    monkeypatch.setattr(_train_run.TrainRun, "epoch", failing)
    with pytest.raises(RuntimeError, match="killed") as caught:
        train_many(jobs, device="cpu", workers=2)
    assert any("jobs[1]" in note for note in getattr(caught.value, "__notes__", ["jobs[1]"]))
    assert len(torch.load(jobs[1]["checkpoint"], weights_only=True)["history"]) == 1
    monkeypatch.setattr(_train_run.TrainRun, "epoch", original)
    resumed = train_many(jobs, device="cpu", workers=2)
    for one, other in zip(alone, resumed, strict=True):
        assert_same_training(one, other)
    # the checkpoints are train's: train itself returns the finished run from them
    assert_same_training(alone[1], train(**jobs[1], device="cpu"))
    assert sorted(p.name for p in tmp_path.iterdir()) == ["net0.pt", "net1.pt"]  # no temporary files left


def test_generator_dropout_draws_what_dropout_draws_from_the_global_generator():
    x = torch.rand(64, 256, dtype=torch.float64).requires_grad_()
    torch.manual_seed(7)
    reference = torch.nn.Dropout(0.5)(x)
    reference.backward(torch.arange(x.numel(), dtype=x.dtype).reshape(x.shape))
    y = x.detach().clone().requires_grad_()
    dropout = GeneratorDropout(0.5, torch.Generator().manual_seed(7))
    output = dropout(y)
    output.backward(torch.arange(y.numel(), dtype=y.dtype).reshape(y.shape))
    assert torch.equal(output, reference) and torch.equal(y.grad, x.grad)
    zeroed = float((output == 0).double().mean())
    assert 0.4 < zeroed < 0.6 and torch.equal(output[output != 0], 2 * y.detach()[output != 0])
    assert dropout.eval()(y) is y  # evaluation: the input as it is


def test_bad_jobs_are_refused_before_any_training(tmp_path, tiny_digits):
    good = {"data": tiny_digits, "epochs": 1, "checkpoint": tmp_path / "a.pt"}
    cases = [
        ({"data": tiny_digits}, {}, InvalidTypeError, "'jobs': expected a list"),
        ([], {}, InvalidArgumentError, "at least one job"),
        ([good, "digits"], {}, InvalidTypeError, r"'jobs\[1\]': expected a dict"),
        (
            [good, {"data": tiny_digits, "device": "cpu"}],
            {},
            InvalidArgumentError,
            "device and verbose are train_many's",
        ),
        ([good, {"epochs": 1}], {}, InvalidArgumentError, r"'jobs\[1\]': no 'data'"),
        ([good, {**good, "random_state": 3}], {}, InvalidArgumentError, r"also that of jobs\[0\]"),
        ([good, {"data": tiny_digits, "checkpoint": 3}], {}, InvalidTypeError, r"'jobs\[1\]\['checkpoint'\]'"),
        ([good, {"data": tiny_digits, "lr": -1.0}], {}, InvalidArgumentError, r"^jobs\[1\]: .*'lr'.*-1.0"),
        ([good, {"data": tiny_digits.images}], {}, InvalidTypeError, r"^jobs\[1\]: .*'data'"),
        ([good], {"workers": 0}, InvalidArgumentError, "'workers'"),
        ([good], {"device": "tpu"}, InvalidArgumentError, "'device'"),
    ]
    for jobs, options, error, message in cases:
        with pytest.raises(error, match=message):
            train_many(jobs, **{"device": "cpu", **options})
    assert not any(tmp_path.iterdir())  # the good job never started
    # a checkpoint of other settings is refused, naming the job
    train(tiny_digits, epochs=1, random_state=4, checkpoint=tmp_path / "b.pt", device="cpu")
    with pytest.raises(InvalidArgumentError, match=r"^jobs\[1\]: checkpoint .*written with other settings.*seed"):
        train_many([good, {"data": tiny_digits, "checkpoint": tmp_path / "b.pt"}], device="cpu")
    assert sorted(p.name for p in tmp_path.iterdir()) == ["b.pt"]


@pytest.mark.gpu
@pytest.mark.skipif(not torch.cuda.is_available(), reason="needs a CUDA device")
def test_on_cuda_networks_trained_together_equal_each_trained_alone(two_jobs):
    jobs = two_jobs
    alone = [train(**job, device="cuda") for job in jobs]
    again = train(**jobs[0], device="cuda")
    assert_same_training(alone[0], again)  # train itself reproduces on CUDA, so equality below is meaningful
    for workers in (1, 2):
        for one, other in zip(alone, train_many(jobs, device="cuda", workers=workers), strict=True):
            assert_same_training(one, other)
    x = torch.rand(256, 128, device="cuda", dtype=torch.bfloat16)
    torch.cuda.manual_seed(5)
    reference = torch.nn.Dropout(0.5)(x)
    assert torch.equal(GeneratorDropout(0.5, torch.Generator("cuda").manual_seed(5))(x), reference)
