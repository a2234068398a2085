"""Control networks (issue 6): architecture, label regimes, determinism, exact resume, datasets."""

import numpy as np
import pandas as pd
import pytest
import torch

from rsa_mirror.networks.datasets import ImageData, apply_regime, load_dataset
from rsa_mirror.networks.files import load_network, load_shipped_network, save_network
from rsa_mirror.networks.models import CONTROL_LAYERS, ControlNet
from rsa_mirror.networks.training import train
from rsa_mirror.studies.figure4 import control_msvt


@pytest.fixture(scope="module")
def small_digits():
    """200 of scikit-learn's digits at 32 x 32 (name kept, so the digits schedule applies)."""
    digits = load_dataset("digits")
    return ImageData(digits.images[:200], digits.labels[:200], 10, "digits")


def test_network_shapes_presets_and_he_uniform_init():
    torch.manual_seed(0)
    network = ControlNet(20)
    assert network(torch.zeros(2, 3, 32, 32)).shape == (2, 20)
    modules = dict(network.named_modules())
    assert all(path in modules for path in CONTROL_LAYERS.values())
    for name, fan_in in (("conv2", 32 * 9), ("fc1", 128 * 10 * 10)):
        weight = modules[name].weight.detach()
        bound = np.sqrt(6 / fan_in)  # He-uniform
        assert float(weight.abs().max()) <= bound and float(weight.std()) == pytest.approx(bound / np.sqrt(3), rel=0.05)
        assert float(modules[name].bias.detach().abs().max()) == 0.0


def test_regimes_mirror_a_seeded_half_and_relabel_it_when_sensitive(small_digits):
    invariant = apply_regime(small_digits, "mirror_invariant", random_state=3)
    sensitive = apply_regime(small_digits, "mirror_sensitive", random_state=3)
    flipped = (invariant.images != small_digits.images).flatten(1).any(1)
    assert int(flipped.sum()) <= 100 and int(flipped.sum()) > 80  # half, less the symmetric images
    assert torch.equal(invariant.labels, small_digits.labels) and invariant.n_classes == 10
    assert torch.equal(sensitive.images, invariant.images) and sensitive.n_classes == 20
    moved = sensitive.labels >= 10
    assert int(moved.sum()) == 100 and torch.equal(sensitive.labels[moved] - 10, small_digits.labels[moved])
    assert torch.equal(invariant.images[moved], small_digits.images[moved].flip(-1))
    assert apply_regime(small_digits, "original") is small_digits


def test_training_is_deterministic_and_resumes_exactly(tmp_path, small_digits):
    options = {"epochs": 2, "batch_size": 32, "device": "cpu"}
    first = train(small_digits, random_state=1, **options)
    again = train(small_digits, random_state=1, **options)
    other = train(small_digits, random_state=2, **options)
    weights = first.network.state_dict()
    assert all(torch.equal(weights[k], v) for k, v in again.network.state_dict().items())
    assert not torch.equal(weights["fc1.weight"], other.network.state_dict()["fc1.weight"])
    # killed after epoch 1, then rerun to epoch 2: the same network and history as in one go
    checkpoint = tmp_path / "checkpoint.pt"
    train(small_digits, random_state=1, checkpoint=checkpoint, **{**options, "epochs": 1})
    resumed = train(small_digits, random_state=1, checkpoint=checkpoint, **options)
    assert all(torch.equal(weights[k], v) for k, v in resumed.network.state_dict().items())
    columns = ["epoch", "lr", "train_loss", "val_accuracy"]
    pd.testing.assert_frame_equal(resumed.history[columns], first.history[columns])
    with pytest.raises(ValueError, match="written with other settings"):
        train(small_digits, random_state=5, checkpoint=checkpoint, **options)
    assert [p.name for p in tmp_path.iterdir()] == ["checkpoint.pt"]  # no temporary files left


def test_it_learns_digits_and_halves_the_learning_rate(small_digits):
    result = train(small_digits, epochs=6, batch_size=16, halve_every=3, device="cpu", random_state=0)
    assert result.history.lr.tolist() == [1e-3] * 3 + [5e-4] * 3
    assert result.history.train_loss.iloc[-1] < 0.7 * result.history.train_loss.iloc[0]
    assert result.history.val_accuracy.iloc[-1] > 0.4  # 10 classes: chance is 0.1
    summary = result.summary().iloc[0]
    assert (summary.dataset, summary.regime, summary.epochs) == ("digits", "original", 6)
    assert summary.val_accuracy == result.history.val_accuracy.iloc[-1]


def test_saved_networks_round_trip_in_float16(tmp_path, small_digits):
    result = train(small_digits, epochs=1, device="cpu")
    save_network(tmp_path / "net.pt", result)
    back = load_network(tmp_path / "net.pt")
    x = small_digits.images[:8]
    with torch.no_grad():
        np.testing.assert_allclose(back.network(x), result.network.eval()(x), atol=2e-2)
    assert back.config == result.config and (tmp_path / "net.pt").stat().st_size < 4 * 2**20


def test_missing_torchvision_datasets_say_how_to_get_them(tmp_path):
    with pytest.raises(FileNotFoundError, match="never downloaded implicitly.*--download"):
        load_dataset("cifar10", root=tmp_path)
    with pytest.raises(FileNotFoundError, match="give root="):
        load_dataset("svhn")


def test_rendered_training_set_and_shipped_network():
    data = load_dataset("rendered", n_per_class=10, random_state=0)
    assert (
        data.images.shape == (60, 3, 32, 32)
        and data.n_classes == 6
        and torch.bincount(data.labels).tolist() == [10] * 6
    )
    assert 0.0 <= float(data.images.min()) and float(data.images.max()) <= 1.0
    shipped = load_shipped_network()
    assert shipped.config["dataset"] == "rendered" and shipped.history.val_accuracy.iloc[-1] > 0.9
    with torch.no_grad():  # it tells the rendered categories apart far above chance (1/6)
        accuracy = float((shipped.network(data.images).argmax(1) == data.labels).float().mean())
    assert accuracy > 0.5


def test_control_msvt_reports_dead_layers_as_nan():
    from rsa_mirror.stimuli import render_objects

    objects = render_objects(categories=("car", "face"), n_exemplars=1, size=32, random_state=0)
    network = ControlNet(6)
    with torch.no_grad():
        network.fc1.bias.fill_(-1e3)  # every fc1 unit silent: no index there
    loaded = load_shipped_network().loaded()
    loaded.module = network.eval()
    with pytest.warns(UserWarning, match="fc1: no index"):
        table = control_msvt(loaded, objects, device="cpu")
    assert table[table.layer == "fc1"].msvt.isna().all() and table[table.layer == "conv1"].msvt.notna().all()
    assert list(dict.fromkeys(table.layer)) == list(CONTROL_LAYERS)
