"""Bad input to every subcommand: one line 'rsa-mirror <command>: error: ...', exit 2, no outputs."""

import re

import numpy as np
import pandas as pd
import pytest
import scipy.io

from rsa_mirror.cli import main

UNTRAINED = ["--weights", "untrained", "--device", "cpu"]


@pytest.fixture(scope="module")
def files(tmp_path_factory):
    """A recordings folder, a bad layout table, a good one, a non-.mat file."""
    root = tmp_path_factory.mktemp("cli_inputs")
    rng = np.random.default_rng(0)
    folder = root / "recordings"
    folder.mkdir()
    for patch, n in (("AL", 60), ("AM", 70)):
        scipy.io.savemat(folder / f"neural_vecs_{patch}.mat", {"neural_vecs": rng.poisson(5.0, (125, n)) * 1.0})
    pd.DataFrame({"view": ["frontal"] * 125}).to_csv(root / "no_identity.csv", index=False)
    pd.DataFrame({"identity": np.tile(np.arange(25), 5), "view_deg": np.repeat([-90, -45, 0, 45, 90], 25)}).to_csv(
        root / "rows.csv", index=False
    )
    (root / "notes.mat").write_text("not a MAT file")
    from rsa_mirror import StimulusSet

    images = rng.random((9, 16, 16)).astype(np.float32)
    StimulusSet(images, {"object": np.repeat([0, 1, 2], 3), "view_deg": np.tile([-45.0, 0.0, 45.0], 3)}).save(
        root / "no_category.npz"
    )
    return root


# (argv, pattern the one-line message must match)
CASES = {
    "demo_missing_recordings": (["demo", "--neural", "{root}/nowhere"], r"no recordings at .*nowhere"),
    "demo_stimuli_without_neural": (["demo", "--stimuli", "{root}/x.npz"], r"--stimuli goes with --neural"),
    "demo_layout_without_identity": (
        ["demo", "--neural", "{root}/recordings", "--layout", "{root}/no_identity.csv"],
        r"no_identity\.csv: needs a column 'identity'",
    ),
    "demo_layout_and_order": (
        ["demo", "--neural", "{root}/recordings", "--layout", "{root}/rows.csv", "--order", "identity-major"],
        r"--layout states the whole layout: drop --order",
    ),
    "demo_unknown_view": (["demo", "--neural", "{root}/recordings", "--views", "sideways"], r"Invalid view 'sideways'"),
    "demo_zero_identities": (
        ["demo", "--neural", "{root}/recordings", "--n-identities", "0"],
        r"Invalid value for 'n_identities' \(--n-identities\): expected an integer >= 1, got 0",
    ),
    "demo_layout_options_without_neural": (["demo", "--order", "identity-major"], r"go with --neural"),
    "demo_unknown_patch": (
        ["demo", "--neural", "{root}/recordings", "--patches", "ML"],
        r"no file for patch\(es\) \['ML'\]",
    ),
    "render_zero_exemplars": (["render", "--out", "{out}", "--n-exemplars", "0"], r"'n_exemplars'.*got 0"),
    "render_negative_size": (["render", "--out", "{out}", "--size", "-5"], r"'size'.*got -5"),
    "msvt_zero_batch": (
        ["msvt", "--out", "{out}", *UNTRAINED, "--batch-size", "0", "--n-exemplars", "1"],
        r"'batch_size'",
    ),
    "msvt_zero_exemplars": (["msvt", "--out", "{out}", *UNTRAINED, "--n-exemplars", "0"], r"'n_exemplars'.*got 0"),
    "msvt_unknown_model": (
        ["msvt", "--out", "{out}", "--model", "lenet", *UNTRAINED],
        r"Invalid value for 'name'.*alexnet",
    ),
    "msvt_missing_stimuli": (["msvt", "--out", "{out}", *UNTRAINED, "--stimuli", "{root}/none.npz"], r"none\.npz"),
    "msvt_stimuli_without_category": (
        ["msvt", "--out", "{out}", *UNTRAINED, "--stimuli", "{root}/no_category.npz"],
        r"no_category\.npz: Figure 2 needs the descriptors object, category and view_deg; missing category",
    ),
    "msvt_missing_weights_file": (
        ["msvt", "--out", "{out}", "--weights", "{root}/w.pt"],
        r"no weights file at .*w\.pt",
    ),
    "equivariance_zero_images": (
        ["equivariance", "--out", "{out}", *UNTRAINED, "--images", "noise", "--n-images", "0"],
        r"'n_images'.*got 0",
    ),
    "align_zero_bootstrap": (
        ["align", "--simulate", "--out", "{out}", *UNTRAINED, "--n-bootstrap", "0"],
        r"n_bootstrap",
    ),
    "align_one_bootstrap": (
        ["align", "--simulate", "--out", "{out}", *UNTRAINED, "--n-bootstrap", "1"],
        r"n_bootstrap",
    ),
    "align_zero_splits": (
        ["align", "--simulate", "--out", "{out}", *UNTRAINED, "--n-bootstrap", "4", "--n-splits", "0"],
        r"n_splits",
    ),
    "align_neural_without_stimuli": (["align", "--neural", "{root}/recordings", "--out", "{out}"], r"needs --stimuli"),
    "align_unknown_model": (["align", "--simulate", "--out", "{out}", "--model", "lenet"], r"'name'.*alexnet"),
    "train_zero_epochs": (["train", "--out", "{out}", "--epochs", "0", "--device", "cpu"], r"'epochs'.*got 0"),
    "train_zero_batch": (["train", "--out", "{out}", "--epochs", "1", "--batch-size", "0"], r"'batch_size'.*got 0"),
    "train_zero_per_class": (
        ["train", "--out", "{out}", "--dataset", "rendered", "--n-per-class", "0"],
        r"'n_per_class'.*got 0",
    ),
    "train_negative_lr": (["train", "--out", "{out}", "--epochs", "1", "--lr", "-0.1"], r"'lr'"),
    "importance_zero_masks": (
        ["importance", "--out", "{out}", *UNTRAINED, "--n-masks", "0", "--size", "64"],
        r"'n_masks'.*got 0",
    ),
    "importance_zero_exemplars": (
        ["importance", "--out", "{out}", *UNTRAINED, "--n-exemplars", "0", "--n-masks", "8", "--size", "64"],
        r"'n_exemplars'.*got 0",
    ),
    "importance_unknown_layer": (
        ["importance", "--out", "{out}", *UNTRAINED, "--layer", "fc99", "--n-masks", "8", "--size", "64"],
        r"Invalid layer 'fc99'",
    ),
    "importance_unknown_category": (
        ["importance", "--out", "{out}", *UNTRAINED, "--categories", "ghost", "--n-masks", "8", "--size", "64"],
        r"ghost",
    ),
    "export_missing_recordings": (["export-mat", "--neural", "{root}/nowhere", "--out", "{out}/r.mat"], r"nowhere"),
    "import_missing_file": (["import-mat", "{root}/absent.mat", "--out", "{out}/r.hdf5"], r"absent\.mat"),
    "import_not_a_mat_file": (
        ["import-mat", "{root}/notes.mat", "--out", "{out}/r.hdf5"],
        r"notes\.mat: not a readable",
    ),
}


