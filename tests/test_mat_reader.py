"""One .mat reader (matlab_bridge.read_mat) for the bridge, the recordings and the stimuli; cells keep their shape.

A cell comes back as ``Cell``: a list of the elements in MATLAB's linear (column-major) order
with the cell's ``shape``; ``to_array()`` gives it 2-D again. Checked on files written by scipy,
hdf5storage (v7.3) and GNU Octave (``-v7`` and its own ``-hdf5``).
"""

from pathlib import Path

import numpy as np
import pytest
import scipy.io

from matlab_bridge import Cell, read_mat
from rsa_mirror.stimuli import load_stimuli

ROOT = Path(__file__).parent.parent


def two_by_three():
    cells = np.empty((2, 3), dtype=object)
    for i in range(2):
        for j in range(3):
            cells[i, j] = np.full((1, 1), 10.0 * i + j)
    return cells


def check(cell):
    assert isinstance(cell, Cell) and isinstance(cell, list) and cell.shape == (2, 3)
    assert [float(v[0, 0]) for v in cell] == [0, 10, 1, 11, 2, 12]  # MATLAB's linear order, c{1}, c{2}, ...
    array = cell.to_array()
    assert array.shape == (2, 3) and float(array[1, 2][0, 0]) == 12.0  # c{2, 3}


def test_a_2d_cell_written_by_scipy_stays_2d(tmp_path):
    scipy.io.savemat(tmp_path / "c.mat", {"c": two_by_three(), "row": np.array([["a", "b"]], dtype=object)})
    contents = read_mat(tmp_path / "c.mat")
    check(contents["c"])
    assert contents["row"] == ["a", "b"] and contents["row"].shape == (1, 2)  # a 1 x n cell reads as a list


def test_a_2d_cell_written_as_v73_stays_2d(tmp_path):
    hdf5storage = pytest.importorskip("hdf5storage")
    hdf5storage.savemat(str(tmp_path / "c.mat"), {"c": two_by_three()}, format="7.3", matlab_compatible=True)
    check(read_mat(tmp_path / "c.mat")["c"])


def test_2d_cells_written_by_octave_stay_2d(tmp_path, octave):
    octave("c = {0, 1, 2; 10, 11, 12}; save('-v7', 'c7.mat', 'c'); save('-hdf5', 'c.h5', 'c');", tmp_path)
    for name in ("c7.mat", "c.h5"):
        check(read_mat(tmp_path / name)["c"])


def test_the_stimulus_loader_reads_the_papers_layout_in_any_version(tmp_path):
    hdf5storage = pytest.importorskip("hdf5storage")
    rng = np.random.default_rng(0)
    cells = np.empty((2, 3), dtype=object)
    for i in range(2):
        for j in range(3):
            cells[i, j] = (rng.uniform(0, 1, (6, 5)) * 255).astype(np.uint8)
    names = np.array([["car_01", "face_02"]], dtype=object)
    hdf5storage.savemat(str(tmp_path / "v73.mat"), {"cm_imgs": cells, "names": names}, format="7.3")
    stimuli = load_stimuli(tmp_path / "v73.mat", views_deg=[-45, 0, 45])
    assert stimuli.images.shape == (6, 6, 5)
    np.testing.assert_allclose(stimuli.images[3 + 2], cells[1, 2] / 255.0, atol=1e-6)  # object 2, view 3
    assert list(stimuli.descriptors["object"]) == ["car_01"] * 3 + ["face_02"] * 3


def test_no_other_mat_reader_or_writer():
    """Everything reads through read_mat and writes through write_mat (matlab_bridge/_matfile.py)."""
    for package in ("rsa_mirror", "neural_data", "matlab_bridge"):
        for file in (ROOT / package).rglob("*.py"):
            text = file.read_text()
            if file.name != "_matfile.py":
                assert "loadmat(" not in text and "savemat(" not in text.replace("hdf5storage.savemat", ""), file
