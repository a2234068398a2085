"""The core install at work: recordings -> RDMs -> bootstrap -> .mat, without torch, torchvision, numba, shap.

Run by ``tests/test_packaging.py`` in a process where those cannot be imported, and by ``.ci/run``
in a fresh virtual environment holding ``pip install .`` only (the core, no extras). Prints
``core install: ok`` and exits 0, or fails with the reason.
"""

import sys
import tempfile
from pathlib import Path

import numpy as np

import matlab_bridge
import neural_data
import rsa_mirror
from rsa_mirror.errors import MissingDependencyError
from rsa_mirror.inference import BootstrapResult, bootstrap_compare, split_half_ceiling

recordings = neural_data.simulate_face_patches(random_state=0)
rdms = rsa_mirror.compute_rdms(recordings)
result = bootstrap_compare(rdms, rdms, n_bootstrap=20, random_state=0)
result.ceilings["AL"] = split_half_ceiling(recordings["AL"], n_splits=3, indices=result.indices, name="AL")
with tempfile.TemporaryDirectory() as folder:
    path = matlab_bridge.save_results(Path(folder) / "bootstrap.mat", result)
    back = matlab_bridge.load_results(path)
    matlab_bridge.save_rdms(Path(folder) / "rdms.mat", rdms)
    assert np.array_equal(matlab_bridge.load_rdms(Path(folder) / "rdms.mat").get_vectors(), rdms.get_vectors())
assert isinstance(back, BootstrapResult) and np.array_equal(back.samples, result.samples)
assert np.array_equal(back.indices, result.indices) and back.ceilings["AL"].lower == result.ceilings["AL"].lower

for name in ("load_model", "extract_activations", "rise_maps"):  # torch-backed names say how to get torch
    try:
        getattr(rsa_mirror, name)
    except MissingDependencyError as error:
        assert "pip install rsa_mirror[models]" in str(error), error
    else:
        raise AssertionError(f"rsa_mirror.{name} loaded without torch")
loaded = [name for name in ("torch", "torchvision", "numba", "shap") if name in sys.modules]
assert not loaded, f"imported {loaded}"
print("core install: ok")
