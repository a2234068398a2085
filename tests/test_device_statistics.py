"""Streamed statistics in torch on the activations' device equal the NumPy (host) path.

``statistics_on="device"`` runs the unit statistics, z-scores, view correlations and per-image
invariance / equivariance in torch where the network runs; these tests run it on the CPU and
compare it with ``statistics_on="host"`` (the NumPy reference) and with independent
computations on activations held in memory. The CUDA tests are marked ``gpu`` and skipped
without a CUDA device.
"""

import copy

import numpy as np
import pytest
import torch

from rsa_mirror import compute_view_rdms
from rsa_mirror.errors import DataError, InvalidArgumentError
from rsa_mirror.networks import device_statistics
from rsa_mirror.networks.activations import (
    equivariance_by_image,
    extract_activations,
    measure_equivariance,
    model_view_rdms,
)
from rsa_mirror.networks.control import ControlNet
from rsa_mirror.networks.device_statistics import (
    UnitStatistics,
    ZScore,
    device_masks,
    resolve_statistics_on,
    transform_correlations,
    view_correlations,
)
from rsa_mirror.networks.models import LoadedModel
from rsa_mirror.symmetry import equivariance, invariance

CONTROL = ["conv1", "conv3", "conv4", "fc2", "fc3"]  # even maps 30, 12, 10; fc2 with a constant unit
ALEXNET = ["conv1", "conv5", "fc6"]  # odd maps 55 and 13: fixed points are dropped
KEYS = ["layer", "transform", "measure", "image"]


def with_constant_units(loaded):
    """A copy of the control network in which channel 0 of conv4 and unit 0 of fc2 never change."""
    module = copy.deepcopy(loaded.module)
    with torch.no_grad():
        for layer, value in ((module.conv4, 0.2), (module.fc2, 0.3)):
            layer.weight[0] = 0.0
            layer.bias[0] = value
    return LoadedModel("control", module, "untrained", loaded.layers, 32, None, None)


@pytest.fixture(scope="module")
def control():
    torch.manual_seed(0)
    network = ControlNet(10).eval()
    return with_constant_units(LoadedModel("control", network, "untrained", network.layers, 32, None, None))


@pytest.fixture(scope="module")
def views(object_views):
    """5 objects x 5 views of smooth random 32 x 32 images."""
    return object_views(5, [-90.0, -45.0, 0.0, 45.0, 90.0], 32, seed=3, block=2)


@pytest.fixture(scope="module")
def control_activations(control, views):
    return extract_activations(control, views, CONTROL, device="cpu", batch_size=25)


@pytest.mark.parametrize("normalize", ["zscore", "none"])
def test_view_rdms_on_device_equal_host_and_an_in_memory_reference(control, views, control_activations, normalize):
    options = {"device": "cpu", "batch_size": 10, "normalize": normalize}
    host = model_view_rdms(control, views, CONTROL, statistics_on="host", **options)
    device = model_view_rdms(control, views, CONTROL, statistics_on="device", **options)
    np.testing.assert_allclose(device.dissimilarities, host.dissimilarities, rtol=0, atol=1e-5)
    assert list(device.rdm_descriptors["n_units"]) == list(host.rdm_descriptors["n_units"])
    assert list(device.rdm_descriptors["name"]) == list(host.rdm_descriptors["name"])
    # independent of both: float64 activations held in memory
    wide = {name: values.astype(np.float64) for name, values in control_activations.items()}
    if normalize == "zscore":
        reference = compute_view_rdms(wide, descriptors=views.descriptors).dissimilarities
        width = {name: v.reshape(len(v), -1) for name, v in wide.items()}
        informative = [int(np.sum(np.ptp(width[name], axis=0) > 0)) for name in CONTROL]
    else:
        upper = np.triu_indices(5, k=1)
        blocks = [(name, v.reshape(5, 5, -1)) for name, v in wide.items()]
        reference = np.array([1 - np.corrcoef(block)[upper] for _, v in blocks for block in v])
        informative = [v.shape[-1] for _, v in blocks]
    np.testing.assert_allclose(device.dissimilarities, reference, rtol=0, atol=1e-5)
    assert list(device.rdm_descriptors["n_units"][::5]) == informative
    constant = [wide["fc2"].reshape(25, -1)[:, 0], wide["conv4"].reshape(25, -1)[:, :100]]
    assert all(np.ptp(values, axis=0).max() == 0 for values in constant)  # the fixture's constant units


