"""Bad input to the control networks and the .mat bridge: one clear error, nothing written.

Also: a resume with other data or settings is refused listing each change; another thread
count warns; ``--epochs 0`` writes no network; MATLAB names are checked; tampered result files
are refused; ``n_per_class`` means what it says.
"""

import pickle

import h5py
import numpy as np
import pandas as pd
import pytest
import scipy.io
import torch
from rsatoolbox.rdm import RDMs

from matlab_bridge import MatFormatError, load_rdms, load_results, read_mat, save_rdms, save_results, write_mat
from rsa_mirror.errors import DataError, FileFormatError, InvalidArgumentError, InvalidTypeError
from rsa_mirror.networks.datasets import ImageData, apply_regime, load_dataset, render_training_set
from rsa_mirror.networks.files import load_network, save_network
from rsa_mirror.networks.models import ControlNet
from rsa_mirror.networks.training import TrainResult, train
from rsa_mirror.studies.figure4 import control_msvt


def tiny(n=12, n_classes=3, seed=0, name="digits"):
    """``n`` random images in [0, 1] with labels 0..n_classes-1 in turn."""
    images = torch.rand(n, 3, 32, 32, generator=torch.Generator().manual_seed(seed))
    return ImageData(images, torch.arange(n) % n_classes, n_classes, name)


FAST = {"epochs": 1, "batch_size": 8, "device": "cpu"}


# ---------------------------------------------------------------- training: arguments


@pytest.mark.parametrize(
    ("options", "message"),
    [
        ({"epochs": 0}, r"Invalid value for 'epochs': expected an integer >= 1, got 0"),
        ({"epochs": -2}, r"Invalid value for 'epochs'.*got -2"),
        ({"epochs": 1.5}, r"Invalid value for 'epochs'.*got 1.5"),
        ({"epochs": "3"}, r"Invalid value for 'epochs'.*got '3'"),
        ({"epochs": True}, r"Invalid value for 'epochs'.*got True"),
        ({"batch_size": 0}, r"Invalid value for 'batch_size'.*got 0"),
        ({"halve_every": 0}, r"Invalid value for 'halve_every'.*got 0"),
        ({"lr": 0}, r"Invalid value for 'lr': expected a finite number > 0, got 0"),
        ({"lr": -0.1}, r"Invalid value for 'lr'.*got -0.1"),
        ({"lr": float("nan")}, r"Invalid value for 'lr'.*got nan"),
        ({"lr": float("inf")}, r"Invalid value for 'lr'.*got inf"),
        ({"lr": "0.1"}, r"Invalid value for 'lr'.*got '0.1'"),
        ({"optimizer": "rmsprop"}, r"Invalid value for 'optimizer': expected one of sgd, adam, got 'rmsprop'"),
        ({"regime": "mirrored"}, r"Invalid value for 'regime': expected one of original, .*got 'mirrored'"),
        ({"val_fraction": 1.0}, r"Invalid value for 'val_fraction': expected a number in \[0, 1\).*got 1.0"),
        ({"val_fraction": -0.1}, r"Invalid value for 'val_fraction'.*got -0.1"),
        ({"val_fraction": 0.97}, r"Invalid value for 'val_fraction': .*at least one of the 12 images"),
        ({"random_state": -1}, r"Invalid value for 'random_state': expected an integer >= 0.*got -1"),
        ({"random_state": 0.5}, r"Invalid value for 'random_state'.*got 0.5"),
        ({"random_state": 2**62}, r"Invalid value for 'random_state'.*<= \d+"),
        ({"device": "tpu"}, r"Invalid value for 'device'"),
    ],
)
def test_train_refuses_bad_arguments_before_any_work(tmp_path, options, message):
    checkpoint = tmp_path / "checkpoint.pt"
    with pytest.raises(InvalidArgumentError, match=message):
        train(tiny(), **{**FAST, **options}, checkpoint=checkpoint)
    assert list(tmp_path.iterdir()) == []