@pytest.mark.parametrize("name", sorted(CASES))
def test_bad_input_is_one_line_naming_the_problem_and_exit_2(name, files, tmp_path, capsys):
    argv, pattern = CASES[name]
    out = tmp_path / "out"
    argv = [a.format(root=files, out=out) for a in argv]
    assert main(argv) == 2
    captured = capsys.readouterr()
    lines = captured.err.strip().splitlines()
    assert len(lines) == 1 and lines[0].startswith(f"rsa-mirror {argv[0]}: error: "), captured.err
    assert re.search(pattern, lines[0]), lines[0]
    written = [p for p in out.rglob("*") if p.is_file()] if out.exists() else []
    assert not [p for p in written if p.suffix in (".pt", ".png", ".mat", ".hdf5", ".npz")], written


def test_library_argument_names_are_given_as_options(files, tmp_path, capsys):
    assert main(["render", "--out", str(tmp_path), "--n-exemplars", "0"]) == 2
    assert "'n_exemplars' (--n-exemplars)" in capsys.readouterr().err


def test_debug_shows_the_traceback(files, tmp_path):
    with pytest.raises(FileNotFoundError, match="no recordings at"):
        main(["demo", "--neural", str(files / "nowhere"), "--out", str(tmp_path), "--debug"])


def test_argument_errors_of_argparse_exit_2(capsys):
    with pytest.raises(SystemExit) as stop:
        main(["export-mat", "--simulate", "--out", "x.mat", "--format", "v9"])
    assert stop.value.code == 2 and "invalid choice: 'v9'" in capsys.readouterr().err
