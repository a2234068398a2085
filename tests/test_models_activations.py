"""Models (presets, weights) and activations (hooks, streaming) on CPU."""

import numpy as np
import pytest
import torch

from rsa_mirror import compute_view_rdms
from rsa_mirror.networks.activations import extract_activations, measure_equivariance, model_view_rdms
from rsa_mirror.networks.models import LoadedModel, load_model
from rsa_mirror.stimuli import StimulusSet
from rsa_mirror.symmetry import equivariance, invariance


@pytest.fixture
def hub(tmp_path, monkeypatch):
    # TORCH_HOME, not torch.hub.set_dir: set_dir pins the folder for the rest of the process
    monkeypatch.setenv("TORCH_HOME", str(tmp_path))
    assert torch.hub.get_dir() == str(tmp_path / "hub")
    return tmp_path / "hub"


def test_untrained_weights_are_lecun_normal_and_seeded(alexnet):
    conv1 = alexnet.module.features[0].weight.detach()
    assert float(conv1.std()) == pytest.approx((3 * 11 * 11) ** -0.5, rel=0.05)
    fc6 = alexnet.module.classifier[1].weight.detach()
    assert float(fc6.std()) == pytest.approx((256 * 6 * 6) ** -0.5, rel=0.01)
    assert float(alexnet.module.classifier[1].bias.abs().max()) == 0.0
    again = load_model("alexnet", weights="untrained", random_state=0)
    other = load_model("alexnet", weights="untrained", random_state=1)
    assert torch.equal(again.module.features[3].weight, alexnet.module.features[3].weight)
    assert not torch.equal(other.module.features[3].weight, alexnet.module.features[3].weight)
    assert alexnet.weights == "untrained (LeCun normal, seed 0)"
    assert alexnet.input_size == 227


def test_missing_imagenet_weights_say_how_to_get_them(hub):
    with pytest.raises(FileNotFoundError, match="never downloads them.*alexnet-owt-7be5be79.pth.*weights='untrained'"):
        load_model("alexnet", weights="imagenet")


def test_imagenet_weights_are_read_from_the_cache(hub, alexnet):
    (hub / "checkpoints").mkdir(parents=True)
    torch.save(alexnet.module.state_dict(), hub / "checkpoints" / "alexnet-owt-7be5be79.pth")
    cached = load_model("alexnet", weights="imagenet")
    assert cached.weights == "imagenet (IMAGENET1K_V1)"
    assert torch.equal(cached.module.features[0].weight, alexnet.module.features[0].weight)


def test_weights_from_a_local_file(tmp_path, alexnet):
    torch.save(alexnet.module.state_dict(), tmp_path / "mine.pt")
    local = load_model("alexnet", weights=tmp_path / "mine.pt")
    assert torch.equal(local.module.classifier[6].weight, alexnet.module.classifier[6].weight)
    with pytest.raises(FileNotFoundError, match="no weights file"):
        load_model("alexnet", weights=tmp_path / "none.pt")
    torch.save({"layer.weight": torch.zeros(2)}, tmp_path / "other.pt")
    with pytest.raises(ValueError, match="does not hold alexnet weights"):
        load_model("alexnet", weights=tmp_path / "other.pt")
    with pytest.raises(ValueError, match="Invalid value for 'name'"):
        load_model("lenet")


def test_layer_names(alexnet):
    assert alexnet.resolve_layers(["conv1", "fc6", "features.0"]) == {
        "conv1": "features.1",
        "fc6": "classifier.2",
        "features.0": "features.0",
    }
    assert list(alexnet.resolve_layers("all")) == [
        "conv1",
        "conv2",
        "conv3",
        "conv4",
        "conv5",
        "pool5",
        "fc6",
        "fc7",
        "fc8",
    ]
    with pytest.raises(ValueError, match="Invalid layer 'fc9' for alexnet: expected a preset \\(conv1, conv2"):
        alexnet.resolve_layers(["fc9"])