def _replace(data, **changes):
    fields = {"images": data.images, "labels": data.labels, "n_classes": data.n_classes, "name": data.name}
    return ImageData(**{**fields, **changes})


@pytest.mark.parametrize(
    ("change", "error", "message"),
    [
        ({"images": torch.rand(12, 1, 32, 32)}, DataError, r"digits: images must be a float tensor \(n, 3, 32, 32\)"),
        ({"images": torch.rand(12, 3, 28, 28)}, DataError, r"images must be .*got \(12, 3, 28, 28\)"),
        ({"images": np.zeros((12, 3, 32, 32))}, DataError, r"images must be a float tensor"),
        ({"images": torch.zeros(12, 3, 32, 32, dtype=torch.uint8)}, DataError, r"images must be a float tensor"),
        ({"images": torch.full((12, 3, 32, 32), 255.0)}, DataError, r"finite and in \[0, 1\]"),
        ({"images": torch.full((12, 3, 32, 32), float("nan"))}, DataError, r"finite and in \[0, 1\]"),
        ({"labels": torch.arange(12) % 3 + 1}, DataError, r"labels must be in \[0, 3\); image 2 has 3"),
        ({"labels": -torch.ones(12, dtype=torch.long)}, DataError, r"labels must be in \[0, 3\); image 0 has -1"),
        ({"labels": torch.zeros(12)}, DataError, r"labels must be an integer tensor"),
        ({"labels": torch.zeros(5, dtype=torch.long)}, DataError, r"labels of shape \(5,\) for 12 images"),
        ({"n_classes": 0}, InvalidArgumentError, r"Invalid value for 'n_classes'.*got 0"),
        ({"name": None}, InvalidTypeError, r"Invalid type for 'data.name': expected a str, got NoneType"),
        ({"images": torch.rand(1, 3, 32, 32), "labels": torch.zeros(1, dtype=torch.long)}, DataError, "at least 2"),
    ],
)
def test_train_refuses_bad_data(tmp_path, change, error, message):
    with pytest.raises(error, match=message):
        train(_replace(tiny(), **change), **FAST, checkpoint=tmp_path / "checkpoint.pt")
    assert list(tmp_path.iterdir()) == []


@pytest.mark.parametrize(
    ("call", "error", "message"),
    [
        (lambda: train("digits", **FAST), InvalidTypeError, r"Invalid type for 'data': expected ImageData.*got str"),
        (lambda: load_dataset("mnist"), InvalidArgumentError, r"Invalid value for 'name'.*got 'mnist'"),
        (lambda: load_dataset("rendered", n_per_class=0), InvalidArgumentError, r"'n_per_class'.*got 0"),
        (lambda: load_dataset("digits", n_per_class=2.5), InvalidArgumentError, r"'n_per_class'.*got 2.5"),
        (lambda: render_training_set(n_per_class=-3), InvalidArgumentError, r"'n_per_class'.*got -3"),
        (lambda: render_training_set(views_per_exemplar=0), InvalidArgumentError, r"'views_per_exemplar'.*got 0"),
        (lambda: ControlNet(0), InvalidArgumentError, r"Invalid value for 'n_classes'.*got 0"),
        (lambda: ControlNet(2.5), InvalidArgumentError, r"Invalid value for 'n_classes'.*got 2.5"),
        (lambda: apply_regime(tiny(), "flipped"), InvalidArgumentError, r"Invalid value for 'regime'.*'flipped'"),
        (lambda: apply_regime(np.zeros(3), "original"), InvalidTypeError, r"'data': expected ImageData.*ndarray"),
        (lambda: save_network("x.pt", ControlNet(2)), InvalidTypeError, r"'result': expected TrainResult.*ControlNet"),
        (
            lambda: control_msvt(ControlNet(2), None),
            InvalidTypeError,
            r"'network': expected TrainResult or LoadedModel",
        ),
    ],
)
def test_training_functions_refuse_bad_arguments(tmp_path, monkeypatch, call, error, message):
    monkeypatch.chdir(tmp_path)
    with pytest.raises(error, match=message):
        call()
    assert list(tmp_path.iterdir()) == []


