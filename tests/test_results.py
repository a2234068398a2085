"""Every result type travels through the .mat bridge by to_dict()/from_dict() and back equal; reprs are short.

The bridge names no result class: it writes the class's import path and reads through its
``from_dict``; only result classes of rsa_mirror are ever made, and a path that is not one is
refused without being imported.
"""

import numpy as np
import pandas as pd
import pytest
import torch
from rsatoolbox.rdm import RDMs

from matlab_bridge import MatFormatError, load_results, save_results, write_mat
from rsa_mirror import compute_rdms, compute_view_rdms
from rsa_mirror.inference import bootstrap_compare, split_half_ceiling
from rsa_mirror.networks.models import ControlNet
from rsa_mirror.networks.training import TrainResult
from rsa_mirror.projection_symmetry import ProjectionSymmetryResult
from rsa_mirror.results import Result, result_types
from rsa_mirror.shapley import mirror_components, shapley_decomposition
from rsa_mirror.studies.demo import DemoResult
from rsa_mirror.studies.figure2 import MsvtResult
from rsa_mirror.studies.figure3 import EquivarianceResult
from rsa_mirror.studies.figure4 import ControlExperiment, ControlResult
from rsa_mirror.studies.figure5 import ImportanceResult
from rsa_mirror.studies.figure6 import brain_alignment
from rsa_mirror.studies.patches import patch_study
from rsa_mirror.studies.recovery import RecoveryResult
from rsa_mirror.studies.supplements import NormalizationResult, PoolingResult, ShiftResult
from rsa_mirror.studies.supplements_reflection import (
    CategoryInvarianceResult,
    EquivarianceDistributionResult,
    WeightSymmetryResult,
)
from rsa_mirror.symmetry import msvt_by_object


def assert_same(a, b, where="result"):
    """Recursive equality: types, dtypes, shapes and values (tables, RDMs, networks, nested results)."""
    if isinstance(a, Result):
        assert type(b) is type(a), where
        da, db = a.to_dict(), b.to_dict()
        assert list(da) == list(db), where
        for key in da:
            assert_same(da[key], db[key], f"{where}.{key}")
    elif isinstance(a, pd.DataFrame):
        pd.testing.assert_frame_equal(b, a, obj=where)
    elif isinstance(a, RDMs):
        np.testing.assert_array_equal(b.dissimilarities, a.dissimilarities, err_msg=where)
        assert b.rdm_descriptors["name"] == a.rdm_descriptors["name"], where
    elif isinstance(a, dict):
        assert isinstance(b, dict) and list(map(str, a)) == list(b), where
        for key in a:
            assert_same(a[key], b[str(key)], f"{where}[{key!r}]")
    elif isinstance(a, np.ndarray):
        assert isinstance(b, np.ndarray) and b.dtype == a.dtype and b.shape == a.shape, (where, b)
        np.testing.assert_array_equal(b, a, err_msg=where)
    elif isinstance(a, list):
        assert list(b) == [str(v) if isinstance(v, str) else v for v in a], where
    elif isinstance(a, float) and np.isnan(a):
        assert np.isnan(b), where
    else:
        assert b == a and type(b) is type(a), (where, a, b)