def test_toy_network_activations_are_exact_and_pre_relu_survives_inplace_relu(toy_network):
    x = np.random.default_rng(1).uniform(-1, 1, (5, 1, 4, 4)).astype(np.float32)
    acts = extract_activations(toy_network(), torch.from_numpy(x), ["0", "1", "4"], device="cpu", batch_size=2)
    pre = np.concatenate([x, -x + 0.5], axis=1)
    np.testing.assert_allclose(acts["0"], pre, atol=1e-6)  # negative values kept: the hook cloned
    assert acts["0"].min() < 0
    np.testing.assert_allclose(acts["1"], np.maximum(pre, 0), atol=1e-6)
    readout = 2 * np.maximum(pre[:, 0], 0).mean((1, 2)) + 3 * np.maximum(pre[:, 1], 0).mean((1, 2)) + 1
    np.testing.assert_allclose(acts["4"][:, 0], readout, atol=1e-5)


def test_alexnet_shapes_batches_and_hooks(alexnet, objects):
    acts = extract_activations(alexnet, objects, ["conv1", "pool5", "fc6", "fc8"], batch_size=7, device="cpu")
    assert acts["conv1"].shape == (20, 64, 56, 56)  # 227 x 227 input
    assert acts["pool5"].shape == (20, 256, 6, 6)
    assert acts["fc6"].shape == (20, 4096) and acts["fc8"].shape == (20, 1000)
    assert acts["conv1"].min() >= 0  # the preset is the ReLU output
    whole = extract_activations(alexnet, objects, ["fc8"], batch_size=20, device="cpu")
    np.testing.assert_allclose(whole["fc8"], acts["fc8"], rtol=1e-4, atol=1e-5)
    assert all(not m._forward_hooks for m in alexnet.module.modules())


def test_a_pass_stops_after_the_last_requested_layer(alexnet, objects):
    calls = []
    handle = alexnet.module.classifier.register_forward_hook(lambda *args: calls.append(1))
    try:
        extract_activations(alexnet, objects, ["conv2"], batch_size=10, device="cpu")
        assert calls == []
        extract_activations(alexnet, objects, ["fc6"], batch_size=10, device="cpu")
        assert calls == []  # stopped inside the classifier, before it returned
    finally:
        handle.remove()


def test_streamed_view_rdms_equal_in_memory_ones(alexnet, objects):
    layers = ["conv1", "conv5", "fc6"]
    streamed = model_view_rdms(alexnet, objects, layers, batch_size=7, device="cpu")
    in_memory = compute_view_rdms(
        extract_activations(alexnet, objects, layers, device="cpu"), descriptors=objects.descriptors
    )
    np.testing.assert_allclose(streamed.dissimilarities, in_memory.dissimilarities, atol=2e-5)
    assert streamed.rdm_descriptors["name"] == in_memory.rdm_descriptors["name"]
    assert streamed.rdm_descriptors["n_units"] == in_memory.rdm_descriptors["n_units"]
    assert list(streamed.rdm_descriptors["category"]) == list(in_memory.rdm_descriptors["category"])


def test_loaded_model_wraps_plain_modules(toy_network):
    loaded = LoadedModel("toy", toy_network(), "hand-set")
    with pytest.raises(ValueError, match="Invalid layer '9' for toy"):
        loaded.resolve_layers(["9"])


def test_importing_the_package_leaves_torch_unloaded():
    import subprocess
    import sys

    code = "import sys, rsa_mirror, neural_data; assert 'torch' not in sys.modules; rsa_mirror.load_model"
    subprocess.run([sys.executable, "-c", code], check=True)