def test_save_network_and_control_msvt_check_their_options(tmp_path):
    from rsa_mirror.stimuli import render_objects

    result = TrainResult(ControlNet(2), pd.DataFrame(), {"dataset": "tiny"})
    with pytest.raises(InvalidArgumentError, match=r"Invalid value for 'dtype': expected a floating torch dtype"):
        save_network(tmp_path / "net.pt", result, dtype=torch.int8)
    objects = render_objects(categories=("car",), n_exemplars=1, size=32, random_state=0)
    with pytest.raises(InvalidArgumentError, match=r"Invalid value for 'batch_size'.*got 0"):
        control_msvt(result, objects, batch_size=0, device="cpu")
    unlabelled = type(objects)(objects.images, {"view_deg": objects.descriptors["view_deg"]})
    with pytest.raises(InvalidArgumentError, match=r"'stimuli': no descriptor object, category"):
        control_msvt(result, unlabelled, device="cpu")
    assert list(tmp_path.iterdir()) == []


# ---------------------------------------------------------------- training: files


def _write(path, content):
    if isinstance(content, bytes):
        path.write_bytes(content)
    else:
        torch.save(content, path)
    return path


@pytest.mark.parametrize(
    ("content", "message"),
    [
        (b"", r"not a readable torch file \(EOFError"),
        (b"not a torch file at all" * 4, r"cannot be read safely|not a readable torch file"),
        (pickle.dumps({"network": {}}), r"cannot be read safely"),
        ([1, 2, 3], r"not a file of rsa_mirror.training \(no config, network, history\)"),
        ({"config": {}, "history": {}}, r"\(no network\)"),
        ({"config": {}, "network": {"fc3.weight": 1.0}, "history": {}}, r"'network' is not a state dict of tensors"),
        ({"config": {}, "network": {"fc1.weight": torch.zeros(2)}, "history": {}}, r"no 2-D 'fc3.weight'"),
        ({"config": {}, "network": {"fc3.weight": torch.zeros(4, 256)}, "history": {}}, r"does not hold a control"),
        ({"config": [], "network": {"fc3.weight": torch.zeros(4, 256)}, "history": {}}, r"'config' or 'history'"),
    ],
)
def test_load_network_refuses_what_is_not_a_network_file(tmp_path, content, message):
    file = _write(tmp_path / "network.pt", content)
    with pytest.raises(FileFormatError, match=message) as caught:
        load_network(file)
    assert str(file) in str(caught.value)


def test_load_network_of_a_missing_file_or_a_folder_names_it(tmp_path):
    for path in (tmp_path / "absent.pt", tmp_path):
        with pytest.raises(FileNotFoundError, match=f"no network file at {path}"):
            load_network(path)


@pytest.mark.parametrize(
    ("content", "message"),
    [
        (b"\x00" * 30, r"not a readable torch file|cannot be read safely"),
        ({"config": {}}, r"\(no network, optimizer, scheduler, history\)"),
        ({"config": [], "network": {}, "optimizer": {}, "scheduler": {}, "history": []}, "wrong type"),
    ],
)
def test_train_refuses_a_checkpoint_that_is_not_one(tmp_path, content, message):
    file = _write(tmp_path / "checkpoint.pt", content)
    before = file.read_bytes()
    with pytest.raises(FileFormatError, match=message) as caught:
        train(tiny(), **FAST, checkpoint=file)
    assert str(file) in str(caught.value) and file.read_bytes() == before


def test_train_refuses_a_folder_as_checkpoint(tmp_path):
    with pytest.raises(InvalidArgumentError, match=r"Invalid value for 'checkpoint': expected a file, got the folder"):
        train(tiny(), **FAST, checkpoint=tmp_path)


