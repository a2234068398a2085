"""No loader runs code from a data file: crafted pickles are refused, naming the file.

Each crafted file holds an object whose unpickling would create a marker file (through
``builtins.open`` or ``os.system``). Every loader of .pt, .npz, .npy and .mat files must refuse
it with one of the package's errors naming the file, and the marker must never appear.
"""

import builtins
import os
import pickle

import h5py
import numpy as np
import pytest
import scipy.io
import torch
from torch import nn

from rsa_mirror.errors import RsaMirrorError

PAYLOADS = ("open", "system")


class Payload:
    """Unpickling this object creates ``marker`` (what a crafted file would do instead)."""

    def __init__(self, marker, how):
        self.marker, self.how = str(marker), how

    def __reduce__(self):
        if self.how == "open":
            return builtins.open, (self.marker, "w")
        return os.system, (f"touch '{self.marker}'",)


@pytest.fixture(params=PAYLOADS)
def payload(request, tmp_path):
    """(payload object, marker path); the test fails if the marker appears."""
    marker = tmp_path / "marker"
    yield Payload(marker, request.param), marker
    assert not marker.exists(), "a crafted file ran code"


def refused(call, file):
    """Call ``call()``, expect a package error whose message names ``file``."""
    with pytest.raises(RsaMirrorError) as caught:
        call()
    assert file.name in str(caught.value)


def tiny_training_data():
    from rsa_mirror.networks.datasets import ImageData

    generator = torch.Generator().manual_seed(0)
    images = torch.rand(8, 3, 32, 32, generator=generator)
    return ImageData(images, torch.arange(8) % 2, 2, "tiny")


# ---------------------------------------------------------------- torch files


def test_load_network_refuses_a_crafted_network_file(tmp_path, payload):
    from rsa_mirror.networks.files import load_network

    file = tmp_path / "network.pt"
    torch.save({"config": payload[0], "network": {}, "history": {}}, file)
    refused(lambda: load_network(file), file)


def test_train_refuses_a_crafted_checkpoint_and_keeps_it(tmp_path, payload):
    from rsa_mirror.networks.training import train

    file = tmp_path / "checkpoint.pt"
    torch.save({"config": {}, "network": {}, "optimizer": {}, "scheduler": {}, "history": [payload[0]]}, file)
    before = file.read_bytes()
    refused(lambda: train(tiny_training_data(), epochs=1, device="cpu", checkpoint=file), file)
    assert file.read_bytes() == before  # nothing lost: the refused checkpoint stays as it was


def test_importance_cli_refuses_a_crafted_control_network(tmp_path, payload, capsys):
    from rsa_mirror.cli import main

    file = tmp_path / "network.pt"
    torch.save({"config": payload[0], "network": {}, "history": {}}, file)
    code = main(["importance", "--model", "control", "--weights", str(file), "--out", str(tmp_path / "out")])
    assert code == 2 and file.name in capsys.readouterr().err


def test_load_model_refuses_a_crafted_state_dict(tmp_path, payload):
    from rsa_mirror.networks.models import load_model

    file = tmp_path / "alexnet.pt"
    torch.save({"features.0.weight": payload[0]}, file)
    refused(lambda: load_model("alexnet", weights=file), file)


# ---------------------------------------------------------------- NumPy files


def test_load_stimuli_refuses_pickled_object_arrays_in_npz(tmp_path, payload):
    from rsa_mirror.stimuli import load_stimuli

    file = tmp_path / "stimuli.npz"
    np.savez(file, images=np.array([payload[0]], dtype=object))
    refused(lambda: load_stimuli(file), file)


def test_load_stimuli_refuses_a_pickle_named_npz(tmp_path, payload):
    from rsa_mirror.stimuli import load_stimuli

    file = tmp_path / "stimuli.npz"
    file.write_bytes(pickle.dumps({"images": payload[0]}))
    refused(lambda: load_stimuli(file), file)


def test_load_stimuli_refuses_pickled_object_arrays_in_npy(tmp_path, payload):
    from rsa_mirror.stimuli import load_stimuli

    file = tmp_path / "stimuli.npy"
    np.save(file, np.array([payload[0]], dtype=object), allow_pickle=True)
    refused(lambda: load_stimuli(file), file)