@pytest.fixture(scope="module")
def results(simulated):
    brains = compute_rdms(simulated)
    comparison = bootstrap_compare(brains, brains, n_bootstrap=12, random_state=0)
    ceiling = split_half_ceiling(simulated["AL"], n_splits=4, indices=comparison.indices, name="AL")
    comparison.ceilings["AL"] = ceiling
    rng = np.random.default_rng(0)
    f_x, f_gx = rng.standard_normal((125, 20)), rng.standard_normal((125, 20))
    shapley = shapley_decomposition({"fc": mirror_components(f_x, f_gx)}, brains, indices=comparison.indices[:4])
    activations = {"conv": rng.standard_normal((125, 12)), "fc": rng.standard_normal((125, 8))}
    mirror = {layer: values[::-1].copy() for layer, values in activations.items()}
    alignment = brain_alignment(activations, mirror, simulated, n_bootstrap=5, n_splits=2, random_state=0)
    units, maps = {"car_00": np.array([3, 1])}, {"car_00": rng.random((3, 4, 4)).astype(np.float32)}
    tables = {
        "tuning": pd.DataFrame({"object": ["car_00"], "unit": [3], "response": [0.5]}),
        "similarity": pd.DataFrame({"object": ["car_00"], "threshold": [0.5], "r_insertion": [np.nan]}),
        "msvt": pd.DataFrame({"object": ["car_00"], "images": ["original"], "msvt": [0.25]}),
    }
    importance = ImportanceResult("fc6", units, maps, {"car_00": 0.1}, maps, **tables, ranking="released")
    torch.manual_seed(0)
    history = pd.DataFrame({"epoch": [1, 2], "lr": [1e-3, 1e-3], "val_accuracy": [0.5, 0.75], "threads": [2, 2]})
    config = {"dataset": "digits", "regime": "original", "seed": 0, "lr": 1e-3, "n_per_class": 20, "ok": True}
    training = TrainResult(ControlNet(3).eval(), history, config)
    patches = patch_study(simulated)
    descriptors = {"object": np.repeat(["a", "b"], 5), "view_deg": np.tile([-90.0, -45.0, 0.0, 45.0, 90.0], 2)}
    view_rdms = compute_view_rdms({"conv1": rng.standard_normal((10, 7))}, descriptors=descriptors)
    table = msvt_by_object(view_rdms).rename(columns={"name": "layer"})
    layers = MsvtResult({"net": table}, {"net": view_rdms}, {"net": "untrained (LeCun normal, seed 0)"})
    equivariance = EquivarianceResult(
        {"net, noise": pd.DataFrame({"layer": ["conv1"], "mean": [0.2], "n_images": [4]})}
    )
    control = ControlResult(training, table)
    experiment = ControlExperiment(table.assign(seed=0), history.assign(seed=0), {"digits, original, seed 0": training})
    demo = DemoResult(patches, layers, alignment)
    projection = ProjectionSymmetryResult(
        pd.DataFrame({"object": ["a", "a"], "view_deg": [-45.0, 45.0], "score": [0.5, 0.5], "axis_px": [3.5, 4.0]}),
        table,
        np.array([0.0, 15.0]),
    )
    nets = {"net": "untrained (LeCun normal, seed 0)"}
    per_object = table.assign(network="net", category="x")
    per_image = pd.DataFrame({"network": ["net"] * 2, "layer": "fc6", "image": [0, 1], "r": [0.5, np.nan]})
    supplements = {
        "PoolingResult": PoolingResult(per_object.assign(representation="conv1 GAP"), nets),
        "NormalizationResult": NormalizationResult(per_object.assign(normalize="none"), nets),
        "ShiftResult": ShiftResult(per_object.assign(shift_y=15, shift_x=-15), nets),
        "EquivarianceDistributionResult": EquivarianceDistributionResult(per_image.assign(measure="invariance"), nets),
        "CategoryInvarianceResult": CategoryInvarianceResult(per_image.assign(category="face"), nets),
        "WeightSymmetryResult": WeightSymmetryResult(per_image.rename(columns={"image": "unit"}), nets),
    }
    recovery = pd.DataFrame({"noise_sd": [0.5, 8.0], "seed": 0, "source_layer": "fc6", "best_layer": ["fc6", "fc7"]})
    recovery = recovery.assign(recovered=[True, False], r_source=[0.9, 0.1], q_source_vs_best=[0.01, np.nan])
    supplements["RecoveryResult"] = RecoveryResult(recovery, ["fc6", "fc7"], 100, 200, 20, 0.05)
    return {
        **supplements,
        "BootstrapResult": comparison,
        "CeilingResult": ceiling,
        "ShapleyResult": shapley,
        "AlignmentResult": alignment,
        "ImportanceResult": importance,
        "TrainResult": training,
        "PatchResult": patches,
        "MsvtResult": layers,
        "EquivarianceResult": equivariance,
        "ControlResult": control,
        "ControlExperiment": experiment,
        "DemoResult": demo,
        "ProjectionSymmetryResult": projection,
        "index table": patches.by_identity,
    }