# ---------------------------------------------------------------- resume, fingerprint, threads


def test_resume_with_other_data_is_refused_listing_every_change(tmp_path):
    """`rsa-mirror train` rerun with --n-per-class 4 after 2 used to continue on the other images."""
    checkpoint = tmp_path / "checkpoint.pt"
    first = render_training_set(n_per_class=2, views_per_exemplar=2, random_state=0)
    result = train(first, **FAST, checkpoint=checkpoint)
    assert result.config["n_per_class"] == 2 and len(result.config["data_sha256"]) == 64
    before = checkpoint.read_bytes()
    other = render_training_set(n_per_class=4, views_per_exemplar=2, random_state=0)
    with pytest.raises(InvalidArgumentError, match="written with other settings") as caught:
        train(other, **{**FAST, "epochs": 2}, lr=0.5, checkpoint=checkpoint)
    message = str(caught.value)
    assert str(checkpoint) in message
    assert f"data_sha256: {result.config['data_sha256']} vs " in message
    assert "n_per_class: 2 vs 4" in message and "lr: 0.01 vs 0.5" in message
    assert "batch_size" not in message and "epochs" not in message  # unchanged, or allowed to grow
    assert checkpoint.read_bytes() == before  # the refused run wrote nothing


@pytest.mark.parametrize(
    ("field", "old", "message"),
    [
        ("torch_version", "1.13.0", r"torch_version: 1.13.0 vs "),
        ("device_type", "cuda", r"device_type: cuda vs cpu"),
        ("data_sha256", None, r"data_sha256: \(absent\) vs [0-9a-f]{64}"),
    ],
)
def test_resume_from_another_software_or_an_old_checkpoint_is_refused(tmp_path, field, old, message):
    checkpoint = tmp_path / "checkpoint.pt"
    train(tiny(), **FAST, checkpoint=checkpoint)
    state = torch.load(checkpoint, weights_only=True)
    if old is None:
        del state["config"][field]
    else:
        state["config"][field] = old
    torch.save(state, checkpoint)
    with pytest.raises(InvalidArgumentError, match=message):
        train(tiny(), **{**FAST, "epochs": 2}, checkpoint=checkpoint)


def test_resume_with_another_thread_count_warns_and_records_it(tmp_path):
    threads = torch.get_num_threads()
    checkpoint = tmp_path / "checkpoint.pt"
    try:
        torch.set_num_threads(1)
        first = train(tiny(), **FAST, checkpoint=checkpoint)
        torch.set_num_threads(2)
        with pytest.warns(UserWarning, match="written with 1 CPU threads, this run uses 2.*not be bit-identical"):
            resumed = train(tiny(), **{**FAST, "epochs": 2}, checkpoint=checkpoint)
    finally:
        torch.set_num_threads(threads)
    assert first.config["threads"] == 1 and resumed.config["threads"] == 2
    assert resumed.history["threads"].tolist() == [1, 2]
    pd.testing.assert_frame_equal(resumed.history.iloc[:1], first.history)  # epoch 1 kept as it was


def test_epochs_zero_from_the_command_line_writes_no_network(tmp_path, capsys):
    from rsa_mirror.cli import main

    out = tmp_path / "run"
    assert main(["train", "--dataset", "digits", "--epochs", "0", "--out", str(out)]) == 2
    error = capsys.readouterr().err
    assert error.startswith("rsa-mirror train: error: Invalid value for 'epochs'") and "got 0" in error
    assert not (out / "network.pt").exists() and not (out / "checkpoint.pt").exists()


def test_network_files_hold_plain_values_only_and_round_trip(tmp_path):
    result = train(tiny(), **FAST)
    assert result.config["threads"] == torch.get_num_threads() and result.config["device_type"] == "cpu"
    save_network(tmp_path / "net.pt", result, dtype=torch.float32)
    state = torch.load(tmp_path / "net.pt", weights_only=True)  # no Python objects beyond plain values
    assert state["config"] == result.config
    back = load_network(tmp_path / "net.pt")
    assert all(torch.equal(back.network.state_dict()[k], v) for k, v in result.network.state_dict().items())
    pd.testing.assert_frame_equal(back.history, result.history)