def test_equivariance_on_device_equals_host_for_every_transform(control, views, control_activations):
    options = {"device": "cpu", "batch_size": 7}
    host = equivariance_by_image(control, views, CONTROL, statistics_on="host", **options)
    device = equivariance_by_image(control, views, CONTROL, statistics_on="device", **options)
    assert device[KEYS].equals(host[KEYS])
    np.testing.assert_allclose(device["r"], host["r"], rtol=0, atol=1e-5)
    assert set(device["transform"]) == {"hflip", "vflip", "rot90"}
    # in-memory reference: Eq. 2 / Eq. 3 on the activations of the originals and their copies
    for transform in ("hflip", "rot90"):
        copies = extract_activations(control, views.transformed(transform), ["conv3", "fc2"], device="cpu")
        for name, measure in (("conv3", equivariance), ("conv3", invariance), ("fc2", invariance)):
            expected = measure(control_activations[name], copies[name], transform)
            rows = device[(device["layer"] == name) & (device["transform"] == transform)]
            got = rows[rows["measure"] == measure.__name__].sort_values("image")["r"].to_numpy()
            np.testing.assert_allclose(got, expected, rtol=0, atol=1e-5, err_msg=f"{name} {transform}")


def test_equivariance_summary_on_device_equals_host_with_odd_maps(alexnet, object_views):
    stimuli = object_views(2, [-45.0, 0.0, 45.0], 32, seed=5, block=4)
    options = {"device": "cpu", "batch_size": 4, "transforms": ("hflip", "vflip", "rot90")}
    host = measure_equivariance(alexnet, stimuli, ALEXNET, statistics_on="host", **options)
    device = measure_equivariance(alexnet, stimuli, ALEXNET, statistics_on="device", **options)
    assert device[["layer", "transform", "measure", "n_images"]].equals(
        host[["layer", "transform", "measure", "n_images"]]
    )
    np.testing.assert_allclose(device[["mean", "sem"]], host[["mean", "sem"]], rtol=0, atol=1e-5)
    assert (device["measure"] == "equivariance").sum() == 2 * 3  # conv1, conv5 x three transforms


def test_unit_statistics_on_device_match_numpy_over_uneven_batches():
    rng = np.random.default_rng(1)
    rows = rng.normal(1000.0, 0.5, (53, 40)).astype(np.float32)  # far from zero: float32 centring matters
    rows[:, 7] = 3.25  # constant
    host, device = UnitStatistics(40), UnitStatistics(40, torch.device("cpu"))
    for part in np.split(rows, [5, 6, 30]):
        host.update("layer", part)
        device.update("layer", torch.from_numpy(part))
    expected_mean, expected_sd = rows.astype(np.float64).mean(axis=0), rows.astype(np.float64).std(axis=0)
    for mean, sd in (host.units(), [v.numpy() for v in device.units("layer")]):
        np.testing.assert_allclose(mean, expected_mean, rtol=1e-12)
        assert np.isinf(sd[7]) and np.isfinite(np.delete(sd, 7)).all()
        np.testing.assert_allclose(np.delete(sd, 7), np.delete(expected_sd, 7), rtol=1e-5)