@pytest.mark.parametrize(
    "kind",
    [
        "BootstrapResult",
        "CeilingResult",
        "ShapleyResult",
        "AlignmentResult",
        "ImportanceResult",
        "TrainResult",
        "PatchResult",
        "MsvtResult",
        "EquivarianceResult",
        "ControlResult",
        "ControlExperiment",
        "DemoResult",
        "ProjectionSymmetryResult",
        "index table",
        "PoolingResult",
        "NormalizationResult",
        "ShiftResult",
        "EquivarianceDistributionResult",
        "CategoryInvarianceResult",
        "WeightSymmetryResult",
        "RecoveryResult",
    ],
)
def test_every_result_round_trips_through_the_bridge(tmp_path, results, kind):
    result = results[kind]
    save_results(tmp_path / "r.mat", result)
    back = load_results(tmp_path / "r.mat")
    assert_same(result, back)
    if isinstance(result, Result):
        assert_same(result, type(result).from_dict(result.to_dict()))  # from_dict(to_dict()) without a file
    if kind == "TrainResult":
        x = torch.rand(2, 3, 32, 32)
        with torch.no_grad():
            assert torch.equal(back.network(x), result.network(x))


def test_result_reprs_are_a_few_lines(results):
    for kind, result in results.items():
        if isinstance(result, Result):
            text = repr(result)
            assert text.startswith(kind) and 2 <= len(text.splitlines()) <= 12, text


def test_the_file_names_the_class_and_the_bridge_names_none(tmp_path, results):
    import scipy.io

    save_results(tmp_path / "a.mat", results["AlignmentResult"])
    raw = scipy.io.loadmat(tmp_path / "a.mat")["result"][0, 0]
    assert raw["class"][0] == "rsa_mirror.studies.figure6.AlignmentResult"
    assert raw["data"][0, 0]["comparison"][0, 0]["class"][0] == "rsa_mirror.inference.BootstrapResult"
    source = (__import__("pathlib").Path(__file__).parent.parent / "matlab_bridge" / "results.py").read_text()
    for module in ("inference", "shapley", "studies", "networks", "importance"):
        assert f"rsa_mirror.{module}" not in source.split('"""', 2)[2]  # no analysis module named in the code
    assert {"BootstrapResult", "CeilingResult", "ShapleyResult", "AlignmentResult"} <= set(result_types())


@pytest.mark.parametrize(
    ("name", "message"),
    [
        ("os.system", r"is not the import path of an rsa_mirror result"),
        ("rsa_mirror.cli.__main__.main", r"is not the import path of an rsa_mirror result"),
        ("rsa_mirror.inference.bootstrap_compare", r"is not a result class of rsa_mirror"),
        ("rsa_mirror.nowhere.BootstrapResult", r"cannot be imported"),
        ("rsa_mirror.shapley.ShapleyResult", r"does not match its type 'BootstrapResult'"),
    ],
)
def test_only_result_classes_of_rsa_mirror_are_made(tmp_path, name, message):
    write_mat(tmp_path / "x.mat", {"result": {"type": "BootstrapResult", "class": name, "data": {"estimate": 1.0}}})
    with pytest.raises(MatFormatError, match=message):
        load_results(tmp_path / "x.mat")


def test_objects_that_are_not_rsa_mirror_results_are_refused(tmp_path, simulated):
    with pytest.raises(TypeError, match="save_results cannot write RDMs"):
        save_results(tmp_path / "x.mat", compute_rdms(simulated))
