"""Layer presets of Figure 2C and the control network's released variant, against direct computations.

- ``image``, ``pool1``, ``pool2``, ``fc6_pre``, ``fc7_pre`` equal the model input and the
  truncated torchvision modules computed directly; ``"all"`` keeps its layers, ``"figure2"``
  is Figure 2C's list; the fc presets of AlexNet and VGG16 read the same kind of module.
- ``ControlNet`` in both variants: shapes, parameter counts in closed form, initialization,
  the learning-rate schedule per dataset, early stopping against the released notebooks' rule
  written out as a loop, Bernoulli mirroring, and the variant through files and checkpoints.
"""

import math

import numpy as np
import pandas as pd
import pytest
import torch
import torchvision

from rsa_mirror.errors import InvalidArgumentError
from rsa_mirror.networks.activations import extract_activations, model_view_rdms
from rsa_mirror.networks.control import CONTROL_LAYERS, ControlNet, control_net_from_state
from rsa_mirror.networks.datasets import ImageData, apply_regime
from rsa_mirror.networks.files import SHIPPED_NETWORK, load_network, load_shipped_network, save_network
from rsa_mirror.networks.forward import unit_responses
from rsa_mirror.networks.models import EXTRA_PRESETS, IMAGENET_MEAN, IMAGENET_STD, PRESETS, LoadedModel
from rsa_mirror.networks.training import TrainResult, early_stop_epoch, train
from rsa_mirror.rdm import compute_view_rdms
from rsa_mirror.studies.figure2 import msvt_study

FIGURE2 = ["image", "conv1", "pool1", "conv2", "pool2", "conv3", "conv4", "conv5", "pool5", "fc6", "fc7", "fc8"]
ALEXNET_ALL = ["conv1", "conv2", "conv3", "conv4", "conv5", "pool5", "fc6", "fc7", "fc8"]


def _preprocessed(images, size):
    """The model input computed here: bilinear antialiased resize, gray to 3 channels, ImageNet normalization."""
    batch = torch.from_numpy(images)[:, None]
    batch = torch.nn.functional.interpolate(batch, size=(size, size), mode="bilinear", antialias=True)
    mean, std = torch.tensor(IMAGENET_MEAN).view(1, 3, 1, 1), torch.tensor(IMAGENET_STD).view(1, 3, 1, 1)
    return (batch.expand(-1, 3, -1, -1) - mean) / std


def test_new_alexnet_presets_equal_the_truncated_network(alexnet, objects):
    images = objects.images[:6]
    names = ["image", "pool1", "pool2", "fc6_pre", "fc7_pre", "fc6", "fc7"]
    got = extract_activations(alexnet, objects.subset(np.arange(6)), names, device="cpu")
    x = _preprocessed(images, 227)
    net = alexnet.module
    with torch.no_grad():
        flat = torch.flatten(net.avgpool(net.features(x)), 1)
        expected = {
            "image": x,
            "pool1": net.features[:3](x),
            "pool2": net.features[:6](x),
            "fc6_pre": net.classifier[:2](flat),
            "fc7_pre": net.classifier[:5](flat),
        }
    np.testing.assert_allclose(got["image"], expected["image"].numpy(), atol=1e-6)
    assert got["pool1"].shape == (6, 64, 27, 27) and got["pool2"].shape == (6, 192, 13, 13)
    for name in ("pool1", "pool2", "fc6_pre", "fc7_pre"):
        np.testing.assert_allclose(got[name], expected[name].numpy(), rtol=1e-4, atol=1e-5)
    # the pre-activation layers go negative; the fc presets are their rectified values
    assert (got["fc6_pre"] < 0).mean() > 0.2
    np.testing.assert_allclose(got["fc6"], np.maximum(got["fc6_pre"], 0), atol=1e-5)
    np.testing.assert_allclose(got["fc7"], np.maximum(got["fc7_pre"], 0), atol=1e-5)
    # the cut-network path (RISE, unit responses) reads the same values
    units = [0, 17, 4095]
    np.testing.assert_allclose(
        unit_responses(alexnet, objects.subset(np.arange(6)), "fc6_pre", units, device="cpu").T,
        got["fc6_pre"][:, units],
        rtol=1e-4,
        atol=1e-5,
    )
    pixels = unit_responses(alexnet, objects.subset(np.arange(6)), "image", [0, 227 * 227 + 5], device="cpu")
    np.testing.assert_allclose(pixels.T, x.flatten(1)[:, [0, 227 * 227 + 5]].numpy(), atol=1e-6)