@pytest.mark.parametrize("chunk_bytes", [2**25, 3000])  # one chunk, or many (a few channels each)
def test_device_arithmetic_equals_closed_forms_in_any_chunking(monkeypatch, chunk_bytes):
    monkeypatch.setitem(device_statistics.DEVICE_CHUNK_BYTES, "cpu", chunk_bytes)
    rng = np.random.default_rng(2)
    values = (rng.normal(0, 1, (12, 6, 7, 7)) + rng.normal(0, 50, (6, 7, 7))).astype(np.float32)
    values[:, 0] = 2.5  # a constant channel
    wide = values.reshape(12, -1).astype(np.float64)
    statistics = UnitStatistics(wide.shape[1], torch.device("cpu"))
    statistics.update("maps", torch.from_numpy(values.reshape(12, -1)))
    zscore = ZScore("maps", *statistics.units("maps"))
    kept = int(zscore.informative.sum())
    assert kept == 5 * 49
    r, flat = view_correlations(torch.from_numpy(values.reshape(12, -1)), zscore, 4, kept)
    informative = np.ptp(wide, axis=0) > 0
    z = (wide[:, informative] - wide[:, informative].mean(axis=0)) / wide[:, informative].std(axis=0)
    expected = np.stack([np.corrcoef(z[k : k + 4]) for k in range(0, 12, 4)])
    np.testing.assert_allclose(r.numpy(), expected, rtol=0, atol=1e-12)
    assert not flat.any()
    # Eq. 2 and 3 against symmetry.invariance / equivariance, each set with its own statistics
    copies = {"hflip": values[..., ::-1], "vflip": values[..., ::-1, :], "rot90": np.rot90(values, 1, axes=(-2, -1))}
    for transform, moved in copies.items():
        moved = (moved + rng.normal(0, 0.5, moved.shape)).astype(np.float32)
        moved[:, 0] = -1.0
        zscores = []
        for part in (values, moved):
            stats = UnitStatistics(wide.shape[1], torch.device("cpu"))
            stats.update("maps", torch.from_numpy(np.ascontiguousarray(part).reshape(12, -1)))
            zscores.append(ZScore("maps", *stats.units("maps")))
        masks = device_masks(transform, *(z.informative for z in zscores), values.shape[1:], torch.device("cpu"))
        got = transform_correlations(torch.from_numpy(values), torch.from_numpy(moved), transform, zscores, masks)
        for measure in (invariance, equivariance):
            expected = measure(values, moved, transform)
            np.testing.assert_allclose(got[measure.__name__].numpy(), expected, rtol=0, atol=1e-12, err_msg=transform)


def test_statistics_on_default_and_checks():
    assert resolve_statistics_on("auto", torch.device("cpu")) == "host"
    assert resolve_statistics_on("auto", torch.device("cuda")) == "device"
    assert resolve_statistics_on("device", torch.device("cpu")) == "device"
    with pytest.raises(InvalidArgumentError, match="'statistics_on'.*auto, device, host.*'gpu'"):
        resolve_statistics_on("gpu", torch.device("cpu"))
    with pytest.raises(InvalidArgumentError, match="'statistics_on'.*MPS"):
        resolve_statistics_on("device", torch.device("mps"))


def test_device_path_refuses_what_the_host_path_refuses(control, views):
    broken = with_constant_units(control)
    with torch.no_grad():
        broken.module.conv1.bias[0] = float("inf")
    for statistics_on in ("host", "device"):
        with pytest.raises(DataError, match="'conv1' produced NaN or Inf"):
            model_view_rdms(broken, views, ["conv1"], device="cpu", statistics_on=statistics_on)
    same = with_constant_units(control)
    with torch.no_grad():  # every fc3 unit the same function of the input: each pattern is flat once z-scored
        same.module.fc3.weight[:] = same.module.fc3.weight[0]
        same.module.fc3.bias[:] = 0.1
    for statistics_on in ("host", "device"):
        with pytest.raises(DataError, match="'fc3'.*same z-score on every unit"):
            model_view_rdms(same, views, ["fc3"], device="cpu", statistics_on=statistics_on)


@pytest.mark.gpu
@pytest.mark.skipif(not torch.cuda.is_available(), reason="needs a CUDA device")
def test_device_statistics_on_cuda_equal_host(alexnet, object_views):
    stimuli = object_views(6, [-90.0, -45.0, 0.0, 45.0, 90.0], 64, seed=1, block=4)
    layers = ["conv1", "conv5", "pool5", "fc6", "fc8"]
    for normalize in ("zscore", "none"):  # bfloat16 autocast: both paths see the same activations
        options = {"device": "cuda", "batch_size": 10, "normalize": normalize}
        host = model_view_rdms(alexnet, stimuli, layers, statistics_on="host", **options)
        device = model_view_rdms(alexnet, stimuli, layers, **options)  # auto: the device on CUDA
        np.testing.assert_allclose(device.dissimilarities, host.dissimilarities, rtol=0, atol=1e-5)
    options = {"device": "cuda", "batch_size": 8}
    host = equivariance_by_image(alexnet, stimuli, layers, statistics_on="host", **options)
    device = equivariance_by_image(alexnet, stimuli, layers, statistics_on="device", **options)
    assert device[KEYS].equals(host[KEYS])
    np.testing.assert_allclose(device["r"], host["r"], rtol=0, atol=1e-5)