def test_n_per_class_gives_exactly_that_many_images_per_class():
    """It used to round up to whole exemplars (12 -> 20); now the first 12 of each class."""
    twelve = render_training_set(n_per_class=3, views_per_exemplar=2, random_state=0)
    four = render_training_set(n_per_class=4, views_per_exemplar=2, random_state=0)  # whole exemplars
    assert torch.bincount(twelve.labels).tolist() == [3] * 6 and len(twelve) == 18
    keep = torch.cat([torch.arange(4 * k, 4 * k + 3) for k in range(6)])  # first 3 of each class of 4
    assert torch.equal(twelve.images, four.images[keep]) and torch.equal(twelve.labels, four.labels[keep])


# ---------------------------------------------------------------- .mat bridge: writing


@pytest.mark.parametrize(
    ("variables", "options", "message"),
    [
        ({"my var": 1.0}, {}, r"Invalid variable name: expected a MATLAB name.*got 'my var'"),
        ({"1abc": 1.0}, {}, r"Invalid variable name: .*a letter first.*got '1abc'"),
        ({"_x": 1.0}, {}, r"Invalid variable name: .*got '_x'"),
        ({"": 1.0}, {}, r"Invalid variable name: .*got ''"),
        ({"a" * 64: 1.0}, {}, r"Invalid variable name: .*at most 63 characters, got 'a{64}'"),
        ({"x": 1.0, "né": 2.0}, {"format": "v7.3"}, r"Invalid variable name: .*got 'né'"),
        ({"s": {"_f": 1.0, "g": 2.0}}, {}, r"Invalid field name in 's': .*got '_f'"),
        ({"s": {"bad field": 1.0}}, {}, r"Invalid field name in 's': .*got 'bad field'"),
        ({"s": {"inner": {"9lives": 1.0}}}, {}, r"Invalid field name in 's.inner': .*got '9lives'"),
        ({"s": {1: 2.0}}, {}, r"Invalid field name in 's': .*got 1"),
        ({"s": {"f" * 40: 1.0}}, {}, r"'f{40}' has 40 characters, more than 31 \(pass long_field_names=True"),
        ({"c": np.array([{"ok": 1.0}, {"no way": 2.0}], dtype=object)}, {}, r"Invalid field name in 'c\{2\}'"),
        ({"x": 1.0}, {"format": "v6"}, r"Invalid value for 'format': expected one of v7, v7.3, got 'v6'"),
        ({"x": 1.0}, {"long_field_names": "yes"}, r"Invalid value for 'long_field_names'"),
    ],
)
def test_write_mat_refuses_names_matlab_cannot_use(tmp_path, variables, options, message):
    with pytest.raises(InvalidArgumentError, match=message):
        write_mat(tmp_path / "out.mat", variables, **options)
    assert list(tmp_path.iterdir()) == []


def test_write_mat_names_variables_without_a_matlab_form(tmp_path):
    with pytest.raises(InvalidTypeError, match=r"Invalid type for 'variables': expected a mapping.*list"):
        write_mat(tmp_path / "out.mat", [("x", 1.0)])
    with pytest.raises(MatFormatError, match=r"out.mat: variable 'bad' has no MATLAB form"):
        write_mat(tmp_path / "out.mat", {"good": 1.0, "bad": None})
    assert list(tmp_path.iterdir()) == []
    write_mat(tmp_path / "ok.mat", {"s": {"f" * 40: 1.0}}, long_field_names=True)  # MATLAB's 63 allowed
    assert read_mat(tmp_path / "ok.mat")["s"][0]["f" * 40] == 1.0


