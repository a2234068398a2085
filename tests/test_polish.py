"""What a user meets first: --version, bare rsa-mirror, --help, --quiet, warnings, unknown names, reprs."""

import argparse
import re
import warnings

import numpy as np
import pytest

from rsa_mirror._version import __version__
from rsa_mirror.cli import commands
from rsa_mirror.cli.main import MODEL_NAMES, build_parser, main


def test_version_prints_the_package_version_and_exits_0(capsys):
    with pytest.raises(SystemExit) as stop:
        main(["--version"])
    assert stop.value.code == 0
    assert capsys.readouterr().out == f"rsa-mirror {__version__}\n"


def test_bare_rsa_mirror_prints_help_listing_every_subcommand(capsys):
    assert main([]) == 0
    out = capsys.readouterr().out
    assert out.startswith("usage: rsa-mirror")
    _, by_name = build_parser()
    assert len(by_name) == 15
    for name in by_name:
        assert re.search(rf"^    {re.escape(name)}\b", out, re.MULTILINE), name


def test_every_subcommand_has_a_description_defaults_and_no_rst_markup():
    parser, by_name = build_parser()
    assert "``" not in parser.format_help()
    for name, sub in by_name.items():
        text = sub.format_help()
        assert "``" not in text, name
        assert sub.description and "\n" not in sub.description, name
        # every option whose default is a value (not None, not a flag) shows it
        for action in sub._actions:
            default = action.default
            if not action.option_strings or default in (None, argparse.SUPPRESS) or isinstance(default, bool):
                continue
            if "default" not in (action.help or ""):
                shown = " ".join(map(str, default)) if isinstance(default, list) else str(default)
                assert f"(default: {shown})" in " ".join(text.split()), (name, action.dest)
    align = " ".join(by_name["align"].format_help().split())
    assert "--n-bootstrap N_BOOTSTRAP stimulus bootstrap resamples (default: 1000)" in align
    assert "--seed SEED seed of resampling, simulation and rendering (default: 0)" in align  # 0 is shown
    assert "(default: None)" not in align and "(default: False)" not in align


def test_options_without_a_default_show_none():
    _, by_name = build_parser()
    text = " ".join(by_name["render"].format_help().split())
    assert "--out OUT output folder (created)" in text and "--out OUT output folder (created) (default" not in text


def _fake_render(args):
    """A stand-in command: one progress bar of 5 steps and one warning."""
    from tqdm.auto import tqdm

    for _ in tqdm(range(5), desc="steps", disable=False):
        pass
    warnings.warn("the weights are untrained", UserWarning, stacklevel=1)
    return 0


def test_quiet_turns_off_progress_bars_and_warnings_are_one_line(monkeypatch, capsys, tmp_path):
    from tqdm import std

    init = vars(std.tqdm)["__init__"]
    monkeypatch.setattr(commands, "run_render", _fake_render)
    assert main(["render", "--out", str(tmp_path)]) == 0
    err = capsys.readouterr().err
    assert "steps: 100%" in err  # the bar is there without --quiet
    assert "rsa-mirror: warning: the weights are untrained\n" in err
    assert "test_polish.py" not in err and "UserWarning" not in err  # no source path, no category
    for argv in (["--quiet", "render", "--out", str(tmp_path)], ["render", "--out", str(tmp_path), "--quiet"]):
        assert main(argv) == 0
        err = capsys.readouterr().err
        assert "steps" not in err and "%|" not in err
        assert err == "rsa-mirror: warning: the weights are untrained\n"
    # the command line's formats are left behind: a library warning prints as Python's again
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        warnings.warn("after", UserWarning, stacklevel=1)
    assert "test_polish.py" in warnings.formatwarning(caught[0].message, UserWarning, __file__, 1)
    assert vars(std.tqdm)["__init__"] is init  # tqdm restored after --quiet


def test_quiet_render_writes_no_progress_bar(capsys, tmp_path):
    argv = ["render", "--out", str(tmp_path), "--n-exemplars", "1", "--size", "32"]
    assert main(argv) == 0
    assert "rendering" in capsys.readouterr().err
    assert main([*argv, "--quiet"]) == 0
    captured = capsys.readouterr()
    assert captured.err == "" and "81 images (objects)" in captured.out