def test_all_keeps_its_layers_and_figure2_is_figure_2c(alexnet):
    assert list(alexnet.resolve_layers("all")) == ALEXNET_ALL
    assert list(alexnet.resolve_layers("figure2")) == FIGURE2
    assert alexnet.resolve_layers(["pool1", "pool2", "image"]) == {
        "pool1": "features.2",
        "pool2": "features.5",
        "image": "",
    }
    with pytest.raises(InvalidArgumentError, match=r"Invalid layer ''.*fc8, image, pool1, pool2, fc6_pre"):
        alexnet.resolve_layers([""])  # the input is reached by its preset only
    plain = LoadedModel("module", alexnet.module, "as given")
    with pytest.raises(InvalidArgumentError, match=r"at least one layer name \(no presets here: give module paths"):
        plain.resolve_layers("figure2")
    assert set(EXTRA_PRESETS) == set(PRESETS) and all(v["image"] == "" for v in EXTRA_PRESETS.values())


@pytest.mark.parametrize("name", ["alexnet", "vgg16"])
def test_fc_presets_read_relu_outputs_and_pre_presets_the_linear_layers(name):
    network = torchvision.models.get_model(name, weights=None)
    modules = dict(network.named_modules())
    presets = {**PRESETS[name], **EXTRA_PRESETS[name]}
    for layer in ("fc6", "fc7"):
        assert type(modules[presets[layer]]) is torch.nn.ReLU, layer
        linear = modules[presets[f"{layer}_pre"]]
        assert type(linear) is torch.nn.Linear and linear.out_features == 4096
        # the ReLU follows its Linear directly (AlexNet: classifier.1 -> .2; VGG16: classifier.0 -> .1)
        parent, _, index = presets[layer].rpartition(".")
        assert presets[f"{layer}_pre"] == f"{parent}.{int(index) - 1}"
    assert type(modules[presets["fc8"]]) is torch.nn.Linear
    conv = [v for k, v in presets.items() if k.startswith("conv")]
    assert conv and all(type(modules[path]) is torch.nn.ReLU for path in conv)


def test_image_layer_streams_like_the_pixels_in_memory(alexnet, objects):
    streamed = model_view_rdms(alexnet, objects, ["image"], device="cpu", batch_size=7)
    pixels = _preprocessed(objects.images, 227).numpy()
    in_memory = compute_view_rdms({"image": pixels}, descriptors=objects.descriptors)
    np.testing.assert_allclose(streamed.dissimilarities, in_memory.dissimilarities, atol=2e-5)


def test_msvt_study_uses_figure_2c_layers_and_all_on_request(alexnet, objects):
    few = objects.subset(np.arange(10))  # 2 objects x 5 views
    default = msvt_study({"untrained": alexnet}, few, device="cpu", batch_size=10)
    assert list(dict.fromkeys(default.tables["untrained"].layer)) == FIGURE2
    every = msvt_study({"untrained": alexnet}, few, layers="all", device="cpu", batch_size=10)
    table, reference = every.tables["untrained"], default.tables["untrained"]
    assert list(dict.fromkeys(table.layer)) == ALEXNET_ALL
    shared = reference[reference.layer.isin(ALEXNET_ALL)].reset_index(drop=True)
    np.testing.assert_allclose(table.msvt.to_numpy(), shared.msvt.to_numpy(), atol=1e-6)


# ---- the control network's two variants -------------------------------------------------------


def _conv(c_in, c_out):
    return c_in * c_out * 9 + c_out


def _fc(n_in, n_out):
    return n_in * n_out + n_out


@pytest.mark.parametrize("classes", [10, 20])
def test_parameter_counts_in_closed_form_and_shapes(classes):
    convs = _conv(3, 32) + _conv(32, 32) + _conv(32, 64) + _conv(64, 128) + 2 * 32 + 2 * 64  # BN: scale, shift
    # paper: 32 -> 30 -> 28 -> pool 14 -> 12 -> 10, flatten 128 x 10 x 10; released: pooled again to 5 x 5
    paper = convs + _fc(128 * 10 * 10, 128) + _fc(128, 256) + _fc(256, classes)
    released = convs + _fc(128 * 5 * 5, 256) + _fc(256, 256) + _fc(256, classes)
    for variant, expected in (("paper", paper), ("released", released)):
        network = ControlNet(classes, variant).eval()
        assert sum(p.numel() for p in network.parameters()) == expected
        x = torch.rand(3, 3, 32, 32)
        assert network(x).shape == (3, classes)
        got = extract_activations(LoadedModel("control", network, "-", dict(network.layers), 32, None, None), x, "all")
        flat = 128 * 10 * 10 if variant == "paper" else 128 * 5 * 5
        assert got["conv4"].shape == (3, 128, 10, 10) and network.fc1.in_features == flat
        assert got["fc1"].shape == (3, 128 if variant == "paper" else 256)
    assert paper == (1_776_810 if classes == 10 else 1_779_380)
    assert released == (990_506 if classes == 10 else 993_076)


