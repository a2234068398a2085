"""CUDA runs agree with CPU runs: activations, streamed view RDMs and equivariance.

Marked ``gpu`` and skipped without CUDA; ``make test`` deselects them. Run on a GPU machine with
``pytest -m gpu tests/test_gpu.py``. TF32 convolutions (cuDNN's default) and bfloat16 autocast
change the numbers slightly, so full-precision runs are compared tightly and bfloat16 runs by
the correlation of what the analyses use.
"""

import numpy as np
import pytest
import torch

from rsa_mirror import compute_view_rdms
from rsa_mirror.networks.activations import extract_activations, measure_equivariance, model_view_rdms

pytestmark = [
    pytest.mark.gpu,
    pytest.mark.skipif(not torch.cuda.is_available(), reason="needs a CUDA device"),
]

LAYERS = ["conv1", "conv3", "pool5", "fc6", "fc8"]


@pytest.fixture(scope="module")
def objects(object_views):
    """6 objects x 5 views of smooth random 64 x 64 grayscale images."""
    return object_views(6, [-90.0, -45.0, 0.0, 45.0, 90.0], 64, seed=1, block=4)


@pytest.fixture(scope="module")
def cpu_activations(alexnet, objects):
    return extract_activations(alexnet, objects, LAYERS, device="cpu", batch_size=8)


@pytest.fixture
def no_tf32():
    previous = torch.backends.cudnn.allow_tf32
    torch.backends.cudnn.allow_tf32 = False
    yield
    torch.backends.cudnn.allow_tf32 = previous


def test_float32_cuda_activations_equal_cpu(alexnet, objects, cpu_activations, no_tf32):
    cuda = extract_activations(alexnet, objects, LAYERS, device="cuda", dtype=torch.float32, batch_size=7)
    for name in LAYERS:
        scale = cpu_activations[name].std()
        np.testing.assert_allclose(cuda[name], cpu_activations[name], rtol=0, atol=1e-4 * scale, err_msg=name)


def test_bfloat16_activations_track_float32(alexnet, objects, cpu_activations):
    cuda = extract_activations(alexnet, objects, LAYERS, device="cuda", batch_size=16)  # bfloat16 autocast
    for name in LAYERS:
        r = np.corrcoef(cuda[name].ravel(), cpu_activations[name].ravel())[0, 1]
        assert r > 0.995, (name, r)


def test_streamed_view_rdms_on_cuda_equal_cpu_reference(alexnet, objects, cpu_activations, no_tf32):
    reference = compute_view_rdms(cpu_activations, descriptors=objects.descriptors)
    streamed = model_view_rdms(alexnet, objects, LAYERS, device="cuda", dtype=torch.float32, batch_size=10)
    np.testing.assert_allclose(streamed.dissimilarities, reference.dissimilarities, atol=2e-5)
    assert streamed.rdm_descriptors["name"] == reference.rdm_descriptors["name"]
    assert streamed.rdm_descriptors["n_units"] == reference.rdm_descriptors["n_units"]


def test_equivariance_on_cuda_equals_cpu(alexnet, objects, no_tf32):
    cpu = measure_equivariance(alexnet, objects, ["conv1", "conv5", "fc7"], device="cpu", batch_size=8)
    cuda = measure_equivariance(
        alexnet, objects, ["conv1", "conv5", "fc7"], device="cuda", dtype=torch.float32, batch_size=8
    )
    assert cuda[["layer", "transform", "measure"]].equals(cpu[["layer", "transform", "measure"]])
    np.testing.assert_allclose(cuda["mean"], cpu["mean"], atol=1e-5)
    bf16 = measure_equivariance(alexnet, objects, ["conv1", "conv5", "fc7"], device="cuda", batch_size=8)
    np.testing.assert_allclose(bf16["mean"], cpu["mean"], atol=0.02)


def test_model_input_converted_on_the_gpu_equals_cpu_conversion(objects):
    for size in (64, 227):
        on_cpu = objects.to_tensor(slice(3, 20), size=size)
        on_gpu = objects.to_tensor(slice(3, 20), size=size, device="cuda")
        assert on_gpu.device.type == "cuda"
        np.testing.assert_allclose(on_gpu.cpu().numpy(), on_cpu.numpy(), atol=1e-4)  # float32 rounding


def test_rise_maps_on_cuda_track_cpu_maps_eager_and_compiled(alexnet, objects):
    from rsa_mirror.importance import rise_maps
    from rsa_mirror.networks.forward import unit_responses

    images = objects.images[:4]
    units = np.argsort(unit_responses(alexnet, images, "conv5", None, device="cpu").min(axis=1))[-3:]  # active
    options = {"n_masks": 400, "grid": 5, "batch_size": 128, "random_state": 0}
    cpu = rise_maps(alexnet, images, "conv5", units, device="cpu", **options)
    for compile in (False, True):
        cuda = rise_maps(alexnet, images, "conv5", units, device="cuda", compile=compile, **options)
        for unit_cpu, unit_cuda in zip(cpu.reshape(12, -1), cuda.reshape(12, -1), strict=True):
            assert np.corrcoef(unit_cpu, unit_cuda)[0, 1] > 0.99  # same masks, bfloat16 responses


def test_the_gray_stem_on_cuda_tracks_the_network_own_first_convolution(alexnet):
    from rsa_mirror.networks.devices import fast_kernels as _fast_kernels
    from rsa_mirror.networks.forward import layer_function as _layer_function

    network, path = alexnet.module.to("cuda").eval(), alexnet.resolve_layers(["fc6"])["fc6"]
    gray = torch.rand(64, 227, 227, device="cuda", generator=torch.Generator("cuda").manual_seed(0))
    with torch.inference_mode():
        reference = _layer_function(network, path, alexnet, gray_stem=False)(gray)  # float32 (TF32 convolutions)
        with _fast_kernels(torch.device("cuda")), torch.autocast("cuda", torch.bfloat16):
            for gray_stem in (True, False):
                fast = _layer_function(network, path, alexnet, gray_stem=gray_stem)(gray).float()
                assert float(torch.linalg.norm(fast - reference) / torch.linalg.norm(reference)) < 2e-2  # bf16