@pytest.mark.parametrize("command", ["msvt", "equivariance", "align", "importance"])
def test_unknown_model_lists_the_valid_names(command, capsys, tmp_path):
    argv = [command, "--out", str(tmp_path), "--model", "lenet"] + (["--simulate"] if command == "align" else [])
    assert main(argv) == 2
    err = capsys.readouterr().err
    names = ", ".join(MODEL_NAMES) + (", control" if command == "importance" else "")
    assert (
        err
        == f"rsa-mirror {command}: error: Invalid value for 'name' (--model): expected one of {names}, got 'lenet'\n"
    )


def test_the_cli_model_names_are_the_registered_ones():
    from rsa_mirror.networks.models import PRESETS

    assert MODEL_NAMES == tuple(PRESETS)


@pytest.mark.parametrize(("n_images", "suggested"), [(27, "81"), (100, "81 or 162"), (244, "243 or 324")])
def test_equivariance_objects_refuse_a_count_that_is_not_whole_exemplars(n_images, suggested, capsys, tmp_path):
    argv = ["equivariance", "--out", str(tmp_path), "--weights", "untrained", "--n-images", str(n_images)]
    assert main(argv) == 2
    err = capsys.readouterr().err
    assert f"--n-images {n_images}: the rendered objects come in whole exemplars of 81 images" in err
    assert f"(e.g. {suggested})" in err
    supplement = ["supplement", "equivariance-distribution", "--out", str(tmp_path), "--n-images", str(n_images)]
    assert main(supplement) == 2 and f"--n-images {n_images}" in capsys.readouterr().err


def test_figure3_images_give_the_count_the_command_line_accepts():
    from rsa_mirror.studies.figure3 import figure3_images

    assert len(figure3_images("objects", 81, size=32)) == 81  # a multiple of 81 is used as given
    assert len(figure3_images("noise", 27, size=16)) == 27  # any count of noise images


def test_stimulus_set_repr_is_short_and_gives_count_and_shape():
    from rsa_mirror.stimuli.base import StimulusSet

    images = np.random.default_rng(0).random((200, 3, 64, 64)).astype(np.float32)
    stimuli = StimulusSet(images, {"identity": np.arange(200) % 25, "view_deg": np.repeat(np.arange(8) * 45, 25)})
    text = repr(stimuli)
    assert len(text) < 400
    assert text == "StimulusSet(200 images, shape (200, 3, 64, 64), descriptors identity, view_deg)"
    assert "array(" not in text  # no image values


def test_loaded_model_repr_is_short_and_gives_the_layers():
    from rsa_mirror.networks.models import load_model

    model = load_model("alexnet", weights="untrained")
    text = repr(model)
    n_parameters = sum(p.numel() for p in model.module.parameters())
    assert len(text) < 400 and text.count("\n") <= 2
    assert text.startswith("LoadedModel(alexnet, weights untrained (LeCun normal, seed 0)")
    assert f"{n_parameters / 1e6:.1f}M parameters" in text and "input 227 x 227" in text
    assert f"{len(model.layers)} layers: conv1, conv2" in text and "Conv2d(" not in text


def test_bootstrap_result_repr_is_short_and_gives_the_shapes():
    from rsa_mirror.inference import BootstrapResult

    rng = np.random.default_rng(0)
    result = BootstrapResult(
        estimate=rng.standard_normal((3, 12)),
        samples=rng.standard_normal((3, 12, 1000)),
        indices=rng.integers(0, 125, (1000, 125)),
        brain_names=["MLMF", "AL", "AM"],
        model_names=[f"layer{i}" for i in range(12)],
        method="pearson",
    )
    text = repr(result)
    assert len(text) < 400 and text.startswith("BootstrapResult")
    assert "samples: array (3, 12, 1000) float64" in text and "indices: array (1000, 125) int64" in text


@pytest.mark.parametrize("n_images, nearest", [(27, "81"), (100, "81 or 162"), (244, "243 or 324")])
def test_figure3_images_refuses_objects_that_are_not_whole_exemplars(n_images, nearest):
    from rsa_mirror.errors import InvalidArgumentError
    from rsa_mirror.studies.figure3 import figure3_images

    with pytest.raises(InvalidArgumentError, match=rf"'n_images'.*multiple of 81 \(e.g. {nearest}\), got {n_images}"):
        figure3_images("objects", n_images, size=16)