def test_activation_cache_refuses_crafted_entries(tmp_path, payload):
    """A crafted cache entry is never used: a warning names it, and it is computed afresh."""
    from rsa_mirror.networks.activations import extract_activations

    torch.manual_seed(0)
    network = nn.Sequential(nn.Conv2d(3, 2, 3))
    images = np.random.default_rng(0).random((2, 3, 8, 8)).astype(np.float32)
    cache = tmp_path / "cache"
    expected = np.array(extract_activations(network, images, ["0"], device="cpu", cache_dir=cache)["0"])
    (entry,) = cache.glob("*.npy")  # <layer>-<key>.npy
    np.save(entry, np.array([payload[0]], dtype=object), allow_pickle=True)
    with pytest.warns(UserWarning, match=entry.name):
        again = extract_activations(network, images, ["0"], device="cpu", cache_dir=cache)["0"]
    np.testing.assert_array_equal(again, expected)
    np.testing.assert_array_equal(np.load(entry, allow_pickle=False), expected)  # replaced by plain numbers


def test_rise_checkpoints_never_unpickle_crafted_entries(tmp_path, payload):
    """A crafted RISE checkpoint is never used: a warning names it, and the maps are computed afresh."""
    from rsa_mirror.importance import rise_maps

    torch.manual_seed(0)
    network = nn.Sequential(nn.Conv2d(3, 2, 3), nn.Flatten())
    images = np.random.default_rng(0).random((2, 8, 8)).astype(np.float32)
    options = {"n_masks": 4, "grid": 2, "batch_size": 4, "device": "cpu", "random_state": 0}
    expected = rise_maps(network, images, None, [0], checkpoint_dir=tmp_path, **options)
    entry = sorted(tmp_path.glob("rise-*.npy"))[0]
    np.save(entry, np.array([payload[0]], dtype=object), allow_pickle=True)
    with pytest.warns(UserWarning, match=f"RISE checkpoint .*{entry.name}"):
        again = rise_maps(network, images, None, [0], checkpoint_dir=tmp_path, **options)
    np.testing.assert_array_equal(again, expected)
    assert np.load(entry, allow_pickle=False).dtype == np.float32  # replaced by plain numbers


# ---------------------------------------------------------------- .mat files


def crafted_mat_files(folder, payload):
    """.mat files a crafted download could be: a pickle, an .npy, and HDF5 with pickled bytes."""
    files = {}
    files["pickle"] = folder / "pickle.mat"
    files["pickle"].write_bytes(pickle.dumps({"neural_vecs": payload}))
    files["npy"] = folder / "npy.mat"
    with open(files["npy"], "wb") as stream:
        np.save(stream, np.array([payload], dtype=object), allow_pickle=True)
    files["hdf5"] = folder / "hdf5.mat"
    with h5py.File(files["hdf5"], "w", userblock_size=512) as handle:
        handle["result"] = np.void(pickle.dumps(payload))  # opaque bytes, no MATLAB form
        handle["result"].attrs["Python.Type"] = np.bytes_("builtins.object")
    return files


MAT_KINDS = ("pickle", "npy", "hdf5")


@pytest.mark.parametrize("kind", MAT_KINDS)
@pytest.mark.parametrize("loader", ["read_mat", "load_rdms", "load_results"])
def test_matlab_bridge_refuses_crafted_files(tmp_path, payload, kind, loader):
    import matlab_bridge

    file = crafted_mat_files(tmp_path, payload[0])[kind]
    refused(lambda: getattr(matlab_bridge, loader)(file), file)


@pytest.mark.parametrize("kind", MAT_KINDS)
def test_load_freiwald_tsao_refuses_crafted_files(tmp_path, payload, kind):
    from neural_data import load_freiwald_tsao

    file = crafted_mat_files(tmp_path, payload[0])[kind]
    refused(lambda: load_freiwald_tsao(file), file)


def test_load_freiwald_tsao_reads_object_arrays_as_data_only(tmp_path, payload):
    """A cell array holding pickled bytes is data (uint8), never unpickled, and not responses."""
    from neural_data import load_freiwald_tsao

    file = tmp_path / "neural_vecs_AL.mat"
    cells = np.empty((1, 2), dtype=object)
    cells[0, 0] = np.frombuffer(pickle.dumps(payload[0]), dtype=np.uint8)
    cells[0, 1] = np.zeros((3, 3))
    scipy.io.savemat(file, {"neural_vecs": cells})
    refused(lambda: load_freiwald_tsao(file), file)