def test_measure_equivariance_table(alexnet):
    """Streamed in batches of 4 (and a partial one); every row equals the in-memory measure."""
    rng = np.random.default_rng(3)
    stimuli = StimulusSet(rng.uniform(0, 1, (6, 40, 40)).astype(np.float32))
    transforms = ("hflip", "rot90")
    table = measure_equivariance(alexnet, stimuli, ["conv1", "fc6"], transforms=transforms, device="cpu", batch_size=4)
    assert list(map(tuple, table[["layer", "transform", "measure"]].values)) == [
        ("conv1", "hflip", "invariance"),
        ("conv1", "hflip", "equivariance"),
        ("conv1", "rot90", "invariance"),
        ("conv1", "rot90", "equivariance"),
        ("fc6", "hflip", "invariance"),
        ("fc6", "rot90", "invariance"),
    ]
    assert (table["n_images"] == 6).all()
    original = extract_activations(alexnet, stimuli, ["conv1", "fc6"], device="cpu")
    for transform in transforms:
        moved = extract_activations(alexnet, stimuli.transformed(transform), ["conv1", "fc6"], device="cpu")
        for layer in ("conv1", "fc6"):
            measures = {"invariance": invariance(original[layer], moved[layer], transform)}
            if layer == "conv1":
                measures["equivariance"] = equivariance(original[layer], moved[layer], transform)
            for measure, r in measures.items():
                row = table[
                    (table["layer"] == layer) & (table["transform"] == transform) & (table["measure"] == measure)
                ]
                assert float(row["mean"].iloc[0]) == pytest.approx(r.mean(), abs=1e-6)
                assert float(row["sem"].iloc[0]) == pytest.approx(r.std(ddof=1) / np.sqrt(6), abs=1e-6)


@pytest.mark.parametrize("name", ["vgg16", "resnet50", "convnext_tiny", "vit_b_16"])
def test_every_preset_names_a_module_in_network_order(name):
    model = load_model(name, weights="untrained")
    order = {path: i for i, (path, _) in enumerate(model.module.named_modules())}
    paths = list(model.resolve_layers("all").values())
    assert [order[p] for p in paths] == sorted(order[p] for p in paths)


def test_activation_cache_hits_misses_and_keys(alexnet, objects, tmp_path, monkeypatch):
    first = extract_activations(alexnet, objects, ["conv2", "fc6"], device="cpu", cache_dir=tmp_path)
    files = sorted(p.name for p in tmp_path.iterdir())
    assert len(files) == 2 and files[0].startswith("conv2-") and not any("part" in f for f in files)

    def no_forward(*args, **kwargs):
        raise AssertionError("the network ran on a cache hit")

    monkeypatch.setattr(alexnet.module, "forward", no_forward)
    again = extract_activations(alexnet, objects, ["fc6", "conv2"], device="cpu", cache_dir=tmp_path)
    assert list(again) == ["fc6", "conv2"]
    np.testing.assert_array_equal(again["fc6"], first["fc6"])
    assert isinstance(again["conv2"], np.memmap) and not again["conv2"].flags.writeable
    monkeypatch.undo()

    # other images, other weights: other keys, computed afresh
    changed = StimulusSet(objects.images[::-1].copy(), objects.descriptors)
    extract_activations(alexnet, changed, ["fc6"], device="cpu", cache_dir=tmp_path)
    other = load_model("alexnet", weights="untrained", random_state=3)
    extract_activations(other, objects, ["fc6"], device="cpu", cache_dir=tmp_path)
    assert len(list(tmp_path.iterdir())) == 4


def test_a_module_used_twice_per_pass_is_refused():
    relu = torch.nn.ReLU()
    shared = torch.nn.Sequential(
        torch.nn.Conv2d(1, 2, 1), relu, torch.nn.Conv2d(2, 2, 1), relu, torch.nn.Conv2d(2, 1, 1)
    )
    with pytest.raises(ValueError, match="runs more than once per forward pass; hook its parent"):
        extract_activations(shared, torch.zeros(2, 1, 3, 3), ["1", "4"], device="cpu")


def test_stream_can_hand_over_device_tensors(toy_network):
    from rsa_mirror.networks.activations import stream_activations

    received = {}
    x = torch.randn(3, 1, 4, 4)
    stream_activations(
        toy_network(),
        x,
        ["0"],
        lambda name, rows, values: received.update({name: values}),
        device="cpu",
        as_numpy=False,
    )
    assert torch.is_tensor(received["0"]) and received["0"].shape == (3, 2, 4, 4)