def test_initialization_of_each_variant():
    torch.manual_seed(0)
    paper, released = ControlNet(10, "paper"), ControlNet(10, "released")
    for network, variant in ((paper, "paper"), (released, "released")):
        for name in ("conv2", "fc1", "fc2"):
            layer = getattr(network, name)
            fan_in = layer.weight[0].numel()
            # He-uniform bound sqrt(6 / fan_in); PyTorch's default (kaiming_uniform, a = sqrt(5)) 1 / sqrt(fan_in)
            bound = math.sqrt(6 / fan_in) if variant == "paper" else 1 / math.sqrt(fan_in)
            weight = layer.weight.detach()
            assert float(weight.abs().max()) <= bound
            assert float(weight.std()) == pytest.approx(bound / math.sqrt(3), rel=0.05)
            bias = layer.bias.detach()
            if variant == "paper":
                assert float(bias.abs().max()) == 0.0
            else:
                assert float(bias.abs().max()) <= 1 / math.sqrt(fan_in) and int((bias != 0).sum()) == len(bias)


def test_released_readout_is_the_rectified_logits_and_training_sees_raw_logits():
    torch.manual_seed(1)
    network = ControlNet(10, "released").eval()
    x = torch.rand(8, 3, 32, 32)
    logits = network(x).detach()
    assert (logits < 0).any()
    loaded = LoadedModel("control", network, "-", dict(network.layers), 32, None, None)
    got = extract_activations(loaded, x, ["fc3", "fc2"])
    np.testing.assert_allclose(got["fc3"], logits.clamp(min=0).numpy(), atol=1e-6)
    assert network.layers == {**CONTROL_LAYERS, "fc3": "readout"}
    assert ControlNet(10).layers == CONTROL_LAYERS


@pytest.fixture(scope="module")
def noise():
    """24 images of seeded noise with seeded labels (3 classes)."""
    rng = np.random.default_rng(5)
    images = torch.from_numpy(rng.uniform(0, 1, (24, 3, 32, 32)).astype(np.float32))
    return images, torch.from_numpy(rng.integers(0, 3, 24))