@pytest.mark.parametrize(
    ("call", "error", "message"),
    [
        (lambda p: save_rdms(p, np.zeros((3, 3))), InvalidTypeError, r"'rdms': expected rsatoolbox RDMs.*ndarray"),
        (lambda p: save_rdms(p, RDMs(np.ones((1, 3))), variable="my RDMs"), InvalidArgumentError, r"'variable'"),
        (lambda p: save_rdms(p, RDMs(np.ones((1, 3))), variable="R" * 60), InvalidArgumentError, r"at most 54"),
        (lambda p: save_rdms(p, RDMs(np.ones((1, 3))), format="v5"), InvalidArgumentError, r"'format'.*'v5'"),
        (lambda p: save_results(p, object()), InvalidTypeError, r"save_results cannot write object"),
        (lambda p: save_results(p, {"x": [1, "a", None]}), InvalidTypeError, r"field 'x' mixes types"),
        (lambda p: save_results(p, {"x": 1.0}, format="v8"), InvalidArgumentError, r"'format'.*'v8'"),
    ],
)
def test_savers_refuse_bad_arguments(tmp_path, call, error, message):
    with pytest.raises(error, match=message):
        call(tmp_path / "out.mat")
    assert list(tmp_path.iterdir()) == []


# ---------------------------------------------------------------- .mat bridge: reading


def test_read_mat_names_the_argument_or_file(tmp_path):
    with pytest.raises(InvalidTypeError, match=r"Invalid type for 'path': expected a str or path, got int"):
        read_mat(3)
    opaque = tmp_path / "opaque.mat"
    with h5py.File(opaque, "w", userblock_size=512) as handle:
        handle["blob"] = np.void(b"\x00\x01binary")
        handle["refs"] = [handle["blob"].ref]
    with pytest.raises(MatFormatError, match=r"opaque.mat: variable 'blob' cannot be read \(a dataset of dtype"):
        read_mat(opaque)


def _rdms_file(path, **info_changes):
    """A save_rdms file of 2 RDMs of 3 stimuli, with its struct or companions changed."""
    rdms = RDMs(np.array([[1.0, 2, 3], [4, 5, 6]]), pattern_descriptors={"identity": np.array([7, 8, 9])})
    save_rdms(path, rdms)
    contents = scipy.io.loadmat(path)
    for name, (field, value) in info_changes.items():
        for element in contents[name].ravel():
            element[field] = value
    scipy.io.savemat(path, {k: v for k, v in contents.items() if not k.startswith("__")})
    return path


@pytest.mark.parametrize(
    ("options", "changes", "error", "message"),
    [
        ({"atol": -1.0}, {}, InvalidArgumentError, r"Invalid value for 'atol': expected a finite number >= 0"),
        ({"atol": float("nan")}, {}, InvalidArgumentError, r"Invalid value for 'atol'.*got nan"),
        ({"atol": "0"}, {}, InvalidArgumentError, r"Invalid value for 'atol'.*got '0'"),
        ({"variable": 3}, {}, InvalidTypeError, r"Invalid type for 'variable': expected a str or None, got int"),
        ({}, {"RDMs": ("color", np.array([[1.0, 0]]))}, MatFormatError, r"RDMs\(1\).color must be 3 numbers"),
        ({}, {"RDMs": ("color", "red")}, MatFormatError, r"RDMs\(1\).color must be 3 numbers \(RGB\), got 'red'"),
        ({}, {"RDMs_patterns": ("identity", np.array([[7.0, 8]]))}, MatFormatError, r"identity has 2 values for .* 3"),
        (
            {},
            {"RDMs_patterns": ("identity", np.array([[7.0, 8.5, 9]]))},
            MatFormatError,
            r"'identity' is listed as int",
        ),
    ],
)
def test_load_rdms_refuses_bad_arguments_and_tampered_files(tmp_path, options, changes, error, message):
    path = _rdms_file(tmp_path / "rdms.mat", **changes)
    with pytest.raises(error, match=message) as caught:
        load_rdms(path, **options)
    assert error is not MatFormatError or "rdms.mat" in str(caught.value)