@pytest.mark.parametrize(
    ("dataset", "variant", "lr", "halve_every"),
    [("cifar10", "paper", 1e-3, 20), ("cifar10", "released", 1e-3, 50), ("svhn", "paper", 1e-5, 50),
     ("svhn", "released", 1e-5, 20)],
)  # fmt: skip
def test_learning_rate_schedule_per_dataset_and_variant(noise, dataset, variant, lr, halve_every):
    data = ImageData(noise[0][:8], noise[1][:8], 3, dataset)
    result = train(data, variant=variant, patience=0, epochs=52, batch_size=8, val_fraction=0.25, device="cpu")
    assert result.config["halve_every"] == halve_every and result.config["variant"] == variant
    used = result.history.set_index("epoch").lr
    for epoch in (1, 20, 21, 41, 50, 51, 52):
        assert used[epoch] == pytest.approx(lr * 0.5 ** ((epoch - 1) // halve_every), rel=1e-12), epoch


def _released_rule(losses, patience):
    """The released notebooks' EarlyStopping class (delta 0), as a loop: the epoch it stops after, or None."""
    best_score, counter = None, 0
    for epoch, loss in enumerate(losses, start=1):
        score = -loss
        if best_score is None:
            best_score = score
        elif score < best_score:
            counter += 1
            if counter >= patience:
                return epoch
        else:
            best_score, counter = score, 0
    return None


def test_early_stopping_rule_on_scripted_losses():
    losses = [1.0, 0.8, 0.9, 0.85, 0.8, 0.95, 0.99, 1.2, 0.5]
    assert early_stop_epoch(losses, 3) == 8  # epoch 5 ties the lowest and resets the count
    assert early_stop_epoch(losses, 2) == 4
    assert early_stop_epoch(losses, 4) is None and early_stop_epoch(losses, 0) is None
    rng = np.random.default_rng(0)
    for _ in range(300):
        scripted = rng.integers(0, 6, rng.integers(1, 30)).astype(float)  # many ties
        patience = int(rng.integers(1, 6))
        assert early_stop_epoch(scripted, patience) == _released_rule(scripted, patience)


def test_early_stopping_run_keeps_the_best_epoch_and_resumes(tmp_path, noise):
    data = ImageData(noise[0], noise[1], 3, "digits")
    options = {"variant": "released", "epochs": 40, "batch_size": 8, "lr": 0.05, "optimizer": "sgd", "device": "cpu"}
    run = train(data, patience=3, random_state=2, **options)
    losses = run.history.val_loss.to_numpy()
    stop = early_stop_epoch(losses, 3)
    assert stop is not None and len(run.history) == stop < 40
    best = int(np.flatnonzero(losses == losses.min())[-1]) + 1
    # the same seed without early stopping, cut at the best epoch: the weights returned
    cut = train(data, patience=0, random_state=2, **{**options, "epochs": best})
    state = run.network.state_dict()
    assert all(torch.equal(state[k], v) for k, v in cut.network.state_dict().items())
    # killed one epoch before it stopped, then resumed: the same network
    checkpoint = tmp_path / "checkpoint.pt"
    train(data, patience=3, random_state=2, checkpoint=checkpoint, **{**options, "epochs": stop - 1})
    resumed = train(data, patience=3, random_state=2, checkpoint=checkpoint, **options)
    assert len(resumed.history) == stop
    assert all(torch.equal(state[k], v) for k, v in resumed.network.state_dict().items())
    with pytest.raises(InvalidArgumentError, match=r"variant: released vs paper"):
        train(data, patience=3, random_state=2, checkpoint=checkpoint, **{**options, "variant": "paper"})
    with pytest.raises(InvalidArgumentError, match=r"'patience'.*no validation images"):
        train(data, patience=3, val_fraction=0, **options)


def test_bernoulli_mirroring_is_seeded_and_not_exactly_half(noise):
    digits = ImageData(torch.rand(200, 3, 32, 32), torch.arange(200) % 10, 10, "digits")
    half = apply_regime(digits, "mirror_sensitive", random_state=7)
    drawn = apply_regime(digits, "mirror_sensitive", random_state=7, mirroring="bernoulli")
    again = apply_regime(digits, "mirror_sensitive", random_state=7, mirroring="bernoulli")
    other = apply_regime(digits, "mirror_sensitive", random_state=8, mirroring="bernoulli")
    flipped = drawn.labels >= 10
    expected = np.random.default_rng(7).random(200) < 0.5
    np.testing.assert_array_equal(flipped.numpy(), expected)
    assert int((half.labels >= 10).sum()) == 100 and int(flipped.sum()) == int(expected.sum()) != 100
    assert torch.equal(drawn.images, again.images) and not torch.equal(drawn.labels, other.labels)
    assert torch.equal(drawn.images[flipped], digits.images[flipped].flip(-1))
    assert torch.equal(drawn.images[~flipped], digits.images[~flipped])
    with pytest.raises(InvalidArgumentError, match=r"'mirroring'.*half, bernoulli.*got 'coin'"):
        apply_regime(digits, "mirror_invariant", mirroring="coin")


def test_variant_travels_through_files_and_result_dicts(tmp_path):
    torch.manual_seed(3)
    history = pd.DataFrame({"epoch": [1], "val_loss": [1.0]})
    result = TrainResult(ControlNet(4, "released").eval(), history, {"dataset": "digits", "variant": "released"})
    x = torch.rand(2, 3, 32, 32)
    back = load_network(save_network(tmp_path / "network.pt", result, dtype=torch.float32))
    assert back.network.variant == "released" and torch.equal(back.network(x), result.network(x))
    assert TrainResult.from_dict(result.to_dict()).network.variant == "released"
    state = result.network.state_dict()
    assert control_net_from_state(state).variant == "released"  # fc1's shape tells it
    with pytest.raises(InvalidArgumentError, match=r"released variant.*not paper"):
        control_net_from_state(state, "paper")
    with pytest.raises(InvalidArgumentError, match=r"Invalid value for 'variant'.*got 'keras'"):
        ControlNet(4, "keras")


def test_shipped_network_loads_bit_identically_as_the_paper_variant():
    shipped = load_shipped_network()
    raw = torch.load(SHIPPED_NETWORK, map_location="cpu", weights_only=True)["network"]
    assert shipped.network.variant == "paper" and not hasattr(shipped.network, "pool2")
    state = shipped.network.state_dict()
    assert set(state) == set(raw)
    assert all(torch.equal(state[k], v.float() if v.is_floating_point() else v) for k, v in raw.items())
    assert list(shipped.loaded().resolve_layers("all")) == list(CONTROL_LAYERS)
    assert shipped.loaded().resolve_layers(["image"]) == {"image": ""}


def test_cli_train_takes_the_variant():
    from rsa_mirror.cli.main import build_parser

    parser, _ = build_parser()
    args = parser.parse_args(["train", "--out", "x", "--variant", "released", "--patience", "5"])
    assert (args.variant, args.patience) == ("released", 5)
    assert parser.parse_args(["train", "--out", "x"]).variant == "paper"
    with pytest.raises(SystemExit):
        parser.parse_args(["train", "--out", "x", "--variant", "keras"])