def _result_file(path, struct):
    write_mat(path, {"result": struct})
    return path


TWO_BY_THREE = {"type": "dict", "data": {"x": np.zeros((1, 5))}, "shapes": {"x": np.array([[2.0, 3.0]])}}


@pytest.mark.parametrize(
    ("struct", "message"),
    [
        (TWO_BY_THREE, r"result.data.x has shape \(1, 5\) in the file, but its shape is recorded as \(2, 3\)"),
        (
            {"type": "dict", "data": {"t": np.array(["a", "b"], dtype=object)}, "shapes": {"t": np.array([[3.0]])}},
            r"result.data.t holds 2 texts, but its shape is recorded as \(3,\)",
        ),
        ({"type": "dict", "data": {"x": 1.0}, "shapes": {"x": "big"}}, r"recorded shape of result.data.x is not"),
        ({"type": "dict", "data": {"x": 1.0}, "shapes": {"x": np.array([[-1.0]])}}, r"is not a list of sizes"),
        ({"type": "Pickle", "data": {}}, r"unknown result type 'Pickle' \(known: table, dict, AlignmentResult"),
        ({"type": "bootstrap_compare", "data": {}}, r"unknown result type 'bootstrap_compare'"),
        ({"type": "dict"}, r"result has no field 'data'"),
        ({"type": 3.0, "data": {}}, r"result.type is not a char"),
        ({"type": "dict", "data": 1.0}, r"result.data is not a struct"),
        (
            {"type": "dict", "data": {}, "keys": np.array([["a", "b", "c"]], dtype=object)},
            r"result.keys is not a K x 2",
        ),
        ({"type": "BootstrapResult", "data": {"estimate": 1.0}}, r"\(BootstrapResult\) has missing field\(s\) brain"),
        (
            {"type": "CeilingResult", "data": {"reliability": 1.0, "name": "AL", "samples": 1.0, "extra": 2.0}},
            r"\(CeilingResult\) has .*unknown field\(s\) extra",
        ),
        (
            {"type": "dict", "data": {"inner": {"type": "Nope", "data": {}}}},
            r"result.data.inner has the unknown result type 'Nope'",
        ),
        (
            {
                "type": "table",
                "data": {"a": np.zeros((1, 2)), "b": np.zeros((1, 3))},
                "shapes": {"a": np.array([[2.0]]), "b": np.array([[3.0]])},
            },
            r"result is not a table \(All arrays must be of the same length\)",
        ),
        ({"type": "table", "data": {"a": np.zeros((2, 2))}}, r"result is not a table"),
        (
            {"type": "dict", "data": {"n": np.array([[1.5]])}, "integers": np.array(["n"], dtype=object)},
            r"result.data.n is recorded as integers but holds other values",
        ),
        ({"kind": "dict"}, r"'result' is not a struct written by save_results \(no field 'type'\)"),
    ],
)
def test_load_results_refuses_tampered_or_unknown_files(tmp_path, struct, message):
    path = _result_file(tmp_path / "result.mat", struct)
    with pytest.raises(MatFormatError, match=message) as caught:
        load_results(path)
    assert "result.mat" in str(caught.value)


def test_load_results_still_reads_what_save_results_writes(tmp_path):
    """The shape check against an independent reshape: C order, MATLAB's dropped singleton axes."""
    values = {"x": np.arange(6.0).reshape(2, 3), "v": np.arange(4), "s": 2.5, "t": np.array(["a", "b"])}
    save_results(tmp_path / "ok.mat", values)
    back = load_results(tmp_path / "ok.mat")
    np.testing.assert_array_equal(back["x"], np.arange(6.0).reshape(2, 3))
    assert back["v"].dtype == np.int64 and back["v"].shape == (4,) and back["s"] == 2.5
    assert back["t"] == ["a", "b"]
